-- Invoices of customers, each with its receipt (always a PDF) in the object store.
CREATE TABLE invoices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Customers are archived, never deleted; RESTRICT keeps receipts from being orphaned.
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    number TEXT NOT NULL DEFAULT '' CHECK (char_length(number) <= 64),
    -- Exact: minor units (cents) of `currency`, never a float.
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    issued_on DATE NOT NULL,
    notes TEXT NOT NULL DEFAULT '' CHECK (char_length(notes) <= 5000),
    -- Generated, never derived from the uploaded name.
    receipt_key TEXT NOT NULL UNIQUE,
    receipt_sha256 BYTEA NOT NULL CHECK (octet_length(receipt_sha256) = 32),
    receipt_size BIGINT NOT NULL CHECK (receipt_size > 0),
    receipt_pages INTEGER NOT NULL CHECK (receipt_pages > 0),
    receipt_original_name TEXT NOT NULL CHECK (char_length(receipt_original_name) <= 255),
    receipt_original_type TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('invoices');
-- A customer's invoices, newest first, and their totals per currency.
CREATE INDEX invoices_customer_idx ON invoices (customer_id, issued_on DESC, id DESC);
CREATE INDEX invoices_created_by_idx ON invoices (created_by);
