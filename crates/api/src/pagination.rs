//! Keyset pagination: `limit` and an opaque `cursor` that says where the next page starts,
//! read by one extractor for every list.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_contract::{Page, Total};
use crm_domain::FieldErrors;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::error::ApiError;

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: i64 = 25;
/// Largest page size.
pub const MAX_LIMIT: i64 = 100;

/// The query of a paged list: `limit` and `cursor` (for the OpenAPI description).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 100 (default 25).
    #[param(value_type = Option<i64>, example = 25, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `limit` and `cursor` of a list request, read into a page size and the position `C` the
/// page starts after. Bad values are kept as field errors until [`Paging::checked`], so a
/// list reports them together with its own parameters' errors.
#[derive(Debug)]
pub struct Paging<C> {
    /// Rows on the page.
    pub limit: i64,
    /// Where the previous page ended.
    pub after: Option<C>,
    errors: FieldErrors,
}

impl<C: DeserializeOwned> FromRequest for Paging<C> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            web::Query::<PageParams>::from_query(req.query_string())
                .map_err(|error| {
                    ApiError::BadRequest(format!("The query string could not be read: {error}."))
                })
                .map(|params| {
                    let mut errors = FieldErrors::new();
                    let limit = parse_limit(params.limit.as_deref(), &mut errors);
                    let after = parse_cursor(params.cursor.as_deref(), &mut errors);
                    Self {
                        limit,
                        after,
                        errors,
                    }
                }),
        )
    }
}

impl<C> Paging<C> {
    /// The paging, or a 422 with its errors and `others` (the list's own parameters').
    pub fn checked(mut self, others: FieldErrors) -> Result<Self, ApiError> {
        self.errors.merge(others);
        if self.errors.is_empty() {
            Ok(self)
        } else {
            Err(std::mem::take(&mut self.errors).into())
        }
    }

    /// How many rows to fetch: one more than the page, to learn whether another page exists.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The page of `rows` (fetched with [`Paging::fetch`]), its items made by `item`, and the
    /// cursor after its last row made by `position_after`.
    pub fn page<R, T, P: Serialize>(
        &self,
        rows: Vec<R>,
        total: impl Into<Total>,
        position_after: impl Fn(&R) -> P,
        item: impl FnMut(R) -> T,
    ) -> Page<T> {
        let (rows, next_cursor) = split_page(rows, self.limit, position_after);
        Page::new(
            rows.into_iter().map(item).collect(),
            next_cursor,
            total.into(),
        )
    }
}

/// Reads `limit`, recording an error for anything but a whole number from 1 to 100.
fn parse_limit(raw: Option<&str>, errors: &mut FieldErrors) -> i64 {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return DEFAULT_LIMIT;
    };
    match raw.parse::<i64>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        _ => {
            errors.add(
                "limit",
                format!("Must be a whole number from 1 to {MAX_LIMIT}."),
            );
            DEFAULT_LIMIT
        }
    }
}

/// Reads a cursor made by [`encode_cursor`], recording an error for anything else.
fn parse_cursor<T: DeserializeOwned>(raw: Option<&str>, errors: &mut FieldErrors) -> Option<T> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty())?;
    let decoded = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if decoded.is_none() {
        errors.add(
            "cursor",
            "Invalid cursor: pass the next_cursor of the previous page.",
        );
    }
    decoded
}

/// Makes an opaque cursor of a position.
fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// The rows of the page and the cursor of the next, when a full page suggests there may be
/// more: callers fetch `limit + 1` rows; the extra row, if present, proves a next page exists
/// and is dropped here.
fn split_page<R, P: Serialize>(
    mut rows: Vec<R>,
    limit: i64,
    position_after: impl Fn(&R) -> P,
) -> (Vec<R>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|row| encode_cursor(&position_after(row)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_a_hundred_are_field_errors() {
        let mut errors = FieldErrors::new();
        assert_eq!(parse_limit(None, &mut errors), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("100"), &mut errors), 100);
        assert!(errors.is_empty());
        for bad in ["0", "101", "-1", "ten", "1.5"] {
            let mut errors = FieldErrors::new();
            parse_limit(Some(bad), &mut errors);
            assert!(errors.get("limit").is_some(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let mut errors = FieldErrors::new();
        let cursor = encode_cursor(&("ada", 7));
        assert_eq!(
            parse_cursor::<(String, i64)>(Some(&cursor), &mut errors),
            Some(("ada".into(), 7))
        );
        assert_eq!(
            parse_cursor::<(String, i64)>(Some("%%%"), &mut errors),
            None
        );
        assert!(errors.get("cursor").is_some());
    }

    #[test]
    fn a_next_cursor_exists_only_when_an_extra_row_was_found() {
        let (rows, next) = split_page(vec![1, 2, 3], 2, |r| *r);
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(next, Some(encode_cursor(&2)));
        let (rows, next) = split_page(vec![1, 2], 2, |r| *r);
        assert_eq!((rows, next), (vec![1, 2], None));
    }
}
