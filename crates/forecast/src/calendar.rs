//! Months and working days (forecast.md "Calendar"): Monday to Friday, no holidays. Counts
//! come from arithmetic on dates, never from walking the days.

use chrono::{Datelike, NaiveDate, Weekday};

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1–12.
    month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }

    /// `YYYY-MM`, as the API takes it.
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        let digits = |part: &str, length: usize| part.len() == length && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) {
            return None;
        }
        Month::new(year.parse().ok()?, month.parse().ok()?)
    }

    pub fn of(day: NaiveDate) -> Month {
        Month { year: day.year(), month: day.month() }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a month's first day exists")
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    /// Months from `self` to `other` (0 when equal; negative when `other` is earlier).
    pub fn months_until(self, other: Month) -> i64 {
        i64::from(other.year - self.year) * 12 + i64::from(other.month) - i64::from(self.month)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Working days (Monday to Friday) from `start` up to but not including `end`.
pub fn working_days(start: NaiveDate, end: NaiveDate) -> u32 {
    if end <= start {
        return 0;
    }
    let days = (end - start).num_days();
    let (weeks, rest) = (days / 7, days % 7);
    // The leftover days start on `start`'s weekday (0 = Monday).
    let first = i64::from(start.weekday().num_days_from_monday());
    let leftover = (0..rest).filter(|offset| (first + offset) % 7 < 5).count() as i64;
    (weeks * 5 + leftover) as u32
}

/// `wdy(Y)`: the working days of calendar year `year`.
pub fn working_days_in_year(year: i32) -> u32 {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January exists");
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("1 January exists");
    working_days(start, end)
}

/// The working days of a month.
pub fn working_days_in_month(month: Month) -> u32 {
    working_days(month.first_day(), month.next().first_day())
}

/// Whether `day` is a working day.
pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn working_days_are_counted_by_arithmetic_as_by_walking_the_days() {
        let start = date("2025-12-20");
        for length in 0..60 {
            for shift in 0..7 {
                let from = start + chrono::Duration::days(shift);
                let to = from + chrono::Duration::days(length);
                let walked = from.iter_days().take_while(|day| *day < to).filter(|day| is_working_day(*day)).count();
                assert_eq!(working_days(from, to) as usize, walked, "{from} to {to}");
            }
        }
    }

    #[test]
    fn the_spec_counts() {
        assert_eq!(working_days_in_year(2026), 261);
        assert_eq!(working_days_in_month(Month::new(2026, 3).unwrap()), 22);
        assert_eq!(working_days_in_month(Month::new(2026, 7).unwrap()), 23);
        assert_eq!(working_days(date("2026-06-01"), date("2026-06-16")), 11, "June to the 15th");
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!(Month::parse("2026-03").map(|month| month.to_string()).as_deref(), Some("2026-03"));
        for bad in ["2026-3", "2026-13", "26-03", "2026/03", "2026-03-01", "", "abcd-ef"] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
        let (march, next_may) = (Month::parse("2026-03").unwrap(), Month::parse("2027-05").unwrap());
        assert_eq!(march.months_until(next_may), 14);
        assert_eq!(Month::parse("2026-12").unwrap().next().to_string(), "2027-01");
    }
}
