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
    /// How many items match, over all pages.
    pub total: i64,
}

impl<T> Page<T> {
    /// Turns each item into another type, keeping the paging.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            total: self.total,
        }
    }
}
