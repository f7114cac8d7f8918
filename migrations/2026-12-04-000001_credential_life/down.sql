DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    principal BYTEA NOT NULL CHECK (octet_length(principal) = 32),
    key TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    fingerprint BYTEA NOT NULL CHECK (octet_length(fingerprint) = 32),
    status SMALLINT,
    content_type TEXT,
    location TEXT,
    body BYTEA,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE sessions DROP COLUMN last_seen_at;
