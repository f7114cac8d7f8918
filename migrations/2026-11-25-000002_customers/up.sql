-- Customers and the audit trail of every change.

-- Trigram indexes make the case-insensitive partial search (ILIKE '%…%') fast.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE customers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    email TEXT CHECK (char_length(email) <= 254),
    -- E.164, e.g. +14155550123
    phone TEXT CHECK (phone ~ '^\+[1-9][0-9]{5,14}$'),
    whatsapp TEXT CHECK (whatsapp ~ '^\+[1-9][0-9]{5,14}$'),
    -- IANA name, e.g. Europe/Berlin
    timezone TEXT NOT NULL DEFAULT 'UTC',
    notes TEXT NOT NULL DEFAULT '' CHECK (char_length(notes) <= 5000),
    sms_opt_out BOOLEAN NOT NULL DEFAULT FALSE,
    whatsapp_opt_out BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    archived_at TIMESTAMPTZ
);
SELECT diesel_manage_updated_at('customers');

-- The list order (name, then id) and its keyset pagination, for active and archived lists.
CREATE INDEX customers_active_order_idx ON customers (lower(name), id) WHERE archived_at IS NULL;
CREATE INDEX customers_archived_order_idx ON customers (lower(name), id) WHERE archived_at IS NOT NULL;
-- Search over name, email and phone numbers.
CREATE INDEX customers_name_trgm_idx ON customers USING gin (name gin_trgm_ops);
CREATE INDEX customers_email_trgm_idx ON customers USING gin (email gin_trgm_ops);
CREATE INDEX customers_phone_trgm_idx ON customers USING gin (phone gin_trgm_ops);
CREATE INDEX customers_whatsapp_trgm_idx ON customers USING gin (whatsapp gin_trgm_ops);
CREATE INDEX customers_created_by_idx ON customers (created_by);

-- Who did what to which record, and when. `changes` holds the fields changed, before and after.
CREATE TABLE audit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    customer_id BIGINT REFERENCES customers (id) ON DELETE CASCADE,
    changes JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id);
