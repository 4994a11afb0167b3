-- Up Migration
-- What a package delivers besides (or instead of) files: its kind and the kind's settings (one
-- JSON object the kind's own schema checks, kinds/), license keys for software, and the text the
-- store and the editor show. Each kind keeps its own rows (seats, credentials, keys) in tables of
-- its own migrations.
ALTER TABLE packages
  ADD COLUMN kind text NOT NULL DEFAULT 'files' CHECK (kind IN ('files', 'access', 'event', 'support')),
  ADD COLUMN kind_settings jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN license_settings jsonb,                 -- NULL: no license keys
  ADD COLUMN description text NOT NULL DEFAULT '';

-- Down Migration
ALTER TABLE packages DROP COLUMN description, DROP COLUMN license_settings, DROP COLUMN kind_settings, DROP COLUMN kind;
