-- Reminders, users' time zones, and the log of live events behind GET /api/v1/events.

-- The IANA zone a user's times are shown in and "tomorrow 09:00" means; NULL until the web app
-- sets the browser's at first sign-in (UTC meanwhile).
ALTER TABLE users ADD COLUMN timezone TEXT CHECK (char_length(timezone) BETWEEN 1 AND 64);

CREATE TABLE reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    message_id BIGINT REFERENCES messages (id) ON DELETE SET NULL,
    remind_at TIMESTAMPTZ NOT NULL,
    note TEXT NOT NULL DEFAULT '' CHECK (char_length(note) <= 1000),
    dismissed_at TIMESTAMPTZ,
    -- Why it was dismissed when no person did it (its message was canceled…).
    dismissed_reason TEXT,
    -- When `reminder.due` went out for the current remind_at (NULL: not yet). One API process
    -- sets it, in the statement that publishes the event, so each falls due once.
    announced_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('reminders');

-- A user's open reminders (due: remind_at <= now; upcoming: after), by time.
CREATE INDEX reminders_owner_open_idx ON reminders (owner_id, remind_at, id) WHERE dismissed_at IS NULL;
-- Everyone's open reminders (admins).
CREATE INDEX reminders_open_idx ON reminders (remind_at, id) WHERE dismissed_at IS NULL;
-- Dismissed ones, newest first.
CREATE INDEX reminders_owner_dismissed_idx ON reminders (owner_id, dismissed_at DESC, id DESC)
    WHERE dismissed_at IS NOT NULL;
-- What the due timer has still to announce.
CREATE INDEX reminders_to_announce_idx ON reminders (remind_at)
    WHERE dismissed_at IS NULL AND announced_at IS NULL;
CREATE INDEX reminders_customer_idx ON reminders (customer_id, remind_at);
CREATE INDEX reminders_message_idx ON reminders (message_id) WHERE message_id IS NOT NULL;

-- Live events, in commit order: `tx` is the writing transaction's id. A reader takes rows of
-- transactions older than every running one (tx < the snapshot's xmin) in (tx, id) order, so
-- a transaction that commits late can never slip in behind a cursor already handed out.
-- user_id: only that user may see it; NULL: every signed-in user. Kept a day.
CREATE TABLE live_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx BIGINT NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    data JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX live_events_order_idx ON live_events (tx, id);
CREATE INDEX live_events_created_idx ON live_events (created_at);
CREATE INDEX live_events_user_idx ON live_events (user_id);

-- Records an event and wakes every listening API process (NOTIFY is sent at commit, and only
-- if the transaction commits).
CREATE FUNCTION publish_live_event(audience BIGINT, event_kind TEXT, payload JSONB) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (user_id, kind, data) VALUES (audience, event_kind, payload);
    PERFORM pg_notify('crm_live_events', '');
END
$$;

-- Every write of a message's status, version or time, whoever makes it (the API, a worker, a
-- webhook), is a `message.status` event for everyone.
CREATE FUNCTION messages_live_event() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status OR OLD.version <> NEW.version
       OR OLD.status_at IS DISTINCT FROM NEW.status_at THEN
        PERFORM publish_live_event(NULL, 'message.status', jsonb_build_object(
            'message_id', NEW.id, 'customer_id', NEW.customer_id, 'status', NEW.status,
            'status_reason', NEW.status_reason, 'version', NEW.version, 'send_at', NEW.send_at));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_live_event AFTER INSERT OR UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_live_event();

CREATE FUNCTION invoices_live_event() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    row invoices%ROWTYPE;
BEGIN
    IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
    PERFORM publish_live_event(NULL,
        CASE TG_OP WHEN 'DELETE' THEN 'invoice.deleted' ELSE 'invoice.created' END,
        jsonb_build_object('invoice_id', row.id, 'customer_id', row.customer_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER invoices_live_event AFTER INSERT OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_live_event();

-- A reminder's owner hears of every change to it; the due timer setting announced_at is
-- `reminder.due`.
CREATE FUNCTION reminders_live_event() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    row reminders%ROWTYPE;
    event_kind TEXT := 'reminder.changed';
BEGIN
    IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
    IF TG_OP = 'UPDATE' AND OLD.announced_at IS NULL AND NEW.announced_at IS NOT NULL THEN
        event_kind := 'reminder.due';
    END IF;
    PERFORM publish_live_event(row.owner_id, event_kind, jsonb_build_object(
        'reminder_id', row.id, 'customer_id', row.customer_id,
        'customer_name', (SELECT name FROM customers WHERE id = row.customer_id),
        'message_id', row.message_id, 'note', row.note, 'remind_at', row.remind_at,
        'dismissed_at', row.dismissed_at, 'deleted', TG_OP = 'DELETE'));
    RETURN NULL;
END
$$;
CREATE TRIGGER reminders_live_event AFTER INSERT OR UPDATE OR DELETE ON reminders
    FOR EACH ROW EXECUTE FUNCTION reminders_live_event();
