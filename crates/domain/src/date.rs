//! Calendar dates people type into forms.

use chrono::{Datelike, NaiveDate};

/// Why an issue date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Enter a date from 1900 to 2999 as YYYY-MM-DD.")]
pub struct IssueDateError;

/// An invoice's issue date: `YYYY-MM-DD` from 1900 to 2999 (a year outside is a typo, and
/// PostgreSQL's own range is narrower than chrono's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssueDate(NaiveDate);

impl IssueDate {
    /// Reads `YYYY-MM-DD`, surrounding blanks ignored.
    pub fn parse(text: &str) -> Result<Self, IssueDateError> {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .and_then(Self::new)
            .ok_or(IssueDateError)
    }

    /// A date within the accepted years.
    pub fn new(date: NaiveDate) -> Option<Self> {
        (1900..=2999).contains(&date.year()).then_some(Self(date))
    }

    /// The date.
    pub fn get(self) -> NaiveDate {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_dates_are_iso_days_from_1900_to_2999() {
        assert!(IssueDate::parse(" 2026-12-02 ").is_ok());
        for bad in [
            "2026-13-01",
            "02.12.2026",
            "1899-12-31",
            "3000-01-01",
            "",
            "2026-02-30",
        ] {
            assert_eq!(IssueDate::parse(bad), Err(IssueDateError), "{bad}");
        }
    }
}
