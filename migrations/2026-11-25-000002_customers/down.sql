DROP TABLE audit_events;
DROP TABLE customers;
-- pg_trgm stays: other databases objects may use it, and keeping it is harmless.
