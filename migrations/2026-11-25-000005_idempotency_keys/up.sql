-- Answers to POST requests sent with an `Idempotency-Key`, so that a retried request (a script
-- whose connection dropped, an upload over a flaky link) gets the first answer again instead
-- of doing the work twice. Keys belong to the credential that sent them (stored as SHA-256) and
-- are kept for a day. A row without a status is a request still being worked on.
CREATE TABLE idempotency_keys (
    principal BYTEA NOT NULL CHECK (octet_length(principal) = 32),
    key TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path, content type and body: the same key with another request
    -- is refused, not answered with the other request's response.
    fingerprint BYTEA NOT NULL CHECK (octet_length(fingerprint) = 32),
    status SMALLINT,
    content_type TEXT,
    location TEXT,
    body BYTEA,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
