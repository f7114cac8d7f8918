//! A new customer and changes to one, from their request bodies.

use crm_contract::customers::{ArchivedFilter, CreateCustomerRequest, UpdateCustomerRequest};
use crm_db::customers::{self as rows, CustomerChanges, NewCustomer};
use crm_domain::{
    CustomerName, EmailAddress, FieldErrors, Notes, PhoneNumber, REQUIRED, Region, TimeZone,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::optional;

/// Longest accepted search text.
const MAX_SEARCH_CHARS: usize = 200;

/// Checks every field of a new customer; phone numbers are read in `region` when national.
pub fn new_customer(
    body: CreateCustomerRequest,
    region: Region,
) -> Result<NewCustomer, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", CustomerName::parse(&body.name));
    let email = optional(
        &mut errors,
        "email",
        body.email.as_deref(),
        EmailAddress::parse,
    );
    let phone = optional(&mut errors, "phone", body.phone.as_deref(), |s| {
        PhoneNumber::parse(s, region)
    });
    let whatsapp = optional(&mut errors, "whatsapp", body.whatsapp.as_deref(), |s| {
        PhoneNumber::parse(s, region)
    });
    let timezone = optional(
        &mut errors,
        "timezone",
        body.timezone.as_deref(),
        TimeZone::parse,
    );
    let notes = errors.check(
        "notes",
        Notes::parse(body.notes.as_deref().unwrap_or_default()),
    );
    let (Some(name), Some(notes), true) = (name, notes, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(NewCustomer {
        name: name.into_inner(),
        email,
        phone,
        whatsapp,
        timezone: timezone.unwrap_or_else(TimeZone::utc).into_inner(),
        notes: notes.into_inner(),
        sms_opt_out: body.sms_opt_out,
        whatsapp_opt_out: body.whatsapp_opt_out,
    })
}

/// Checks the fields a PATCH sends: `null` (or blank) clears the optional ones; `name` and
/// `timezone` can't be cleared.
pub fn customer_changes(
    body: UpdateCustomerRequest,
    region: Region,
) -> Result<CustomerChanges, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut changes = CustomerChanges {
        sms_opt_out: body.sms_opt_out,
        whatsapp_opt_out: body.whatsapp_opt_out,
        ..CustomerChanges::default()
    };
    let required =
        |errors: &mut FieldErrors, field: &str, value: Option<Option<String>>| match value {
            Some(None) => {
                errors.add(field, REQUIRED);
                None
            }
            other => other.flatten(),
        };
    if let Some(name) = required(&mut errors, "name", body.name) {
        changes.name = errors
            .check("name", CustomerName::parse(&name))
            .map(CustomerName::into_inner);
    }
    if let Some(zone) = required(&mut errors, "timezone", body.timezone) {
        changes.timezone = errors
            .check("timezone", TimeZone::parse(&zone))
            .map(TimeZone::into_inner);
    }
    if let Some(notes) = body.notes {
        let parsed = Notes::parse(notes.as_deref().unwrap_or_default());
        changes.notes = errors.check("notes", parsed).map(Notes::into_inner);
    }
    changes.email = body
        .email
        .map(|v| optional(&mut errors, "email", v.as_deref(), EmailAddress::parse));
    let phone = |s: &str| PhoneNumber::parse(s, region);
    changes.phone = body
        .phone
        .map(|v| optional(&mut errors, "phone", v.as_deref(), phone));
    changes.whatsapp = body
        .whatsapp
        .map(|v| optional(&mut errors, "whatsapp", v.as_deref(), phone));
    errors.into_result(|| changes)
}

/// Search and filter of the customer list (paging is read by [`crate::pagination::Paging`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerFilter {
    /// Case-insensitive partial match on name, email or phone numbers.
    #[param(example = "ada", max_length = 200)]
    pub q: Option<String>,
    /// `false` (default, also when empty): active customers; `true`: archived ones only; `all`:
    /// both.
    #[param(value_type = Option<String>, example = "false", pattern = "^(false|true|all)?$")]
    pub archived: Option<String>,
}

impl CustomerFilter {
    /// The search and archived filter, recording bad values in `errors`.
    pub fn parse(self, errors: &mut FieldErrors) -> (Option<String>, rows::ArchivedFilter) {
        let archived = match self.archived.as_deref().map(str::trim) {
            None | Some("") => ArchivedFilter::False,
            Some(raw) => serde_json::from_value(serde_json::Value::String(raw.to_owned()))
                .unwrap_or_else(|_| {
                    errors.add("archived", "Must be false, true or all.");
                    ArchivedFilter::False
                }),
        };
        let search = self
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        if search
            .as_ref()
            .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
        {
            errors.add(
                "q",
                format!("Must be at most {MAX_SEARCH_CHARS} characters."),
            );
        }
        let archived = match archived {
            ArchivedFilter::False => rows::ArchivedFilter::Active,
            ArchivedFilter::True => rows::ArchivedFilter::Archived,
            ArchivedFilter::All => rows::ArchivedFilter::All,
        };
        (search, archived)
    }
}
