DROP TABLE stale_receipts;
