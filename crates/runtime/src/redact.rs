//! Keeps secret values out of everything an execution records.

use std::borrow::Cow;

use serde_json::Value;

/// Replaces every occurrence of a secret's value, and of its URL-encoded forms, with
/// `[REDACTED:name]`. Longer values are replaced first, so a secret that contains another
/// is still redacted whole. Empty values are ignored.
///
/// ```
/// use flowstate_runtime::Redactor;
/// let redactor = Redactor::new([("api_key", "s3cr3t v@lue")]);
/// assert_eq!(redactor.redact("key=s3cr3t v@lue"), "key=[REDACTED:api_key]");
/// assert_eq!(redactor.redact("?k=s3cr3t%20v%40lue"), "?k=[REDACTED:api_key]");
/// assert_eq!(redactor.redact("?k=s3cr3t+v%40lue"), "?k=[REDACTED:api_key]");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// (needle, replacement), longest needle first.
    needles: Vec<(String, String)>,
}

impl Redactor {
    /// A redactor for these `(name, value)` secrets.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Redactor {
        let mut needles = Vec::new();
        for (name, value) in secrets {
            if value.is_empty() {
                continue;
            }
            let replacement = format!("[REDACTED:{name}]");
            let percent = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string();
            let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            for needle in [value.to_string(), percent, form] {
                if !needles.iter().any(|(existing, _)| *existing == needle) {
                    needles.push((needle, replacement.clone()));
                }
            }
        }
        needles.sort_by_key(|(needle, _)| std::cmp::Reverse(needle.len()));
        Redactor { needles }
    }

    /// `text` with every secret replaced.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut result = Cow::Borrowed(text);
        for (needle, replacement) in &self.needles {
            if result.contains(needle.as_str()) {
                result = Cow::Owned(result.replace(needle.as_str(), replacement));
            }
        }
        result
    }

    /// Redacts every string (and object key) inside a JSON value, in place.
    pub fn redact_json(&self, value: &mut Value) {
        if self.needles.is_empty() {
            return;
        }
        match value {
            Value::String(text) => {
                if let Cow::Owned(redacted) = self.redact(text) {
                    *text = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_json(item)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.redact_json(&mut item);
                    map.insert(self.redact(&key).into_owned(), item);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_secret_wins_and_json_is_walked() {
        let redactor = Redactor::new([("short", "abc"), ("long", "abcdef"), ("empty", "")]);
        assert_eq!(redactor.redact("xabcdefx abc"), "x[REDACTED:long]x [REDACTED:short]");
        let mut value = serde_json::json!({ "abc": ["abcdef", 1, { "k": "zabc" }] });
        redactor.redact_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({ "[REDACTED:short]": ["[REDACTED:long]", 1, { "k": "z[REDACTED:short]" }] })
        );
    }
}
