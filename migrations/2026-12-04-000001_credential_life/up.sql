-- Credentials end when the decision to end them is made.

-- A session unused for `SESSION_IDLE_MINUTES` ends, besides its absolute expiry. Written at
-- most once a minute per session, so that reads don't all turn into writes.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- A token may be made to expire; `NULL` never does.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;

-- Idempotency keys belong to a user and to the credential that was checked before the key was
-- looked at: a session or an API token. Ending the session (sign-out, password change, a
-- reset or disable by an admin) deletes its keys with it; a revoked or expired token no longer
-- authenticates, so its keys can't be reached. The stored answers of the table this replaces
-- were keyed by a hash of whatever cookie came along and held one-time secrets (new API
-- tokens) in plain text: they are deleted, not carried over.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id BIGINT REFERENCES sessions (id) ON DELETE CASCADE,
    api_token_id BIGINT REFERENCES api_tokens (id) ON DELETE CASCADE,
    key TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path, content type and body: the same key with another request
    -- is refused, not answered with the other request's response.
    fingerprint BYTEA NOT NULL CHECK (octet_length(fingerprint) = 32),
    -- A row without a status is a request still being worked on.
    status SMALLINT,
    content_type TEXT,
    location TEXT,
    body BYTEA,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_one_credential CHECK (num_nonnulls(session_id, api_token_id) = 1)
);
CREATE UNIQUE INDEX idempotency_keys_session_key ON idempotency_keys (session_id, key)
    WHERE session_id IS NOT NULL;
CREATE UNIQUE INDEX idempotency_keys_token_key ON idempotency_keys (api_token_id, key)
    WHERE api_token_id IS NOT NULL;
CREATE INDEX idempotency_keys_user_id_idx ON idempotency_keys (user_id);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
