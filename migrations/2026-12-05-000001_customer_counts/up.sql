-- How many customers there are, kept by the database so that a list page never counts the
-- table: each page of the customer list says how many customers there are in all, and
-- `count(*)` over 100,000 rows cost more than the page itself.
--
-- Sixteen rows per archived state, summed when read: each session adds to the row of its
-- backend (pg_backend_pid() % 16), so concurrent inserts rarely wait for one another's
-- commit. Statement triggers with transition tables: a bulk insert is one update, and an
-- edit that doesn't archive or restore changes nothing here.
CREATE TABLE customer_counts (
    archived BOOLEAN NOT NULL,
    slot SMALLINT NOT NULL CHECK (slot BETWEEN 0 AND 15),
    n BIGINT NOT NULL,
    PRIMARY KEY (archived, slot)
);
INSERT INTO customer_counts (archived, slot, n)
SELECT archived, slot, 0 FROM (VALUES (FALSE), (TRUE)) AS states (archived),
    generate_series(0, 15) AS slot;
UPDATE customer_counts c
SET n = (SELECT count(*) FROM customers WHERE (archived_at IS NOT NULL) = c.archived)
WHERE slot = 0;

CREATE FUNCTION customer_counts_apply() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    active_delta BIGINT := 0;
    archived_delta BIGINT := 0;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE customer_counts SET n = 0 WHERE n <> 0;
        RETURN NULL;
    END IF;
    -- Statements are planned when first run, so each names only the transition tables its
    -- trigger has.
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT active_delta + count(*) FILTER (WHERE archived_at IS NULL),
               archived_delta + count(*) FILTER (WHERE archived_at IS NOT NULL)
        INTO active_delta, archived_delta FROM new_rows;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        SELECT active_delta - count(*) FILTER (WHERE archived_at IS NULL),
               archived_delta - count(*) FILTER (WHERE archived_at IS NOT NULL)
        INTO active_delta, archived_delta FROM old_rows;
    END IF;
    UPDATE customer_counts c
    SET n = c.n + CASE WHEN c.archived THEN archived_delta ELSE active_delta END
    WHERE c.slot = pg_backend_pid() % 16
      AND CASE WHEN c.archived THEN archived_delta ELSE active_delta END <> 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_apply();
CREATE TRIGGER customer_counts_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_apply();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_apply();
CREATE TRIGGER customer_counts_truncate AFTER TRUNCATE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_apply();
