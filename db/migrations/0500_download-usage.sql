-- Up Migration
-- Keyed downloads (api/downloads.ts). Downloads are counted in bytes, so that resuming with Range
-- costs nothing extra and splitting a file into ranges saves nothing: each key is charged the
-- bytes it is sent, and a key with download_limit N may send its file N times over.
ALTER TABLE download_keys ADD COLUMN bytes_charged bigint NOT NULL DEFAULT 0 CHECK (bytes_charged >= 0);

-- Who moved the bytes: the api itself, or nginx after an X-Accel-Redirect (then bytes_sent is the
-- length handed to nginx, and nginx's access log holds what really left).
ALTER TABLE download_events ADD COLUMN served_by text NOT NULL DEFAULT 'api' CHECK (served_by IN ('api', 'nginx'));
-- Why a request for a known key was refused (expired, exhausted, revoked, unpaid, missing_file).
ALTER TABLE download_events ADD COLUMN refused text;

-- A buyer's request for a fresh link, from the page an expired, used-up, revoked or unknown key
-- shows. Operators work through the open ones; self-service renewals are recorded here too.
CREATE TABLE link_requests (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('operator', 'self_service')),
  email            text NOT NULL,
  invoice_ref      text,                 -- what the buyer typed: invoice number or PayPal transaction id
  message          text,
  key_problem      text,                 -- expired, exhausted, revoked, unpaid, unknown
  download_key_id  bigint REFERENCES download_keys (id),
  invoice_id       bigint REFERENCES invoices (id),
  remote_addr      text,
  user_agent       text,
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'renewed', 'refused', 'closed')),
  status_detail    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  handled_at       timestamptz
);
CREATE INDEX link_requests_open_idx ON link_requests (created_at) WHERE status = 'open';
CREATE INDEX link_requests_invoice_idx ON link_requests (invoice_id, created_at);

-- Down Migration
DROP TABLE link_requests;
ALTER TABLE download_events DROP COLUMN refused;
ALTER TABLE download_events DROP COLUMN served_by;
ALTER TABLE download_keys DROP COLUMN bytes_charged;
