-- Up Migration
-- The access-link kind (kinds/access.ts): one keyed link per invoice, package and key generation,
-- which redirects to the package's target (a web-cast, a stream, a course) inside its window.
-- Only the link's SHA-256 is kept; the worker and the thank-you page derive the link itself.
CREATE TABLE access_links (
  id              bigserial PRIMARY KEY,
  invoice_id      bigint NOT NULL REFERENCES invoices (id),
  package_id      bigint NOT NULL REFERENCES packages (id),
  generation      integer NOT NULL CHECK (generation > 0),
  key_hash        bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
  -- The generation's key expiry: the end of a "key lifetime" window (extend moves it).
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz,
  revoked_reason  text,                          -- regenerated, refunded, reversed
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (invoice_id, package_id, generation)
);

-- Every request for a known link, let through or refused, like download_events.
CREATE TABLE access_events (
  id              bigserial PRIMARY KEY,
  access_link_id  bigint NOT NULL REFERENCES access_links (id),
  invoice_id      bigint NOT NULL REFERENCES invoices (id),
  at              timestamptz NOT NULL DEFAULT now(),
  remote_addr     text,
  user_agent      text,
  status_code     integer NOT NULL,
  outcome         text NOT NULL                  -- redirected, or why not (not_open, ended, revoked, suspended, unpaid)
);
CREATE INDEX access_events_invoice_idx ON access_events (invoice_id);
CREATE INDEX access_events_link_idx ON access_events (access_link_id);

-- Down Migration
DROP TABLE access_events, access_links;
