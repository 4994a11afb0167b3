-- Up Migration
-- What the invoice workflow needs beyond the base model.

-- One row per key generation of an invoice. A download key is HMAC(KEY_SECRET, salt, file,
-- generation): Postgres holds only the salt and each key's SHA-256, so a copy of the database
-- alone yields no key, while the worker (which holds the secret) can send the same keys again
-- (resend, reminder, a retried delivery) instead of issuing new ones.
CREATE TABLE key_generations (
  invoice_id  bigint NOT NULL REFERENCES invoices (id),
  generation  integer NOT NULL CHECK (generation > 0),
  salt        bytea NOT NULL CHECK (octet_length(salt) = 16),
  purpose     text NOT NULL,                 -- delivery, regenerate
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (invoice_id, generation)
);

-- A package's other e-mails (how to get support, a licence text, ...), sent once per invoice
-- after delivery. Subject and bodies use the same {{name}} template format as mail-templates/.
CREATE TABLE package_notifications (
  id          bigserial PRIMARY KEY,
  package_id  bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  name        text NOT NULL,
  subject     text NOT NULL,
  text_body   text NOT NULL,
  html_body   text,
  position    integer NOT NULL DEFAULT 0,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (package_id, name)
);

CREATE INDEX download_keys_invoice_generation_idx ON download_keys (invoice_id, generation);

-- Down Migration
DROP INDEX download_keys_invoice_generation_idx;
DROP TABLE package_notifications;
DROP TABLE key_generations;
