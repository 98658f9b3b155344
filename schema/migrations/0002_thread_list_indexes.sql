-- Indexes for GET /api/v1/threads: every page is a range scan ordered by id (UUIDv7, so
-- creation order) within one organization, with at most one equality filter in front.
-- createdAfter/createdBefore and the cursor are bounds on id, so they need no column.

CREATE INDEX threads_by_organization ON threads (organization_id, id);
CREATE INDEX threads_by_agent ON threads (organization_id, agent_id, id);
CREATE INDEX threads_by_activity ON threads (organization_id, is_active, id);
CREATE INDEX threads_by_closed_reason ON threads (organization_id, closed_reason, id);
CREATE INDEX threads_by_to_phone_number ON threads (organization_id, to_phone_number, id);
