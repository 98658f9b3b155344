-- Messages of web chat threads (contract section 9); the same as SQLite's migration 0007.
--
-- A thread's messages have one order, the order of commit: `sequence` is taken from the
-- thread's `last_sequence` under the thread's row lock, so two replicas posting to one
-- thread at once get 1 and 2 in the order they commit. Message ids (UUIDv7 made by
-- different processes) are only looked up, never compared.
--
-- Every post, close and expiry notifies channel `threadsd_threads` with the payload
-- "<organization_id> <thread_id> <sequence>" or "... closed", which wakes the live streams
-- other replicas hold; the store stays the truth (they also poll). A close notifies in its
-- own transaction; a post right after it, in a transaction that does not wait for the disk
-- (PgStore::notify_posted says why).

ALTER TABLE threads ADD COLUMN last_sequence bigint NOT NULL DEFAULT 0;
ALTER TABLE threads ADD COLUMN window_started_at bigint NOT NULL DEFAULT 0;
-- Threads made before messages existed start their window at the upgrade (as on SQLite).
UPDATE threads
   SET window_started_at = greatest(created_at, (extract(epoch FROM now()) * 1000)::bigint);

CREATE INDEX threads_by_window ON threads (window_started_at) WHERE is_active = 1;

CREATE TABLE messages (
    organization_id uuid NOT NULL,
    thread_id       uuid NOT NULL,
    sequence        bigint NOT NULL,
    id              uuid NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('INBOUND', 'OUTBOUND')),
    body            text NOT NULL,   -- messageBody as a JSON string literal, quotes included
    created_at      bigint NOT NULL,
    PRIMARY KEY (organization_id, thread_id, sequence),
    FOREIGN KEY (organization_id, thread_id) REFERENCES threads (organization_id, id)
);

CREATE UNIQUE INDEX messages_by_id ON messages (organization_id, thread_id, id);
CREATE INDEX messages_by_direction ON messages (organization_id, thread_id, direction, sequence);
