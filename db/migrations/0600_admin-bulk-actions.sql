-- Up Migration
-- The bulk actions started from the admin pages or JSON API (workflows/bulk-*.ts), so a package's
-- page lists them; their progress lives in the workflow (the bulkProgress query).
CREATE TABLE bulk_actions (
  id           bigserial PRIMARY KEY,
  workflow_id  text NOT NULL UNIQUE,
  kind         text NOT NULL CHECK (kind IN ('bulkExtendKeys', 'bulkNewVersion')),
  package_id   bigint NOT NULL REFERENCES packages (id),
  days         integer NOT NULL CHECK (days > 0),
  note         text,
  started_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bulk_actions_package_idx ON bulk_actions (package_id, created_at);

-- Down Migration
DROP TABLE bulk_actions;
