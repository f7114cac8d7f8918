//! How text-valued domain types are stored: as their checked text, read back through the same
//! check (a stored value that no longer passes is a database error, never a silent fallback).

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::{Channel, Currency, EmailAddress, PhoneNumber, Role};

fn write_text(text: &str, out: &mut Output<'_, '_, Pg>) -> serialize::Result {
    <str as ToSql<Text, Pg>>::to_sql(text, &mut out.reborrow())
}

fn read_text(value: PgValue<'_>) -> deserialize::Result<String> {
    <String as FromSql<Text, Pg>>::from_sql(value)
}

impl ToSql<Text, Pg> for Currency {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        write_text(self.code(), out)
    }
}

impl FromSql<Text, Pg> for Currency {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self::parse(&read_text(value)?)?)
    }
}

impl ToSql<Text, Pg> for EmailAddress {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        write_text(self.as_str(), out)
    }
}

impl FromSql<Text, Pg> for EmailAddress {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self::parse(&read_text(value)?)?)
    }
}

impl ToSql<Text, Pg> for PhoneNumber {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        write_text(self.as_str(), out)
    }
}

impl FromSql<Text, Pg> for PhoneNumber {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self::from_e164(read_text(value)?)?)
    }
}

impl ToSql<Text, Pg> for Role {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        write_text(self.as_str(), out)
    }
}

impl FromSql<Text, Pg> for Role {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self::parse(&read_text(value)?)?)
    }
}

impl ToSql<Text, Pg> for Channel {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        write_text(self.as_str(), out)
    }
}

impl FromSql<Text, Pg> for Channel {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self::parse(&read_text(value)?)?)
    }
}
