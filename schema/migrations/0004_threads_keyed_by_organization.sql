-- Threads keyed by (organization_id, id) in a WITHOUT ROWID table. Every read and write of
-- a thread names its organization, and every list page is a range of ids within one, so
-- the table itself now serves what the rowid table, its automatic index on id and
-- threads_by_organization served before: two b-trees fewer for each insert to update
-- (the writer's profile had the insert at a third of a create's instructions). The
-- remaining indexes name (organization_id, id) last, as before, which is the key here.

CREATE TABLE threads_keyed (
    id                   TEXT NOT NULL,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    agent_id             TEXT NOT NULL REFERENCES agents (id),
    agent_version_id     TEXT NOT NULL REFERENCES agent_versions (id),
    to_phone_number      TEXT NOT NULL DEFAULT '',
    from_phone_number    TEXT,
    from_phone_number_id TEXT,
    lead_id              TEXT,
    is_active            INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    closed_reason        TEXT,
    metadata             TEXT,   -- JSON object text exactly as serialized at write time, or NULL
    variables            TEXT,
    PRIMARY KEY (organization_id, id)
) STRICT, WITHOUT ROWID;

INSERT INTO threads_keyed (id, organization_id, agent_id, agent_version_id, to_phone_number,
                           from_phone_number, from_phone_number_id, lead_id, is_active,
                           created_at, updated_at, closed_at, closed_reason, metadata, variables)
SELECT id, organization_id, agent_id, agent_version_id, to_phone_number, from_phone_number,
       from_phone_number_id, lead_id, is_active, created_at, updated_at, closed_at,
       closed_reason, metadata, variables
  FROM threads;

DROP TABLE threads;  -- and with it every index of 0002
ALTER TABLE threads_keyed RENAME TO threads;

CREATE INDEX threads_by_agent ON threads (organization_id, agent_id, id);
CREATE INDEX threads_by_activity ON threads (organization_id, is_active, id);
CREATE INDEX threads_by_closed_reason ON threads (organization_id, closed_reason, id);
CREATE INDEX threads_by_to_phone_number ON threads (organization_id, to_phone_number, id);
