// @generated automatically by Diesel CLI.

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        user_id -> Int8,
        name -> Text,
        token_hash -> Bytea,
        prefix -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        actor_user_id -> Nullable<Int8>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Int8,
        customer_id -> Nullable<Int8>,
        changes -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    customer_counts (archived, slot) {
        archived -> Bool,
        slot -> Int2,
        n -> Int8,
    }
}

diesel::table! {
    customers (id) {
        id -> Int8,
        name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        whatsapp -> Nullable<Text>,
        timezone -> Text,
        notes -> Text,
        sms_opt_out -> Bool,
        whatsapp_opt_out -> Bool,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> Int8,
        user_id -> Int8,
        session_id -> Nullable<Int8>,
        api_token_id -> Nullable<Int8>,
        key -> Text,
        fingerprint -> Bytea,
        status -> Nullable<Int2>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        body -> Nullable<Bytea>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invoices (id) {
        id -> Int8,
        customer_id -> Int8,
        number -> Text,
        amount_minor -> Int8,
        currency -> Text,
        issued_on -> Date,
        notes -> Text,
        receipt_key -> Text,
        receipt_sha256 -> Bytea,
        receipt_size -> Int8,
        receipt_pages -> Int4,
        receipt_original_name -> Text,
        receipt_original_type -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    live_events (id) {
        id -> Int8,
        tx -> Int8,
        user_id -> Nullable<Int8>,
        kind -> Text,
        data -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    login_attempts (scope, key) {
        scope -> Text,
        key -> Text,
        failures -> Int4,
        blocked_until -> Timestamptz,
    }
}

diesel::table! {
    message_templates (id) {
        id -> Int8,
        name -> Text,
        content_sid -> Text,
        variables -> Array<Nullable<Text>>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        customer_id -> Int8,
        channel -> Text,
        recipient -> Text,
        body -> Text,
        template_sid -> Nullable<Text>,
        template_variables -> Nullable<Jsonb>,
        send_at -> Timestamptz,
        status -> Text,
        status_reason -> Nullable<Text>,
        status_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        provider_message_id -> Nullable<Text>,
        version -> Int4,
        job_id -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamptz>,
        sent_at -> Nullable<Timestamptz>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    reminders (id) {
        id -> Int8,
        owner_id -> Int8,
        customer_id -> Int8,
        message_id -> Nullable<Int8>,
        remind_at -> Timestamptz,
        note -> Text,
        dismissed_at -> Nullable<Timestamptz>,
        dismissed_reason -> Nullable<Text>,
        announced_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        user_id -> Int8,
        token_hash -> Bytea,
        csrf_token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        user_agent -> Nullable<Text>,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    stale_receipts (key) {
        key -> Text,
        due_at -> Timestamptz,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        disabled_at -> Nullable<Timestamptz>,
        timezone -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (token) {
        token -> Text,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(audit_events -> customers (customer_id));
diesel::joinable!(audit_events -> users (actor_user_id));
diesel::joinable!(customers -> users (created_by));
diesel::joinable!(idempotency_keys -> api_tokens (api_token_id));
diesel::joinable!(idempotency_keys -> sessions (session_id));
diesel::joinable!(idempotency_keys -> users (user_id));
diesel::joinable!(invoices -> customers (customer_id));
diesel::joinable!(invoices -> users (created_by));
diesel::joinable!(live_events -> users (user_id));
diesel::joinable!(messages -> customers (customer_id));
diesel::joinable!(messages -> users (created_by));
diesel::joinable!(reminders -> customers (customer_id));
diesel::joinable!(reminders -> messages (message_id));
diesel::joinable!(reminders -> users (owner_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    audit_events,
    customer_counts,
    customers,
    idempotency_keys,
    invoices,
    live_events,
    login_attempts,
    message_templates,
    messages,
    reminders,
    sessions,
    stale_receipts,
    users,
    webhook_deliveries,
);
