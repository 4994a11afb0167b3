-- Up Migration
-- License keys (kinds/license-keys.ts): one row per key, one key per purchased unit of a package
-- whose license_settings are set. Postgres keeps each key's SHA-256, never a key: the worker and
-- the api derive keys from KEY_SECRET and the row (random keys) or sign the stored payload (signed
-- keys). A reissued key is a new row with the next serial; the old one stays, revoked.
CREATE TABLE license_keys (
  id             bigserial PRIMARY KEY,
  invoice_id     bigint NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
  package_id     bigint NOT NULL REFERENCES packages(id),
  unit           integer NOT NULL CHECK (unit >= 1),        -- which purchased unit (1..quantity)
  serial         integer NOT NULL CHECK (serial >= 1),      -- 1, then one more per reissue of the unit
  format         text NOT NULL CHECK (format IN ('random', 'signed')),
  version        text NOT NULL,
  payload        text,                                      -- a signed key's payload (not secret: the buyer's program reads it); NULL for random keys
  key_hash       bytea NOT NULL UNIQUE,
  key_tail       text NOT NULL,                             -- the end of the key, so an operator can tell keys apart in the admin
  issued_at      timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz,                               -- NULL: perpetual
  revoked_at     timestamptz,
  revoked_reason text CHECK (revoked_reason IN ('refunded', 'reversed', 'admin', 'reissued')),
  UNIQUE (invoice_id, package_id, unit, serial),
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
  CHECK ((format = 'signed') = (payload IS NOT NULL))
);
CREATE INDEX license_keys_package ON license_keys (package_id, issued_at DESC);

-- Down Migration
DROP TABLE license_keys;
