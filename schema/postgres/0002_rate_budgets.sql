-- Rate limits counted for the whole deployment: each replica leases a share of a key's
-- budget for the current one-second window of the database's clock (PgStore::
-- lease_rate_budget). One row per limited key, rewritten each window, so the table stays
-- as small as the number of keys with a limit.
--
-- UNLOGGED: a count of requests in the current second is not worth a WAL record or an
-- fsync, and after a crash the table comes back empty, which only starts the current
-- window's count again.

CREATE UNLOGGED TABLE rate_budgets (
    key_id        text PRIMARY KEY,    -- an API key's id, or a bearer token's user
    window_second bigint NOT NULL,     -- the window: seconds since the epoch, the server's clock
    claimed       bigint NOT NULL      -- requests claimed in that window by every replica
);
