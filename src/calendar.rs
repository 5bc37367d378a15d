//! Calendar dates: parsing ISO dates and mapping them to weekly ticks and back.
//!
//! Days are counted from 1970-01-01 with the proleptic Gregorian calendar
//! (Howard Hinnant's `days_from_civil` algorithm), so no date crate is needed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i64,
}

impl Date {
    /// The date for year, month (1-12), day (1-31), if it exists.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { days: days_from_civil(year, month, day) })
    }

    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }

    pub fn days_since_epoch(self) -> i64 {
        self.days
    }

    pub fn plus_days(self, days: i64) -> Date {
        Date { days: self.days + days }
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.days - self.days
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// Why a date string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError(pub String);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' is not a date; use YYYY-MM-DD, e.g. 2025-04-09", self.0)
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_string());
        let mut parts = s.trim().splitn(3, '-');
        let (y, m, d) = (parts.next(), parts.next(), parts.next());
        let (Some(y), Some(m), Some(d)) = (y, m, d) else { return Err(err()) };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(err());
        }
        let year = y.parse::<i64>().map_err(|_| err())?;
        let month = m.parse::<u32>().map_err(|_| err())?;
        let day = d.parse::<u32>().map_err(|_| err())?;
        Date::from_ymd(year, month, day).ok_or_else(err)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        // TOML dates arrive as datetimes when unquoted; accept both spellings.
        let value = toml::Value::deserialize(d)?;
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Datetime(dt) => dt.to_string(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected a date like 2025-04-09, found {}",
                    other.type_str()
                )));
            }
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Maps ticks (weeks) to dates and back for one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub start: Date,
}

impl Calendar {
    pub const DAYS_PER_TICK: i64 = 7;

    /// The first day of the week that tick `tick` represents.
    pub fn date_of(&self, tick: u32) -> Date {
        self.start.plus_days(tick as i64 * Self::DAYS_PER_TICK)
    }

    /// The tick whose week contains `date`; negative when `date` is before the start.
    pub fn tick_of(&self, date: Date) -> i64 {
        self.start.days_until(date).div_euclid(Self::DAYS_PER_TICK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_dates() {
        for s in ["1970-01-01", "2000-02-29", "2024-12-31", "2025-04-09", "2026-12-28", "1899-03-01"] {
            let d: Date = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        assert_eq!("1970-01-02".parse::<Date>().unwrap().days_since_epoch(), 1);
        assert_eq!("2025-01-01".parse::<Date>().unwrap().days_since_epoch(), 20089);
    }

    #[test]
    fn refuses_non_dates() {
        for s in ["2025-02-30", "2025-13-01", "25-01-01", "2025/01/01", "", "2023-02-29"] {
            assert!(s.parse::<Date>().is_err(), "{s}");
        }
    }

    #[test]
    fn ticks_are_weeks() {
        let cal = Calendar { start: "2024-01-01".parse().unwrap() };
        assert_eq!(cal.date_of(0).to_string(), "2024-01-01");
        assert_eq!(cal.date_of(1).to_string(), "2024-01-08");
        assert_eq!(cal.tick_of("2024-01-07".parse().unwrap()), 0);
        assert_eq!(cal.tick_of("2024-01-08".parse().unwrap()), 1);
        assert_eq!(cal.tick_of("2023-12-31".parse().unwrap()), -1);
        assert_eq!(cal.tick_of(cal.date_of(70)), 70);
    }
}
