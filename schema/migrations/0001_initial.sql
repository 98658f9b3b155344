-- The first schema: organizations own API keys and agents; agents have versions, at most
-- one of them published; threads are bound to the version published when they were made.
-- Ids are canonical lower-case UUID text; times are unix milliseconds (UTC).

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,          -- the visible start of the key, for operators
    secret_hash     BLOB NOT NULL UNIQUE,   -- SHA-256 of the whole key; the key itself is never stored
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
) STRICT;

CREATE TABLE agents (
    id              TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    description     TEXT,
    agent_type      TEXT NOT NULL CHECK (agent_type IN ('CALL', 'TEXT')),
    deleted         INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
) STRICT;

CREATE TABLE agent_versions (
    id                  TEXT PRIMARY KEY NOT NULL,
    agent_id            TEXT NOT NULL REFERENCES agents (id),
    version             INTEGER NOT NULL,
    name                TEXT NOT NULL,
    mode                TEXT NOT NULL CHECK (mode IN ('FLOW', 'PROMPT')),
    sms_max_tokens      REAL,
    sms_temperature     REAL,
    discard_inbound_sms INTEGER NOT NULL DEFAULT 0 CHECK (discard_inbound_sms IN (0, 1)),
    published           INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    UNIQUE (agent_id, version)
) STRICT;

-- At most one published version per agent, enforced by the store itself.
CREATE UNIQUE INDEX agent_versions_one_published ON agent_versions (agent_id) WHERE published = 1;

CREATE TABLE threads (
    id                   TEXT PRIMARY KEY NOT NULL,
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
    variables            TEXT
) STRICT;
