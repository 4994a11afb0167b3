-- Up Migration
-- Support logins (package kind 'support'): each row is one credential, from the seller's pool
-- (uploaded, waiting to be given) or generated for a buyer. A row is given at most once: claiming
-- sets invoice_id and unit, and nothing ever clears them again, so a pool credential that was given
-- (and later revoked) is never given to another buyer. SQL: db/support-credentials.ts.
CREATE TABLE support_credentials (
  id              bigserial PRIMARY KEY,
  package_id      bigint NOT NULL REFERENCES packages (id),
  source          text NOT NULL CHECK (source IN ('pool', 'generated')),
  login           text NOT NULL CHECK (login <> ''),    -- or the whole token, when password is NULL
  password        text CHECK (password <> ''),          -- NULL: a single token per line
  added_at        timestamptz NOT NULL DEFAULT now(),
  invoice_id      bigint REFERENCES invoices (id),
  unit            integer CHECK (unit >= 1),             -- which purchased unit of the item (1..quantity)
  claimed_at      timestamptz,
  revoked_at      timestamptz,
  revoked_reason  text CHECK (revoked_reason IN ('refunded', 'reversed')),
  CHECK ((invoice_id IS NULL) = (unit IS NULL) AND (invoice_id IS NULL) = (claimed_at IS NULL)),
  CHECK (source = 'pool' OR invoice_id IS NOT NULL),
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
  CHECK (revoked_at IS NULL OR invoice_id IS NOT NULL),
  -- Idempotent per invoice and unit: a delivery that runs again finds its rows instead of taking more.
  UNIQUE (invoice_id, package_id, unit)
);
-- A login is in a package's pool once, whatever its case (given, revoked or waiting).
CREATE UNIQUE INDEX support_credentials_login_idx ON support_credentials (package_id, lower(login));
-- What is left to give, in upload order.
CREATE INDEX support_credentials_free_idx ON support_credentials (package_id, id) WHERE invoice_id IS NULL;

-- An invoice held for review because its package's pool was empty when the payment was checked:
-- the buyer is told their login is coming (once), and the thank-you page says so, until filled.
CREATE TABLE support_credential_waits (
  invoice_id  bigint NOT NULL REFERENCES invoices (id),
  package_id  bigint NOT NULL REFERENCES packages (id),
  missing     integer NOT NULL CHECK (missing > 0),
  noticed_at  timestamptz NOT NULL DEFAULT now(),
  filled_at   timestamptz,
  PRIMARY KEY (invoice_id, package_id)
);

-- Down Migration
DROP TABLE support_credential_waits;
DROP TABLE support_credentials;
