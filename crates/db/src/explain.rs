//! `EXPLAIN` of the very queries the code runs (same SQL, same bind values), so that tests can
//! pin their plans: a query that starts scanning a large table fails a test instead of
//! slowing every page in production.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;

/// `EXPLAIN` before a query.
#[derive(Debug, Clone, Copy, QueryId)]
struct Explain<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl<Q> RunQueryDsl<PgConnection> for Explain<Q> {}

/// The plan PostgreSQL chooses for `query`, as `EXPLAIN` prints it (one line per node).
pub fn plan<Q: QueryFragment<Pg> + QueryId>(
    conn: &mut PgConnection,
    query: Q,
) -> QueryResult<String> {
    Ok(Explain(query).load::<String>(conn)?.join("\n"))
}
