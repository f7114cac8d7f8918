//! `LIMIT n` written into a statement's text instead of bound as a parameter, for the pages
//! the API lists.
//!
//! PostgreSQL plans a prepared statement with its parameters' values ("custom" plans) until a
//! plan for any values ("generic") looks as cheap, then keeps the generic plan and stops
//! planning. A bound `LIMIT $n` never looks as cheap: without the value PostgreSQL assumes a
//! tenth of the table is wanted. So every page was planned again, 10 % of the machine's CPU
//! under the list benchmark (docs/PERFORMANCE.md). With the number in the text, a first page
//! has no parameter at all and is planned once per connection, and a later page's generic plan
//! costs what its custom plans cost, so PostgreSQL keeps it. diesel keeps one prepared
//! statement per text: one per page size the clients use (at most a hundred).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// `query LIMIT limit`, the number in the SQL text. Built by [`WrittenLimitDsl::written_limit`].
#[derive(Debug, Clone, Copy)]
pub struct WrittenLimit<Q> {
    query: Q,
    limit: u32,
}

/// Adds [`WrittenLimit`] to queries.
pub trait WrittenLimitDsl: Sized {
    /// At most `limit` rows (a negative limit reads as 0), the number written into the text.
    fn written_limit(self, limit: i64) -> WrittenLimit<Self> {
        WrittenLimit {
            query: self,
            limit: u32::try_from(limit.max(0)).unwrap_or(u32::MAX),
        }
    }
}

impl<Q: Query> WrittenLimitDsl for Q {}

impl<Q: Query> Query for WrittenLimit<Q> {
    type SqlType = Q::SqlType;
}

/// Not a static id: diesel then keys its statement cache by the SQL text, which holds the limit.
impl<Q> QueryId for WrittenLimit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for WrittenLimit<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.limit.to_string());
        Ok(())
    }
}

impl<Q> RunQueryDsl<PgConnection> for WrittenLimit<Q> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::customers;

    #[test]
    fn the_limit_is_in_the_text_and_never_negative() {
        let sql = |limit| {
            diesel::debug_query::<Pg, _>(
                &customers::table.select(customers::id).written_limit(limit),
            )
            .to_string()
        };
        assert!(sql(51).ends_with("LIMIT 51 -- binds: []"), "{}", sql(51));
        assert!(sql(-3).ends_with("LIMIT 0 -- binds: []"), "{}", sql(-3));
    }
}
