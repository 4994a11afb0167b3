-- Up Migration
-- The data model of DESIGN.md. Money is numeric, never float; times are timestamptz.

CREATE TABLE packages (
  id               bigserial PRIMARY KEY,
  item_number      text NOT NULL UNIQUE,          -- PayPal's item_number: how a payment names the package
  name             text NOT NULL,
  currency         char(3) NOT NULL,
  price            numeric(12, 2) NOT NULL CHECK (price >= 0),
  key_ttl_seconds  integer CHECK (key_ttl_seconds > 0),   -- NULL: KEY_TTL from the configuration
  download_limit   integer CHECK (download_limit > 0),    -- NULL: unlimited
  reminder_hours   integer DEFAULT 24 CHECK (reminder_hours > 0), -- NULL: no expiry reminder
  self_service     boolean NOT NULL DEFAULT false,        -- buyers may get a fresh link themselves
  support_text     text NOT NULL DEFAULT '',
  active           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE package_files (
  id            bigserial PRIMARY KEY,
  package_id    bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  name          text NOT NULL,                  -- what the buyer sees and saves as
  storage_path  text NOT NULL,                  -- relative to FILES_DIR
  size_bytes    bigint NOT NULL CHECK (size_bytes >= 0),
  md5           char(32) NOT NULL,
  sha256        char(64) NOT NULL,
  content_type  text NOT NULL DEFAULT 'application/octet-stream',
  position      integer NOT NULL DEFAULT 0,
  active        boolean NOT NULL DEFAULT true,  -- inactive files are kept for old invoices
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (package_id, name)
);

CREATE TABLE accounts (
  id               bigserial PRIMARY KEY,
  email            text NOT NULL,
  paypal_payer_id  text,
  first_name       text,
  last_name        text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));
CREATE INDEX accounts_payer_id_idx ON accounts (paypal_payer_id);

CREATE SEQUENCE invoice_number_seq START 1001;

CREATE TABLE invoices (
  id              bigserial PRIMARY KEY,
  number          text NOT NULL UNIQUE,                 -- human invoice number, e.g. KS-001001
  txn_id          text NOT NULL UNIQUE,                 -- PayPal transaction (capture) id
  workflow_id     text NOT NULL UNIQUE,
  account_id      bigint REFERENCES accounts (id),
  status          text NOT NULL,
  payment_status  text,                                 -- PayPal's last payment_status
  pending_reason  text,
  payer_email     text NOT NULL,
  currency        char(3) NOT NULL,
  amount          numeric(12, 2) NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  paid_at         timestamptz,
  fulfilled_at    timestamptz,
  keys_expire_at  timestamptz,
  closed_at       timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_account_idx ON invoices (account_id);
CREATE INDEX invoices_created_idx ON invoices (created_at);
CREATE INDEX invoices_payer_email_idx ON invoices (lower(payer_email));
CREATE INDEX invoices_status_idx ON invoices (status);

CREATE TABLE invoice_items (
  invoice_id   bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  package_id   bigint NOT NULL REFERENCES packages (id),
  item_number  text NOT NULL,
  item_name    text,
  quantity     integer NOT NULL CHECK (quantity > 0),
  amount       numeric(12, 2),
  PRIMARY KEY (invoice_id, package_id)
);

-- Every message PayPal sent, stored raw before anything else happens.
CREATE TABLE paypal_messages (
  id                   bigserial PRIMARY KEY,
  channel              text NOT NULL CHECK (channel IN ('ipn', 'webhook', 'pdt', 'poll')),
  received_at          timestamptz NOT NULL DEFAULT now(),
  remote_addr          text,
  headers              jsonb NOT NULL DEFAULT '{}',
  raw_body             bytea NOT NULL,
  charset              text,
  fields               jsonb,                      -- parsed and decoded
  txn_id               text,
  parent_txn_id        text,
  event_id             text,                       -- webhook event id, IPN ipn_track_id
  payment_status       text,
  verification         text NOT NULL DEFAULT 'unverified'
                       CHECK (verification IN ('unverified', 'verified', 'invalid', 'error')),
  verification_detail  text,
  outcome              text NOT NULL DEFAULT 'received'
                       CHECK (outcome IN ('received', 'routed', 'rejected', 'duplicate', 'retry')),
  outcome_detail       text,
  workflow_id          text,
  invoice_id           bigint REFERENCES invoices (id),
  processed_at         timestamptz
);
CREATE INDEX paypal_messages_txn_idx ON paypal_messages (txn_id);
CREATE INDEX paypal_messages_parent_txn_idx ON paypal_messages (parent_txn_id);
CREATE INDEX paypal_messages_event_idx ON paypal_messages (event_id);
CREATE INDEX paypal_messages_invoice_idx ON paypal_messages (invoice_id);
CREATE INDEX paypal_messages_received_idx ON paypal_messages (received_at);

-- Only the SHA-256 of a key is kept; the key itself exists in the e-mail and the buyer's hands.
CREATE TABLE download_keys (
  id               bigserial PRIMARY KEY,
  invoice_id       bigint NOT NULL REFERENCES invoices (id),
  package_file_id  bigint NOT NULL REFERENCES package_files (id),
  key_hash         bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
  generation       integer NOT NULL DEFAULT 1,       -- regenerate makes generation + 1
  expires_at       timestamptz NOT NULL,
  revoked_at       timestamptz,
  revoked_reason   text,
  download_limit   integer,
  download_count   integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (invoice_id, package_file_id, generation)
);

-- Every outgoing e-mail, as sent.
CREATE TABLE notifications (
  id            bigserial PRIMARY KEY,
  invoice_id    bigint REFERENCES invoices (id),
  account_id    bigint REFERENCES accounts (id),
  kind          text NOT NULL,                 -- delivery, pending, reminder, review_alert, ...
  dedupe_key    text NOT NULL UNIQUE,          -- the same e-mail is never sent twice
  to_address    text NOT NULL,
  from_address  text NOT NULL,
  subject       text NOT NULL,
  headers       jsonb NOT NULL DEFAULT '{}',
  text_body     text,
  html_body     text,
  message_id    text,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  error         text,
  attempts      integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz
);
CREATE INDEX notifications_invoice_idx ON notifications (invoice_id);
CREATE INDEX notifications_status_idx ON notifications (status);

CREATE TABLE download_events (
  id               bigserial PRIMARY KEY,
  download_key_id  bigint REFERENCES download_keys (id),
  invoice_id       bigint REFERENCES invoices (id),
  started_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  remote_addr      text,
  user_agent       text,
  range_header     text,
  status_code      integer,
  bytes_sent       bigint NOT NULL DEFAULT 0,
  completed        boolean NOT NULL DEFAULT false,
  counted          boolean NOT NULL DEFAULT false  -- whether it used up one download
);
CREATE INDEX download_events_key_idx ON download_events (download_key_id);
CREATE INDEX download_events_invoice_idx ON download_events (invoice_id);

-- Down Migration
DROP TABLE download_events, notifications, download_keys, paypal_messages, invoice_items, invoices, accounts, package_files, packages;
DROP SEQUENCE invoice_number_seq;
