//! When scheduled PULL hooks are due (spec: Scheduling). Pure: the clock is an argument.
//!
//! Intervals of an hour or less run on the UTC clock's multiples (every 15 minutes from
//! :00, …). Longer intervals run at the preferred hour in the organisation's time zone and
//! every interval after it through the day (6 h at 02:00: 02, 08, 14, 20 local). A local
//! hour that does not exist (clocks go forward) runs at the first instant after the gap; one
//! that happens twice (clocks go back) runs once, the first time.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// A hook's schedule: `15m|30m|1h|6h|12h|24h` at a preferred hour (0–23).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    minutes: u32,
    preferred_hour: u32,
}

impl Schedule {
    pub fn parse(interval: &str, preferred_hour: Option<u8>) -> Option<Schedule> {
        let minutes = flowstate_store::kinds::Interval::parse(interval)?.minutes();
        Some(Schedule { minutes, preferred_hour: u32::from(preferred_hour.unwrap_or(0).min(23)) })
    }

    /// The latest slot at or before `now`.
    pub fn latest_slot(self, timezone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.minutes <= 60 {
            let minutes = i64::from(self.minutes);
            let since_midnight = i64::from(now.hour() * 60 + now.minute());
            let floor =
                now.date_naive().and_time(NaiveTime::MIN) + Duration::minutes(since_midnight / minutes * minutes);
            return Utc.from_utc_datetime(&floor);
        }
        let step = self.minutes / 60;
        let hours: Vec<u32> = (0..24 / step).map(|k| (self.preferred_hour + k * step) % 24).collect();
        let today = now.with_timezone(&timezone).date_naive();
        // Yesterday's and today's slots (and tomorrow's, which a gap can pull back); the latest not after now.
        (-1..=1)
            .flat_map(|offset| {
                let day = today + Duration::days(offset);
                hours.iter().map(move |hour| slot(timezone, day, *hour))
            })
            .filter(|slot| *slot <= now)
            .max()
            .expect("a slot within a day before now")
    }

    /// The first slot after `now`: when the hook runs next (the scheduler starts it within
    /// its tick of that instant).
    pub fn next_slot(self, timezone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.minutes <= 60 {
            return self.latest_slot(timezone, now) + Duration::minutes(i64::from(self.minutes));
        }
        let step = self.minutes / 60;
        let hours: Vec<u32> = (0..24 / step).map(|k| (self.preferred_hour + k * step) % 24).collect();
        let today = now.with_timezone(&timezone).date_naive();
        (0..=2)
            .flat_map(|offset| {
                let day = today + Duration::days(offset);
                hours.iter().map(move |hour| slot(timezone, day, *hour))
            })
            .filter(|slot| *slot > now)
            .min()
            .expect("a slot within two days after now")
    }
}

/// The instant local `hour:00` of `day` falls at in `timezone`.
fn slot(timezone: Tz, day: NaiveDate, hour: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(hour, 0, 0).expect("hours are 0-23");
    let mut probe = local;
    // A local time in a gap does not exist: the first minute after the gap does.
    for _ in 0..=180 {
        if let Some(instant) = timezone.from_local_datetime(&probe).earliest() {
            return instant.with_timezone(&Utc);
        }
        probe += Duration::minutes(1);
    }
    Utc.from_utc_datetime(&local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn latest(interval: &str, hour: u8, zone: &str, now: &str) -> String {
        let schedule = Schedule::parse(interval, Some(hour)).unwrap();
        schedule.latest_slot(zone.parse().unwrap(), at(now)).to_rfc3339()
    }

    fn next(interval: &str, hour: u8, zone: &str, now: &str) -> String {
        let schedule = Schedule::parse(interval, Some(hour)).unwrap();
        schedule.next_slot(zone.parse().unwrap(), at(now)).to_rfc3339()
    }

    #[test]
    fn the_next_run_is_the_first_slot_after_now() {
        assert_eq!(next("15m", 0, "UTC", "2026-05-01T10:44:59Z"), "2026-05-01T10:45:00+00:00");
        assert_eq!(next("15m", 0, "UTC", "2026-05-01T10:45:00Z"), "2026-05-01T11:00:00+00:00", "strictly after");
        assert_eq!(next("1h", 0, "UTC", "2026-05-01T23:10:00Z"), "2026-05-02T00:00:00+00:00");
        // London in summer is UTC+1: 02:00 local is 01:00 UTC, tomorrow once today's has passed.
        assert_eq!(next("24h", 2, "Europe/London", "2026-07-01T00:59:00Z"), "2026-07-01T01:00:00+00:00");
        assert_eq!(next("24h", 2, "Europe/London", "2026-07-01T01:00:00Z"), "2026-07-02T01:00:00+00:00");
        assert_eq!(next("6h", 2, "Europe/London", "2026-07-01T19:30:00Z"), "2026-07-02T01:00:00+00:00");
        // Clocks go forward in London on 2026-03-29: 01:00 local does not exist; 02:00 BST is 01:00 UTC.
        assert_eq!(next("24h", 1, "Europe/London", "2026-03-28T23:00:00Z"), "2026-03-29T01:00:00+00:00");
    }

    #[test]
    fn short_intervals_follow_the_clock() {
        assert_eq!(latest("15m", 0, "UTC", "2026-05-01T10:44:59Z"), "2026-05-01T10:30:00+00:00");
        assert_eq!(latest("30m", 0, "UTC", "2026-05-01T10:30:00Z"), "2026-05-01T10:30:00+00:00");
        assert_eq!(latest("1h", 7, "Europe/London", "2026-05-01T10:59:00Z"), "2026-05-01T10:00:00+00:00");
    }

    #[test]
    fn long_intervals_fall_at_the_preferred_local_hour() {
        // London in summer is UTC+1: 02:00 local is 01:00 UTC.
        assert_eq!(latest("24h", 2, "Europe/London", "2026-07-01T00:59:00Z"), "2026-06-30T01:00:00+00:00");
        assert_eq!(latest("24h", 2, "Europe/London", "2026-07-01T01:00:00Z"), "2026-07-01T01:00:00+00:00");
        // 6 h at 02:00: 02, 08, 14, 20 local.
        assert_eq!(latest("6h", 2, "Europe/London", "2026-07-01T12:59:00Z"), "2026-07-01T07:00:00+00:00");
        assert_eq!(latest("12h", 9, "America/New_York", "2026-01-15T22:00:00Z"), "2026-01-15T14:00:00+00:00");
    }

    #[test]
    fn dst_changes_keep_the_local_hour() {
        // 29 March 2026, London: 01:00 GMT jumps to 02:00 BST. 01:00 local does not exist
        // that day: its run is at 02:00 BST (01:00 UTC); the day after, 01:00 BST (00:00 UTC).
        assert_eq!(latest("24h", 1, "Europe/London", "2026-03-29T00:59:00Z"), "2026-03-28T01:00:00+00:00");
        assert_eq!(latest("24h", 1, "Europe/London", "2026-03-29T01:00:00Z"), "2026-03-29T01:00:00+00:00");
        assert_eq!(latest("24h", 1, "Europe/London", "2026-03-30T00:00:00Z"), "2026-03-30T00:00:00+00:00");
        // 25 October 2026: 01:00 local happens twice (BST then GMT): once, the first time.
        assert_eq!(latest("24h", 1, "Europe/London", "2026-10-25T00:30:00Z"), "2026-10-25T00:00:00+00:00");
        assert_eq!(latest("24h", 1, "Europe/London", "2026-10-25T01:30:00Z"), "2026-10-25T00:00:00+00:00");
        assert_eq!(latest("24h", 1, "Europe/London", "2026-10-26T01:00:00Z"), "2026-10-26T01:00:00+00:00");
    }
}
