-- Up Migration
-- Event seats (package kind 'event', kinds/event-seats.ts). A seat is one purchased unit of an
-- event package: claimed when the payment is checked (or given by the delivery when an operator
-- approves a sale past the capacity), revoked by a refund or reversal, checked in once at the door.
-- The unique (invoice, package, unit) makes a claim repeated after a crash claim nothing new.
CREATE TABLE event_seats (
  id              bigserial PRIMARY KEY,
  invoice_id      bigint NOT NULL REFERENCES invoices (id),
  package_id      bigint NOT NULL REFERENCES packages (id),
  unit            integer NOT NULL CHECK (unit > 0),       -- 1..quantity of the invoice's item
  claimed_at      timestamptz NOT NULL DEFAULT now(),
  claimed_by      text NOT NULL CHECK (claimed_by IN ('payment', 'delivery')), -- 'delivery': an operator approved it
  revoked_at      timestamptz,
  revoked_reason  text CHECK (revoked_reason IN ('refunded', 'reversed')),
  checked_in_at   timestamptz,
  checked_in_by   text,
  UNIQUE (invoice_id, package_id, unit)
);
CREATE INDEX event_seats_package_idx ON event_seats (package_id);

-- One ticket per seat and key generation. Its key is derived like a download key (the secret, the
-- generation's salt, the seat, the generation) and only its SHA-256 is kept. Regenerating keys
-- issues new tickets and marks the older ones replaced, so the old links and codes stop working;
-- the check-in stays on the seat, so a new ticket cannot get a seat in twice.
CREATE TABLE event_tickets (
  seat_id      bigint NOT NULL REFERENCES event_seats (id),
  generation   integer NOT NULL CHECK (generation > 0),
  key_hash     bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
  created_at   timestamptz NOT NULL DEFAULT now(),
  replaced_at  timestamptz,
  PRIMARY KEY (seat_id, generation)
);

-- Down Migration
DROP TABLE event_tickets;
DROP TABLE event_seats;
