DROP TABLE login_attempts;

CREATE TABLE login_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);
CREATE INDEX login_failures_client_ip_idx ON login_failures (client_ip, failed_at);
CREATE INDEX login_failures_failed_at_idx ON login_failures (failed_at);
