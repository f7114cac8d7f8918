//! Typed ids, so a customer id can't be passed where a user id is expected.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw database id.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw database id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// Identifies a staff member or admin.
    UserId
);
typed_id!(
    /// Identifies a customer.
    CustomerId
);
typed_id!(
    /// Identifies an invoice.
    InvoiceId
);
typed_id!(
    /// Identifies a personal API token.
    ApiTokenId
);
typed_id!(
    /// Identifies an audit event.
    AuditEventId
);
