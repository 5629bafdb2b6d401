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

/// Checks one non-null JSON value against a kind; the error is the message after the field
/// name (`"must be a date (YYYY-MM-DD), got \"03/15/2024\""`).
pub fn check(kind: FieldKind, value: &Value) -> Result<FieldValue, String> {
    let text = |value: &Value| match value {
        Value::String(text) if text.contains('\0') => Err(NUL.to_string()),
        Value::String(text) => Ok(text.clone()),
        other => Err(format!("must be a string, got {}", type_name(other))),
    };
    match kind {
        FieldKind::Text { max } => {
            let text = text(value)?;
            let length = text.chars().count();
            if length > max {
                return Err(format!("is {length} characters long, more than the limit of {max}"));
            }
            Ok(FieldValue::Text(text))
        }
        FieldKind::Id => {
            let text = text(value)?;
            if text.trim().is_empty() {
                return Err("must not be blank".to_string());
            }
            if text.chars().count() > 255 {
                return Err(format!("is {} characters long, more than the limit of 255", text.chars().count()));
            }
            Ok(FieldValue::Text(text))
        }
        FieldKind::Email => {
            let text = text(value)?;
            if text.len() > 254 || !is_email(&text) {
                return Err(format!("must be an email address, got {text:?}"));
            }
            Ok(FieldValue::Text(text))
        }
        FieldKind::Date => {
            let text = text(value).map_err(|_| format!("must be a date (YYYY-MM-DD), got {}", type_name(value)))?;
            parse_date(&text).map(FieldValue::Date).ok_or_else(|| format!("must be a date (YYYY-MM-DD), got {text:?}"))
        }
        FieldKind::Enum(allowed) => {
            let text = text(value)?;
            if allowed.contains(&text.as_str()) {
                Ok(FieldValue::Text(text))
            } else {
                Err(format!("must be one of {}, got {text:?}", allowed.join(", ")))
            }
        }
        FieldKind::Number { min, max } => {
            let number = value.as_f64().ok_or_else(|| format!("must be a number, got {}", type_name(value)))?;
            if !(min..=max).contains(&number) {
                return Err(format!("must be between {min} and {max}, got {number}"));
            }
            Ok(FieldValue::Number(number))
        }
        FieldKind::Money => {
            let number = value.as_f64().ok_or_else(|| format!("must be a number, got {}", type_name(value)))?;
            if !number.is_finite() || !(0.0..=MAX_MONEY).contains(&number) {
                return Err(format!("must be an amount between 0 and 10^15, got {number}"));
            }
            Ok(FieldValue::Number((number * 100.0).round() / 100.0))
        }
        FieldKind::Integer { min, max } => match value.as_f64() {
            Some(number) if number.fract() != 0.0 => Err("must be a whole number, got a fraction".to_string()),
            // The range is checked on the number as given, so the message quotes it.
            Some(number) if number < min as f64 || number > max as f64 => {
                Err(format!("must be between {min} and {max}, got {value}"))
            }
            Some(number) => Ok(FieldValue::Integer(value.as_i64().unwrap_or(number as i64))),
            None => Err(format!("must be a whole number, got {}", type_name(value))),
        },
        FieldKind::Currency => {
            let text = text(value)?;
            if text.len() == 3 && text.chars().all(|c| c.is_ascii_uppercase()) {
                Ok(FieldValue::Text(text))
            } else {
                Err(format!("must be an ISO 4217 currency code such as GBP, got {text:?}"))
            }
        }
        FieldKind::JobRole => match value {
            Value::String(title) if title.contains('\0') => Err(NUL.to_string()),
            Value::String(title) if !title.trim().is_empty() && title.chars().count() <= 255 => {
                Ok(FieldValue::JobRole { title: title.clone(), external_id: None })
            }
            Value::Object(role) => {
                let title = match role.get("title") {
                    Some(Value::String(title)) if title.contains('\0') => return Err(format!("title {NUL}")),
                    Some(Value::String(title)) if !title.trim().is_empty() && title.chars().count() <= 255 => {
                        title.clone()
                    }
                    _ => return Err("must have a title of 1 to 255 characters".to_string()),
                };
                let external_id = match role.get("externalId") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(id)) if id.contains('\0') => return Err(format!("externalId {NUL}")),
                    Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
                    Some(Value::Number(id)) => Some(id.to_string()),
                    Some(_) => return Err("externalId must be a non-empty string".to_string()),
                };
                if let Some(unknown) = role.keys().find(|key| !matches!(key.as_str(), "title" | "externalId")) {
                    return Err(format!("has an unknown field {unknown:?} (expected title and externalId)"));
                }
                Ok(FieldValue::JobRole { title, external_id })
            }
            _ => Err(format!("must be a title or {{ title, externalId }}, got {}", type_name(value))),
        },
    }
}
