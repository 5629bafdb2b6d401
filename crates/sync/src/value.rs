//! Checked field values.

use chrono::NaiveDate;
use serde_json::Value;

use crate::schema::FieldKind;

/// A field value that passed its [`FieldKind`].
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Text(String),
    Date(NaiveDate),
    Number(f64),
    Integer(i64),
    JobRole { title: String, external_id: Option<String> },
}

impl FieldValue {
    /// The value as JSON, the shape it had in the record (dates as `YYYY-MM-DD`).
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Text(text) => Value::String(text.clone()),
            FieldValue::Date(date) => Value::String(date.format("%Y-%m-%d").to_string()),
            FieldValue::Number(number) => {
                serde_json::Number::from_f64(*number).map(Value::Number).unwrap_or(Value::Null)
            }
            FieldValue::Integer(integer) => Value::from(*integer),
            FieldValue::JobRole { title, external_id } => match external_id {
                Some(id) => serde_json::json!({ "title": title, "externalId": id }),
                None => Value::String(title.clone()),
            },
        }
    }

    /// The date, if this is one.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            FieldValue::Date(date) => Some(*date),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            FieldValue::Number(number) => Some(*number),
            FieldValue::Integer(integer) => Some(*integer as f64),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses `YYYY-MM-DD` (exactly; no times, no other formats).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    // The shape first: chrono alone would take " 2024-1-05" or "+024-01-05".
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| if index == 4 || index == 7 { *byte == b'-' } else { byte.is_ascii_digit() });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// An ISO 4217 currency code as records, organisations and exchange rates carry it: three
/// capital letters. The one place that rule is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    /// The rule as a JSON Schema pattern (the API's document states it).
    pub const PATTERN: &'static str = "^[A-Z]{3}$";

    /// ```
    /// use flowstate_sync::CurrencyCode;
    /// assert_eq!(CurrencyCode::parse("GBP").unwrap().as_str(), "GBP");
    /// for bad in ["gbp", "GB", "GBPX", "G8P", "ÉU", " GB"] {
    ///     assert!(CurrencyCode::parse(bad).is_none(), "{bad}");
    /// }
    /// ```
    pub fn parse(text: &str) -> Option<CurrencyCode> {
        let bytes: [u8; 3] = text.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_uppercase).then_some(CurrencyCode(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII capitals")
    }
}

impl std::fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The largest amount of money a field takes.
pub const MAX_MONEY: f64 = 1e15;

/// An email address as records may carry it: one `@`, a local part, a dotted domain, no
/// white space.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The message for text holding U+0000, which PostgreSQL cannot store in a text column and
/// a searched list could not find in SQLite: refused everywhere a record carries text.
pub const NUL: &str = "must not contain the NUL character (U+0000)";

/// Why a value was refused for its field. Its `Display` is the message after the field's
/// name (`must be a date (YYYY-MM-DD), got "03/15/2024"`).
#[derive(Clone, Debug, PartialEq)]
pub enum FieldError {
    /// Text holding U+0000 (see [`NUL`]); `part` names the part of the value (`title`).
    Nul {
        part: Option<&'static str>,
    },
    /// The wrong JSON type: `expected` and `got` are spelled out ("a string", "a number").
    Type {
        expected: &'static str,
        got: &'static str,
    },
    TooLong {
        length: usize,
        max: usize,
    },
    Blank,
    NotEmail(String),
    /// `got` is the text quoted, or the JSON type.
    NotDate {
        got: String,
    },
    NotOneOf {
        allowed: &'static [&'static str],
        got: String,
    },
    OutOfRange {
        min: f64,
        max: f64,
        got: f64,
    },
    NotAmount(f64),
    Fraction,
    /// A whole number outside `min..=max`, quoted as it was given.
    WholeOutOfRange {
        min: i64,
        max: i64,
        got: String,
    },
    NotCurrency(String),
    JobRoleTitle,
    JobRoleExternalId,
    JobRoleUnknownField(String),
    /// A job role that is neither a title nor an object.
    JobRoleShape {
        got: &'static str,
    },
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldError::Nul { part: None } => f.write_str(NUL),
            FieldError::Nul { part: Some(part) } => write!(f, "{part} {NUL}"),
            FieldError::Type { expected, got } => write!(f, "must be {expected}, got {got}"),
            FieldError::TooLong { length, max } => {
                write!(f, "is {length} characters long, more than the limit of {max}")
            }
            FieldError::Blank => f.write_str("must not be blank"),
            FieldError::NotEmail(text) => write!(f, "must be an email address, got {text:?}"),
            FieldError::NotDate { got } => write!(f, "must be a date (YYYY-MM-DD), got {got}"),
            FieldError::NotOneOf { allowed, got } => write!(f, "must be one of {}, got {got:?}", allowed.join(", ")),
            FieldError::OutOfRange { min, max, got } => write!(f, "must be between {min} and {max}, got {got}"),
            FieldError::NotAmount(number) => write!(f, "must be an amount between 0 and 10^15, got {number}"),
            FieldError::Fraction => f.write_str("must be a whole number, got a fraction"),
            FieldError::WholeOutOfRange { min, max, got } => write!(f, "must be between {min} and {max}, got {got}"),
            FieldError::NotCurrency(text) => write!(f, "must be an ISO 4217 currency code such as GBP, got {text:?}"),
            FieldError::JobRoleTitle => f.write_str("must have a title of 1 to 255 characters"),
            FieldError::JobRoleExternalId => f.write_str("externalId must be a non-empty string"),
            FieldError::JobRoleUnknownField(key) => {
                write!(f, "has an unknown field {key:?} (expected title and externalId)")
            }
            FieldError::JobRoleShape { got } => write!(f, "must be a title or {{ title, externalId }}, got {got}"),
        }
    }
}

impl std::error::Error for FieldError {}

/// Checks one non-null JSON value against a kind.
pub fn check(kind: FieldKind, value: &Value) -> Result<FieldValue, FieldError> {
    let text = |value: &Value| match value {
        Value::String(text) if text.contains('\0') => Err(FieldError::Nul { part: None }),
        Value::String(text) => Ok(text.clone()),
        other => Err(FieldError::Type { expected: "a string", got: type_name(other) }),
    };
    let number = |value: &Value, expected: &'static str| {
        value.as_f64().ok_or_else(|| FieldError::Type { expected, got: type_name(value) })
    };
    match kind {
        FieldKind::Text { max } => {
            let text = text(value)?;
            let length = text.chars().count();
            if length > max {
                return Err(FieldError::TooLong { length, max });
            }
            Ok(FieldValue::Text(text))
        }
        FieldKind::Id => {
            let text = text(value)?;
            if text.trim().is_empty() {
                return Err(FieldError::Blank);
            }
            let length = text.chars().count();
            if length > 255 {
                return Err(FieldError::TooLong { length, max: 255 });
            }
            Ok(FieldValue::Text(text))
        }
        FieldKind::Email => {
            let text = text(value)?;
            if text.chars().count() > 254 || !is_email(&text) {
                return Err(FieldError::NotEmail(text));
            }
            Ok(FieldValue::Text(text))
        }
        FieldKind::Date => {
            let text = text(value).map_err(|_| FieldError::NotDate { got: type_name(value).to_string() })?;
            parse_date(&text).map(FieldValue::Date).ok_or_else(|| FieldError::NotDate { got: format!("{text:?}") })
        }
        FieldKind::Enum(allowed) => {
            let text = text(value)?;
            if allowed.contains(&text.as_str()) {
                Ok(FieldValue::Text(text))
            } else {
                Err(FieldError::NotOneOf { allowed, got: text })
            }
        }
        FieldKind::Number { min, max } => {
            let number = number(value, "a number")?;
            if !(min..=max).contains(&number) {
                return Err(FieldError::OutOfRange { min, max, got: number });
            }
            Ok(FieldValue::Number(number))
        }
        FieldKind::Money => {
            let number = number(value, "a number")?;
            if !number.is_finite() || !(0.0..=MAX_MONEY).contains(&number) {
                return Err(FieldError::NotAmount(number));
            }
            Ok(FieldValue::Number((number * 100.0).round() / 100.0))
        }
        FieldKind::Integer { min, max } => {
            let number = number(value, "a whole number")?;
            if number.fract() != 0.0 {
                return Err(FieldError::Fraction);
            }
            // The range is checked on the number as given, so the message quotes it.
            if number < min as f64 || number > max as f64 {
                return Err(FieldError::WholeOutOfRange { min, max, got: value.to_string() });
            }
            Ok(FieldValue::Integer(value.as_i64().unwrap_or(number as i64)))
        }
        FieldKind::Currency => {
            let text = text(value)?;
            if CurrencyCode::parse(&text).is_some() {
                Ok(FieldValue::Text(text))
            } else {
                Err(FieldError::NotCurrency(text))
            }
        }
        FieldKind::JobRole => match value {
            Value::String(title) if title.contains('\0') => Err(FieldError::Nul { part: None }),
            Value::String(title) if !title.trim().is_empty() && title.chars().count() <= 255 => {
                Ok(FieldValue::JobRole { title: title.clone(), external_id: None })
            }
            Value::Object(role) => {
                let title = match role.get("title") {
                    Some(Value::String(title)) if title.contains('\0') => {
                        return Err(FieldError::Nul { part: Some("title") });
                    }
                    Some(Value::String(title)) if !title.trim().is_empty() && title.chars().count() <= 255 => {
                        title.clone()
                    }
                    _ => return Err(FieldError::JobRoleTitle),
                };
                let external_id = match role.get("externalId") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(id)) if id.contains('\0') => {
                        return Err(FieldError::Nul { part: Some("externalId") });
                    }
                    Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
                    Some(Value::Number(id)) => Some(id.to_string()),
                    Some(_) => return Err(FieldError::JobRoleExternalId),
                };
                if let Some(unknown) = role.keys().find(|key| !matches!(key.as_str(), "title" | "externalId")) {
                    return Err(FieldError::JobRoleUnknownField(unknown.clone()));
                }
                Ok(FieldValue::JobRole { title, external_id })
            }
            _ => Err(FieldError::JobRoleShape { got: type_name(value) }),
        },
    }
}
