-- Up Migration
-- The PayPal intake's bookkeeping on paypal_messages: the key a repeat of the same message shares
-- (ipn_track_id, webhook event id, ...), and the normalised notification that was signalled.

ALTER TABLE paypal_messages ADD COLUMN dedupe_key text;
ALTER TABLE paypal_messages ADD COLUMN notification jsonb;

CREATE INDEX paypal_messages_dedupe_idx ON paypal_messages (dedupe_key);
-- At most one copy of a message is ever routed to its invoice workflow.
CREATE UNIQUE INDEX paypal_messages_routed_once ON paypal_messages (dedupe_key) WHERE outcome = 'routed';

-- Down Migration
DROP INDEX paypal_messages_routed_once;
DROP INDEX paypal_messages_dedupe_idx;
ALTER TABLE paypal_messages DROP COLUMN notification;
ALTER TABLE paypal_messages DROP COLUMN dedupe_key;
