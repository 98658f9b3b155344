-- The PostgreSQL store's schema, equal in meaning to SQLite's after its migration 0006.
--
-- Ids are uuid: their order is the order of their lower-case text, so a list cursor (the
-- last id of a page) walks the same pages in both stores. metadata and variables are
-- text, not jsonb: jsonb reorders keys and drops repeated ones, and an answer must be
-- byte for byte what SQLite gives. Flags are smallint 0/1, as in SQLite, so that one demo
-- seed and one copy of rows serve both stores.

CREATE TABLE organizations (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_at bigint NOT NULL
);

CREATE TABLE api_keys (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name            text NOT NULL,
    prefix          text NOT NULL,           -- the visible start of the key, for operators
    secret_hash     bytea NOT NULL UNIQUE,   -- SHA-256 of the whole key; never the key
    created_at      bigint NOT NULL,
    revoked_at      bigint,
    rate_limit      bigint CHECK (rate_limit IS NULL OR rate_limit > 0)
);

CREATE TABLE agents (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name            text NOT NULL,
    description     text,
    agent_type      text NOT NULL CHECK (agent_type IN ('CALL', 'TEXT')),
    deleted         smallint NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);

CREATE TABLE agent_versions (
    id                  uuid PRIMARY KEY,
    agent_id            uuid NOT NULL REFERENCES agents (id),
    version             bigint NOT NULL,
    name                text NOT NULL,
    mode                text NOT NULL CHECK (mode IN ('FLOW', 'PROMPT')),
    sms_max_tokens      double precision,
    sms_temperature     double precision,
    discard_inbound_sms smallint NOT NULL DEFAULT 0 CHECK (discard_inbound_sms IN (0, 1)),
    published           smallint NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    UNIQUE (agent_id, version)
);

CREATE UNIQUE INDEX agent_versions_one_published ON agent_versions (agent_id) WHERE published = 1;

CREATE TABLE clerk_organizations (
    clerk_organization_id text PRIMARY KEY,
    organization_id       uuid NOT NULL REFERENCES organizations (id),
    created_at            bigint NOT NULL
);

-- Keyed by organization first, like SQLite's WITHOUT ROWID table: every page of a list
-- is one range scan of the key or of the index made for its filter.
CREATE TABLE threads (
    organization_id      uuid NOT NULL REFERENCES organizations (id),
    id                   uuid NOT NULL,
    agent_id             uuid NOT NULL REFERENCES agents (id),
    agent_version_id     uuid NOT NULL REFERENCES agent_versions (id),
    to_phone_number      text NOT NULL DEFAULT '',
    from_phone_number    text,
    from_phone_number_id text,
    lead_id              text,
    is_active            smallint NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at           bigint NOT NULL,
    updated_at           bigint NOT NULL,
    closed_at            bigint,
    closed_reason        text,
    metadata             text,   -- JSON object text exactly as serialized at write time
    variables            text,
    PRIMARY KEY (organization_id, id)
);

CREATE INDEX threads_by_agent ON threads (organization_id, agent_id, id);
CREATE INDEX threads_by_activity ON threads (organization_id, is_active, id);
CREATE INDEX threads_by_closed_reason ON threads (organization_id, closed_reason, id);
CREATE INDEX threads_by_to_phone_number ON threads (organization_id, to_phone_number, id);

-- The catalog generation moves in the same transaction as any change to keys, agents,
-- versions or Clerk mappings (a row, not a sequence: a sequence is not transactional), and
-- a notification tells the other processes to look at once.
CREATE TABLE catalog_generation (
    id         integer PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL
);

INSERT INTO catalog_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION bump_catalog_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
    PERFORM pg_notify('threadsd_catalog', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();
CREATE TRIGGER agents_changed AFTER INSERT OR UPDATE OR DELETE ON agents
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();
CREATE TRIGGER agent_versions_changed AFTER INSERT OR UPDATE OR DELETE ON agent_versions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();
CREATE TRIGGER clerk_organizations_changed AFTER INSERT OR UPDATE OR DELETE ON clerk_organizations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();
