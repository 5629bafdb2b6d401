//! The one timestamp format Flowstate writes, everywhere: RFC 3339 in UTC with `Z` and
//! microseconds (`2026-05-01T10:00:00.000000Z`). Stored text, API responses, execution
//! records and logs all use it, so timestamps compare as text in the order they happened.
//!
//! **Architecture Invariant:** no other code formats a `DateTime` for storage or the wire;
//! it calls [`format`] or serializes through [`rfc3339`].

use chrono::{DateTime, SecondsFormat, Utc};

/// `at` as Flowstate writes every timestamp.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let at = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap();
/// assert_eq!(flowstate_time::format(at), "2026-05-01T10:00:00.000000Z");
/// ```
pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Now, as [`format`] writes it.
pub fn now() -> String {
    format(Utc::now())
}

/// An RFC 3339 timestamp in any offset or precision, rewritten as [`format`] writes it (text
/// that is not one is kept as it is).
pub fn normalise(text: &str) -> String {
    DateTime::parse_from_rfc3339(text).map_or_else(|_| text.to_string(), |at| format(at.with_timezone(&Utc)))
}

/// `#[serde(serialize_with = "flowstate_time::rfc3339::serialize")]` (or `with`): a
/// `DateTime<Utc>` field written as [`format`] writes it.
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format(*at))
    }

    /// Any RFC 3339 timestamp, in UTC.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text).map(|at| at.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Stamped {
        #[serde(with = "rfc3339")]
        at: DateTime<Utc>,
    }

    #[test]
    fn one_format_to_the_microsecond_with_z() {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 0, 40, 3).unwrap() + chrono::Duration::nanoseconds(902_228_043);
        assert_eq!(format(at), "2026-12-02T00:40:03.902228Z");
        let written = serde_json::to_string(&Stamped { at }).unwrap();
        assert_eq!(written, r#"{"at":"2026-12-02T00:40:03.902228Z"}"#);
        let read: Stamped = serde_json::from_str(r#"{"at":"2026-12-02T01:40:03.902228+01:00"}"#).unwrap();
        assert_eq!(format(read.at), "2026-12-02T00:40:03.902228Z");
        assert!(now().ends_with('Z') && now().len() == 27);
        assert_eq!(normalise("2026-12-02T00:40:03.902228043+00:00"), "2026-12-02T00:40:03.902228Z");
        assert_eq!(normalise("not a time"), "not a time");
    }
}
