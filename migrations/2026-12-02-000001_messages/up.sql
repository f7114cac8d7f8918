-- Scheduled SMS and WhatsApp messages. PostgreSQL is the source of truth: a Redis job only
-- says when to look at a row, and the row decides whether anything is sent.
CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    -- The customer's number for the channel when the message was scheduled (E.164).
    recipient TEXT NOT NULL CHECK (recipient ~ '^\+[1-9][0-9]{5,14}$'),
    -- The text; empty when a WhatsApp template is sent instead.
    body TEXT NOT NULL DEFAULT '' CHECK (char_length(body) <= 1600),
    template_sid TEXT CHECK (template_sid ~ '^HX[0-9a-f]{32}$'),
    template_variables JSONB,
    send_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN (
        'scheduled', 'sending', 'sent', 'delivered', 'undelivered', 'read', 'failed', 'canceled', 'unknown'
    )),
    -- Why it failed, was canceled or is unknown, in words.
    status_reason TEXT,
    -- When the provider last reported on it.
    status_at TIMESTAMPTZ,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    provider_message_id TEXT UNIQUE,
    -- Bumped on every edit and resend: a job for an older version does nothing.
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- The last job pushed for this version (NULL when Redis was down): the reconciler re-pushes
    -- a due message whose job Redis no longer holds.
    job_id TEXT,
    -- The claim of a worker that is sending it: who and until when.
    claimed_by TEXT,
    lease_until TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((body = '') = (template_sid IS NOT NULL)),
    CHECK (template_sid IS NULL OR channel = 'whatsapp')
);
SELECT diesel_manage_updated_at('messages');

-- A customer's messages, latest send time first.
CREATE INDEX messages_customer_idx ON messages (customer_id, send_at DESC, id DESC);
-- The agenda across customers, by send time.
CREATE INDEX messages_send_at_idx ON messages (send_at, id);
-- Due messages for the reconciler, and archiving's cancelation.
CREATE INDEX messages_scheduled_idx ON messages (send_at) WHERE status = 'scheduled';
-- Claims whose lease ran out (a worker died while sending).
CREATE INDEX messages_sending_idx ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_created_by_idx ON messages (created_by);

-- WhatsApp templates offered in the schedule form (approved in Twilio's console first).
CREATE TABLE message_templates (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
    content_sid TEXT NOT NULL UNIQUE CHECK (content_sid ~ '^HX[0-9a-f]{32}$'),
    -- The names of its variables, in order ({{1}}, {{2}}, … in Twilio's template).
    variables TEXT[] NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Provider callbacks already handled (Twilio's I-Twilio-Idempotency-Token), so a repeat is ignored.
CREATE TABLE webhook_deliveries (
    token TEXT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at);
