-- Up Migration
-- PayPal Checkout (Orders v2): one row per checkout the store or a seller's button started, so the
-- buyer's return (?token=<order id>), the JS buttons' capture call and CHECKOUT.ORDER.APPROVED find
-- its workflow. Lines and prices are copied from packages when the order is created: what PayPal
-- was asked to charge. An abandoned checkout stays a row here and never becomes an invoice.
CREATE TABLE checkouts (
  id           bigserial PRIMARY KEY,
  ref          text NOT NULL UNIQUE,
  order_id     text UNIQUE,
  capture_id   text,
  status       text NOT NULL DEFAULT 'creating'
               CHECK (status IN ('creating', 'created', 'approved', 'captured', 'pending', 'declined', 'abandoned', 'failed')),
  lines        jsonb NOT NULL,
  currency     text NOT NULL,
  total        numeric(12, 2) NOT NULL,
  payer_email  text,
  detail       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkouts_capture_id ON checkouts (capture_id) WHERE capture_id IS NOT NULL;

-- A REST answer (a capture, a refund, an order looked up) is kept raw like every PayPal message.
ALTER TABLE paypal_messages DROP CONSTRAINT paypal_messages_channel_check;
ALTER TABLE paypal_messages ADD CONSTRAINT paypal_messages_channel_check CHECK (channel IN ('ipn', 'webhook', 'pdt', 'poll', 'rest'));

-- Down Migration
ALTER TABLE paypal_messages DROP CONSTRAINT paypal_messages_channel_check;
ALTER TABLE paypal_messages ADD CONSTRAINT paypal_messages_channel_check CHECK (channel IN ('ipn', 'webhook', 'pdt', 'poll'));
DROP TABLE checkouts;
