//! One page of a list, with the cursor of the next.

use serde::{Deserialize, Serialize};

/// A page of `T`: the items, where the next page starts, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
    /// How many items match, over all pages: exactly, or at least this many when
    /// `total_exact` is false.
    pub total: i64,
    /// False when counting stopped at a cap (a customer search matching more than 1,000),
    /// so that no page ever counts a whole large table.
    pub total_exact: bool,
}

/// How many items a list has in all: exactly, or at least so many where counting stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    AtLeast(i64),
}

impl From<i64> for Total {
    fn from(count: i64) -> Self {
        Self::Exact(count)
    }
}

impl<T> Page<T> {
    /// A page of `items` followed by `next_cursor`, out of `total`.
    pub fn new(items: Vec<T>, next_cursor: Option<String>, total: Total) -> Self {
        let (total, total_exact) = match total {
            Total::Exact(count) => (count, true),
            Total::AtLeast(count) => (count, false),
        };
        Self {
            items,
            next_cursor,
            total,
            total_exact,
        }
    }

    /// Turns each item into another type, keeping the paging.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            total: self.total,
            total_exact: self.total_exact,
        }
    }
}
