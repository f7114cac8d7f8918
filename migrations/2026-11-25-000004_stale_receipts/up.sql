-- Receipt files that no invoice points to, waiting to be removed from the object store.
--
-- A key is recorded *before* its file is written (due an hour later: the upload's time to be
-- claimed) and is claimed, in the same transaction that inserts the invoice, by deleting its
-- row here. A replaced or deleted invoice's key is recorded, due at once, in the transaction
-- that lets go of it. So a file is never left behind, whatever fails (the store, the database,
-- the process), and a file an invoice points to is never removed. The API removes files right
-- away when it can; a sweep in every API process retries the rest.
CREATE TABLE stale_receipts (
    key TEXT PRIMARY KEY,
    due_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX stale_receipts_due_idx ON stale_receipts (due_at);
