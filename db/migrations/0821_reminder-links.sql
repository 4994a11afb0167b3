-- Up Migration
-- The one-click "more time" links in expiry reminders: one per reminder, single-use, valid until the
-- invoice's workflow run closes. Only the link's SHA-256 is kept; the worker derives the link itself.
CREATE TABLE reminder_links (
  token_hash   bytea PRIMARY KEY,
  invoice_id   bigint NOT NULL REFERENCES invoices (id),
  generation   integer NOT NULL,
  expires_at   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  used_at      timestamptz,
  -- What the click did: renewed (self-service), requested (a fresh-link request for a person).
  outcome      text CHECK (outcome IN ('renewed', 'requested')),
  outcome_detail text
);
CREATE INDEX reminder_links_invoice_idx ON reminder_links (invoice_id);

-- Down Migration
DROP TABLE reminder_links;
