-- The demo organization, seeded when a store is created (unless --no-demo): enough agents
-- to try every shape of the thread object from the curl lines in README.md and docs/api.md.

INSERT INTO organizations (id, name, created_at) VALUES
    ('0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60', 'Demo organization', 1764633600000);

INSERT INTO agents (id, organization_id, name, description, agent_type, deleted) VALUES
    -- TEXT + PROMPT, with a description and sms settings; version 2 is the published one.
    ('3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01', '0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60',
     'Support bot', 'Answers product questions over web chat', 'TEXT', 0),
    -- CALL + FLOW, null description and null sms settings.
    ('3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e02', '0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60',
     'Front desk voice agent', NULL, 'CALL', 0),
    -- TEXT + FLOW.
    ('3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e03', '0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60',
     'Appointment booker', 'Books and reschedules appointments', 'TEXT', 0),
    -- No published version yet: creating a thread for it is a 409.
    ('3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e04', '0b7c6c8e-5d0a-4c1e-9a57-2f1d3e4a5b60',
     'Draft agent', 'Still being written', 'TEXT', 0);

INSERT INTO agent_versions (id, agent_id, version, name, mode, sms_max_tokens, sms_temperature,
                            discard_inbound_sms, published) VALUES
    ('7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e11', '3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01',
     1, 'v1', 'PROMPT', 128, 0.5, 0, 0),
    ('7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e12', '3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01',
     2, 'v2 friendlier tone', 'PROMPT', 256, 0.7, 0, 1),
    ('7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e21', '3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e02',
     1, 'Reception flow', 'FLOW', NULL, NULL, 1, 1),
    ('7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e31', '3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e03',
     3, 'Booking flow', 'FLOW', 64, NULL, 0, 1),
    ('7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e41', '3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e04',
     1, 'First draft', 'PROMPT', NULL, 1.0, 0, 0);
