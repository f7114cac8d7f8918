DROP TRIGGER customer_counts_truncate ON customers;
DROP TRIGGER customer_counts_delete ON customers;
DROP TRIGGER customer_counts_update ON customers;
DROP TRIGGER customer_counts_insert ON customers;
DROP FUNCTION customer_counts_apply();
DROP TABLE customer_counts;
