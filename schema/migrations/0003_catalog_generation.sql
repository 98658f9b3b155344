-- A counter that moves whenever API keys, agents or agent versions change, by anyone: the
-- server's CLI in another process, an import, or an operator's sqlite3 shell. The server
-- keeps keys and agents in memory and reads this one row per request to know they are
-- still current (PRAGMA data_version would also move on every thread the server writes).

CREATE TABLE catalog_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) STRICT;

INSERT INTO catalog_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER api_keys_inserted AFTER INSERT ON api_keys
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;

CREATE TRIGGER agents_inserted AFTER INSERT ON agents
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER agents_updated AFTER UPDATE ON agents
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER agents_deleted AFTER DELETE ON agents
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;

CREATE TRIGGER agent_versions_inserted AFTER INSERT ON agent_versions
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER agent_versions_updated AFTER UPDATE ON agent_versions
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER agent_versions_deleted AFTER DELETE ON agent_versions
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
