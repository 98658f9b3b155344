-- Clerk organizations mapped to threadsd organizations (`threadsd clerk map`). A bearer
-- token acts for the threadsd organization its Clerk organization is mapped to; an
-- unmapped Clerk organization is refused. A change moves the catalog generation, so a
-- running server sees it with the next request.

CREATE TABLE clerk_organizations (
    clerk_organization_id TEXT PRIMARY KEY NOT NULL,
    organization_id       TEXT NOT NULL REFERENCES organizations (id),
    created_at            INTEGER NOT NULL
) STRICT;

CREATE TRIGGER clerk_organizations_inserted AFTER INSERT ON clerk_organizations
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER clerk_organizations_updated AFTER UPDATE ON clerk_organizations
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
CREATE TRIGGER clerk_organizations_deleted AFTER DELETE ON clerk_organizations
BEGIN UPDATE catalog_generation SET generation = generation + 1; END;
