//! An audit trail as a list: who did what, when. Customers' and accounts' trails alike.

use leptos::prelude::*;

use crate::pages::local_time;
use crate::types::ActivityPage;

/// The events of `page`, newest first, each said in words.
#[component]
pub fn ActivityList(page: ActivityPage) -> impl IntoView {
    if page.items.is_empty() {
        return view! { <p class="text-muted">"Nothing yet."</p> }.into_any();
    }
    view! {
        <ul class="list-group" id="activity">
            {page.items.into_iter().map(|event| {
                let who = event.actor.map(|a| a.name).unwrap_or_else(|| "Someone".to_owned());
                let what = describe(&event.action, &event.changes);
                view! {
                    <li class="list-group-item">
                        <div>{format!("{who} {what}")}</div>
                        <small class="text-muted">{local_time(&event.created_at)}</small>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// "changed phone, email" and the like.
fn describe(action: &str, changes: &serde_json::Value) -> String {
    let text = |key: &str| {
        changes
            .get(key)
            .and_then(|n| n.as_str())
            .filter(|n| !n.is_empty())
    };
    let changed_fields = || {
        let fields: Vec<String> = changes
            .as_object()
            .map(|map| map.keys().map(|k| k.replace('_', " ")).collect())
            .unwrap_or_default();
        format!("changed {}", fields.join(", "))
    };
    match action {
        "customer.created" => "added the customer".to_owned(),
        "customer.archived" => "archived the customer".to_owned(),
        "customer.restored" => "restored the customer".to_owned(),
        "invoice.created" | "invoice.updated" | "invoice.deleted" | "invoice.receipt_replaced" => {
            let which =
                text("number").map_or_else(|| "an invoice".to_owned(), |n| format!("invoice {n}"));
            let verb = match action {
                "invoice.created" => "added",
                "invoice.updated" => "changed",
                "invoice.deleted" => "deleted",
                _ => "replaced the receipt of",
            };
            format!("{verb} {which}")
        }
        "customer.updated" => changed_fields(),
        "user.created" => format!("created the account ({})", text("role").unwrap_or("staff")),
        "user.updated" => {
            let mut said = Vec::new();
            if let Some(role) = changes.pointer("/role/to").and_then(|r| r.as_str()) {
                said.push(format!("made it {role}"));
            }
            if let Some(name) = changes.pointer("/name/to").and_then(|n| n.as_str()) {
                said.push(format!("renamed it {name}"));
            }
            match changes
                .pointer("/disabled/to")
                .and_then(serde_json::Value::as_bool)
            {
                Some(true) => said.push("disabled it".to_owned()),
                Some(false) => said.push("enabled it".to_owned()),
                None => {}
            }
            if changes.get("password").is_some() {
                said.push("reset its password".to_owned());
            }
            if said.is_empty() {
                changed_fields()
            } else {
                said.join(", ")
            }
        }
        "user.password_changed" => "changed their password".to_owned(),
        "token.created" => match text("name") {
            Some(name) => format!("made the API token \u{201c}{name}\u{201d}"),
            None => "made an API token".to_owned(),
        },
        "token.revoked" => "revoked an API token".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn account_changes_are_said_in_words() {
        let changes = json!({"role": {"from": "staff", "to": "admin"}, "password": "reset"});
        assert_eq!(
            describe("user.updated", &changes),
            "made it admin, reset its password"
        );
        let disabled = json!({"disabled": {"from": false, "to": true}});
        assert_eq!(describe("user.updated", &disabled), "disabled it");
        assert_eq!(
            describe("token.created", &json!({"token_id": 3, "name": "backup"})),
            "made the API token \u{201c}backup\u{201d}"
        );
        assert_eq!(
            describe("customer.updated", &json!({"phone": {}, "sms_opt_out": {}})),
            "changed phone, sms opt out"
        );
    }
}
