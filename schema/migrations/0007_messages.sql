-- Messages of web chat threads (contract section 9).
--
-- A thread's messages have one order, the order of commit: `sequence` 1, 2, 3... taken from
-- the thread's `last_sequence` under the single writer, which is SQLite's row lock. Lists,
-- streams and resumption all use it; a message id (UUIDv7) is only looked up, never
-- compared, since ids made by different processes are not in commit order.
--
-- `window_started_at` is when the thread's conversation window began: its last inbound
-- message, or its creation. The partial index serves the server's sweep for ended windows
-- and holds open threads only.

ALTER TABLE threads ADD COLUMN last_sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE threads ADD COLUMN window_started_at INTEGER NOT NULL DEFAULT 0;
-- Threads made before messages existed start their window now, at the upgrade, rather than
-- at their creation: an upgrade must not close every open thread older than the window.
UPDATE threads
   SET window_started_at = max(created_at,
                               CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

CREATE INDEX threads_by_window ON threads (window_started_at) WHERE is_active = 1;

CREATE TABLE messages (
    organization_id TEXT NOT NULL,
    thread_id       TEXT NOT NULL,
    sequence        INTEGER NOT NULL,
    id              TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('INBOUND', 'OUTBOUND')),
    body            TEXT NOT NULL,   -- messageBody as a JSON string literal, quotes included
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, thread_id, sequence),
    FOREIGN KEY (organization_id, thread_id) REFERENCES threads (organization_id, id)
) STRICT, WITHOUT ROWID;

-- A cursor or a Last-Event-ID names a message by id: one lookup gives its sequence.
CREATE UNIQUE INDEX messages_by_id ON messages (organization_id, thread_id, id);
-- A page filtered by direction (or by status, which follows from it), and a stream's
-- catch-up on outbound messages: one range scan each.
CREATE INDEX messages_by_direction ON messages (organization_id, thread_id, direction, sequence);
