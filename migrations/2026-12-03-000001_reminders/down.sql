DROP TABLE reminders;
DROP TRIGGER invoices_live_event ON invoices;
DROP TRIGGER messages_live_event ON messages;
DROP FUNCTION reminders_live_event();
DROP FUNCTION invoices_live_event();
DROP FUNCTION messages_live_event();
DROP FUNCTION publish_live_event(BIGINT, TEXT, JSONB);
DROP TABLE live_events;
ALTER TABLE users DROP COLUMN timezone;
