-- Up Migration
-- Signed checksums (kinds/signed-checksums.ts): one keyed link per key generation of an invoice to
-- its SHA256SUMS and SHA256SUMS.minisig. Only the link key's SHA-256 is kept; the worker and the
-- thank-you page derive the key itself. The link has no state of its own: whether it works is
-- read from its invoice and its generation's download keys (revoked, expired) on every request.
CREATE TABLE checksum_links (
  key_hash    bytea PRIMARY KEY CHECK (octet_length(key_hash) = 32),
  invoice_id  bigint NOT NULL,
  generation  integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (invoice_id, generation),
  FOREIGN KEY (invoice_id, generation) REFERENCES key_generations (invoice_id, generation)
);

-- Down Migration
DROP TABLE checksum_links;
