-- New customers go straight into the trigram indexes instead of GIN's pending list: a search
-- reads the whole pending list, and after 8,000 customers were added (the load benchmark's
-- create run) a search took 182 ms instead of 7 until autovacuum merged it (docs/PERFORMANCE.md).
-- Each insert pays a little more instead (8,000 customers: 1.6 s).
ALTER INDEX customers_name_trgm_idx SET (fastupdate = off);
ALTER INDEX customers_email_trgm_idx SET (fastupdate = off);
ALTER INDEX customers_phone_trgm_idx SET (fastupdate = off);
ALTER INDEX customers_whatsapp_trgm_idx SET (fastupdate = off);
SELECT gin_clean_pending_list(index_name::regclass)
FROM unnest(ARRAY['customers_name_trgm_idx', 'customers_email_trgm_idx',
                  'customers_phone_trgm_idx', 'customers_whatsapp_trgm_idx']) AS index_name;
