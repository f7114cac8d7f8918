//! One pooled connection per read: a `GET` that needs sign-in is authenticated on a connection
//! that is then kept for the handler's first database call, instead of going back to the pool
//! and being taken again. Half the checkouts of a read, and no second wait for the pool while
//! other requests hold every connection.
//!
//! Only the first call after authentication gets the connection, and only reads hand over:
//! a handler that waits for something else (a request body, a receipt store) before or
//! between its database calls holds no connection meanwhile.

use std::cell::RefCell;
use std::future::Future;

use crm_db::PgPooledConnection;
use tokio::sync::OwnedSemaphorePermit;

/// A connection taken from the pool, with the pool slot it was taken under.
pub(crate) struct Lease {
    pub(crate) _slot: OwnedSemaphorePermit,
    pub(crate) conn: PgPooledConnection,
}

enum Handover {
    /// The next database call (authentication) keeps its connection here.
    Open,
    /// Kept for the next database call (the handler's first).
    Kept(Box<Lease>),
    /// Handed over, or not kept: later calls take connections from the pool.
    Done,
}

tokio::task_local! {
    static HANDOVER: RefCell<Handover>;
}

/// Runs `request` (authentication, then the handler) with a hand-over of its connection.
pub(crate) async fn scope<F: Future>(request: F) -> F::Output {
    HANDOVER.scope(RefCell::new(Handover::Open), request).await
}

/// What a database call gets: a connection kept for it, if any; and whether it should keep its
/// own for the next call.
pub(crate) fn take() -> (Option<Lease>, bool) {
    let state = HANDOVER.try_with(|handover| handover.replace(Handover::Done));
    match state {
        Ok(Handover::Open) => (None, true),
        Ok(Handover::Kept(lease)) => (Some(*lease), false),
        Ok(Handover::Done) | Err(_) => (None, false),
    }
}

/// Lets the next database call keep its connection again: authentication failed on a dead
/// connection and runs once more.
pub(crate) fn reopen() {
    set(Handover::Open);
}

/// Keeps `lease` for the next database call of this request (dropped with the request if none
/// comes: it goes back to the pool then).
pub(crate) fn keep(lease: Lease) {
    set(Handover::Kept(Box::new(lease)));
}

/// Outside a scope (a request that does not hand over) there is nothing to set.
fn set(state: Handover) {
    let _ = HANDOVER.try_with(|handover| handover.replace(state));
}
