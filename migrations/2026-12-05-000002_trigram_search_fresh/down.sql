ALTER INDEX customers_name_trgm_idx RESET (fastupdate);
ALTER INDEX customers_email_trgm_idx RESET (fastupdate);
ALTER INDEX customers_phone_trgm_idx RESET (fastupdate);
ALTER INDEX customers_whatsapp_trgm_idx RESET (fastupdate);
