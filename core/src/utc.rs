//! Calendar dates from Unix time, for the few places that print one: the
//! ISO form of a MessagePack timestamp or a Redis-adapter date, and a
//! report's date line. UTC only, no leap seconds, proleptic Gregorian.

/// A UTC date and time of day, to the millisecond.
///
/// ```
/// use roomcast_core::UtcTime;
/// let t = UtcTime::from_unix_millis(1_700_000_000_123);
/// assert_eq!((t.year, t.month, t.day, t.hour, t.minute), (2023, 11, 14, 22, 13));
/// assert_eq!(t.to_iso_string(), "2023-11-14T22:13:20.123Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// The year (may be zero or negative before year 1).
    pub year: i64,
    /// 1 to 12.
    pub month: i64,
    /// 1 to 31.
    pub day: i64,
    /// 0 to 23.
    pub hour: i64,
    /// 0 to 59.
    pub minute: i64,
    /// 0 to 59.
    pub second: i64,
    /// 0 to 999.
    pub milli: i64,
}

impl UtcTime {
    /// The date and time `ms` milliseconds after 1970-01-01T00:00:00Z
    /// (before it when negative).
    pub fn from_unix_millis(ms: i64) -> Self {
        let (days, ms) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
        // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        UtcTime {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: ms / 3_600_000,
            minute: ms / 60_000 % 60,
            second: ms / 1000 % 60,
            milli: ms % 1000,
        }
    }

    /// The form of JavaScript's `Date.prototype.toISOString` for years 0
    /// to 9999: `YYYY-MM-DDTHH:mm:ss.sssZ`.
    pub fn to_iso_string(&self) -> String {
        let UtcTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            milli,
        } = self;
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::UtcTime;

    #[test]
    fn epoch_leap_day_and_before_epoch() {
        assert_eq!(
            UtcTime::from_unix_millis(0).to_iso_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            UtcTime::from_unix_millis(951_782_400_000).to_iso_string(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            UtcTime::from_unix_millis(-1).to_iso_string(),
            "1969-12-31T23:59:59.999Z"
        );
    }
}
