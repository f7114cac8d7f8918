-- Sign-in attempts as back-off state, one row per account and one per client, instead of one
-- row per failure: an attempt is counted (under the row's lock) before its password is checked,
-- so parallel guesses can't all pass a check that none of them has recorded yet.
DROP TABLE login_failures;

CREATE TABLE login_attempts (
    -- 'account' (a lower-cased email) or 'client' (an IPv4 address or an IPv6 /64).
    scope TEXT NOT NULL CHECK (scope IN ('account', 'client')),
    key TEXT NOT NULL,
    -- Attempts since the last success (or since the failures were forgotten).
    failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    -- No attempt is admitted before this.
    blocked_until TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX login_attempts_blocked_until_idx ON login_attempts (blocked_until);
