-- Up Migration
-- A buyer's request for their library (every purchase of their e-mail address), one row per form
-- sent, whatever the answer: the log abuse is judged from, and the per-address e-mail limit's count.
-- When the address has purchases the row also holds its single-use link: the salt the link is
-- derived from (so a retried send carries the same link) and the link's SHA-256, never the link.
CREATE TABLE library_links (
  id               bigserial PRIMARY KEY,
  email            text NOT NULL,                 -- as typed; matched to invoices.payer_email case-insensitively
  status           text NOT NULL CHECK (status IN ('no_purchases', 'limited', 'pending', 'sent', 'failed')),
  invoice_count    integer NOT NULL DEFAULT 0,
  salt             bytea CHECK (octet_length(salt) = 16),
  token_hash       bytea UNIQUE CHECK (octet_length(token_hash) = 32),
  remote_addr      text,
  user_agent       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,                   -- when a send that has not gone out is tried again
  error            text,
  sent_at          timestamptz,
  used_at          timestamptz,
  used_addr        text,
  CHECK ((status IN ('pending', 'sent', 'failed')) = (token_hash IS NOT NULL))
);
CREATE INDEX library_links_email_idx ON library_links (lower(email), created_at);
CREATE INDEX library_links_retry_idx ON library_links (next_attempt_at) WHERE status IN ('pending', 'failed');
-- The admin shows an address's library e-mails on each of its invoices.
CREATE INDEX notifications_library_to_idx ON notifications (lower(to_address)) WHERE kind = 'library';

-- Down Migration
DROP INDEX notifications_library_to_idx;
DROP TABLE library_links;
