//! Dates as Node prints them: `Date.prototype.toJSON` (ISO 8601, UTC,
//! milliseconds) for event timestamps, `Date.prototype.toString` for a
//! handshake's `time` — in UTC, since the server keeps no time zone.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(super) fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Days since the epoch → (year, month 1-12, day 1-31); Howard Hinnant's
/// `civil_from_days`.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    weekday: usize,
    h: u64,
    m: u64,
    s: u64,
    ms: u64,
}

fn parts(t: SystemTime) -> Parts {
    let ms = millis(t);
    let days = (ms / 86_400_000) as i64;
    let (year, month, day) = civil(days);
    let in_day = ms % 86_400_000;
    Parts {
        year,
        month,
        day,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4) % 7) as usize,
        h: in_day / 3_600_000,
        m: in_day / 60_000 % 60,
        s: in_day / 1000 % 60,
        ms: in_day % 1000,
    }
}

/// `2026-12-04T20:15:00.123Z`.
pub(super) fn iso(t: SystemTime) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        p.year, p.month, p.day, p.h, p.m, p.s, p.ms
    )
}

/// The timestamp of an event happening now.
pub(super) fn now() -> String {
    iso(SystemTime::now())
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Fri Dec 04 2026 20:15:00 GMT+0000 (Coordinated Universal Time)`.
pub(super) fn js_string(t: SystemTime) -> String {
    let p = parts(t);
    format!(
        "{} {} {:02} {:04} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[p.weekday],
        MONTHS[p.month as usize - 1],
        p.day,
        p.year,
        p.h,
        p.m,
        p.s
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_print_as_node_prints_them() {
        // new Date(1796415300123) in Node, TZ=UTC.
        let t = UNIX_EPOCH + Duration::from_millis(1_796_415_300_123);
        assert_eq!(iso(t), "2026-12-04T20:15:00.123Z");
        assert_eq!(
            js_string(t),
            "Fri Dec 04 2026 20:15:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(iso(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
