//! Keeps secret values out of everything an execution records.

use std::{
    borrow::Cow,
    fmt,
    sync::{Arc, LazyLock},
};

use serde_json::Value;

/// Values shorter than this many characters are not redacted (see [`Redactor`]).
pub const MIN_REDACTED_CHARS: usize = 4;

/// Replaces every occurrence of a secret's value with `[REDACTED:name]`, in the forms a
/// value takes by accident on its way into a log line, a URL or an error:
///
/// - as given, or with its letters in another case (a host name comes back lower-cased from
///   URL parsing): letters match ignoring ASCII case, and other letters also match their
///   Unicode lower- and upper-case forms;
/// - percent-encoded by any encoder (each character may be written `%XX`, hex digits in
///   either case, or literally, so `encodeURIComponent`, the URL parser's sets and form
///   encoding all match), with a space also as `+`;
/// - escaped once or twice as a JSON string (`\"`, `\\\"`, `\n`, `\u0022`, `\/`), or as Rust's
///   `{:?}` writes it;
/// - inside Base64, as in `Authorization: Basic base64(user:secret)`: every run of Base64
///   characters (standard or URL-safe alphabet, padded or not) is decoded at each of its four
///   alignments, and a run whose bytes contain a value is replaced whole (the user name
///   too). The value must be there verbatim in the decoded bytes, as UTF-8 or, when it fits,
///   as Latin-1 (which `btoa` writes).
///
/// A match may mix these spellings character by character; what it spells is still the value.
/// Longer values are replaced first, so a secret that contains another is still redacted
/// whole. Values shorter than [`MIN_REDACTED_CHARS`] characters are ignored: one to three
/// characters occur inside ordinary words and numbers, so redacting them would wreck every
/// log while hiding nothing (the server refuses such secrets when they are set).
///
/// ```
/// use flowstate_runtime::Redactor;
/// let redactor = Redactor::new([("api_key", "S3cr3t v@lue")]);
/// assert_eq!(redactor.redact("key=S3cr3t v@lue"), "key=[REDACTED:api_key]");
/// assert_eq!(redactor.redact("https://s3cr3t%20v@lue.example/"), "https://[REDACTED:api_key].example/");
/// assert_eq!(redactor.redact("?k=S3cr3t+v%40lue"), "?k=[REDACTED:api_key]");
/// assert_eq!(redactor.redact("Authorization: Basic dTpTM2NyM3QgdkBsdWU="), "Authorization: Basic [REDACTED:api_key]");
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest value first.
    secrets: Vec<Secret>,
}

#[derive(Clone)]
struct Secret {
    name: String,
    replacement: String,
    /// For each character of the value, every way it may be written.
    spellings: Vec<Spellings>,
    /// Whether a match can start with this byte.
    starts: [bool; 256],
    /// The value's UTF-8, and its Latin-1 when that differs, looked for in decoded Base64.
    encodings: Vec<Box<[u8]>>,
}

impl Redactor {
    /// A redactor for these `(name, value)` secrets.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Redactor {
        let mut secrets: Vec<Secret> = secrets
            .into_iter()
            .filter(|(_, value)| value.chars().count() >= MIN_REDACTED_CHARS)
            .map(|(name, value)| Secret::new(name, value))
            .collect();
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.spellings.len()));
        Redactor { secrets }
    }

    /// `text` with every secret replaced.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut result = Cow::Borrowed(text);
        if self.secrets.is_empty() {
            return result; // nothing to look for, in any form
        }
        for secret in &self.secrets {
            if let Some(replaced) = secret.replace_spelled(&result) {
                result = Cow::Owned(replaced);
            }
        }
        if let Some(replaced) = self.replace_base64(&result) {
            result = Cow::Owned(replaced);
        }
        result
    }

    /// Redacts every string (and object key) inside a JSON value, in place. A number whose
    /// digits hold a secret becomes the redacted string.
    pub fn redact_json(&self, value: &mut Value) {
        if self.secrets.is_empty() {
            return;
        }
        match value {
            Value::String(text) => {
                if let Cow::Owned(redacted) = self.redact(text) {
                    *text = redacted;
                }
            }
            Value::Number(number) => {
                if let Cow::Owned(redacted) = self.redact(&number.to_string()) {
                    *value = Value::String(redacted);
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

    /// Replaces each run of Base64 characters (and its padding) that decodes to bytes holding
    /// a secret; `None` when there is none.
    fn replace_base64(&self, text: &str) -> Option<String> {
        let shortest = self.secrets.iter().flat_map(|secret| secret.encodings.iter().map(|bytes| bytes.len())).min()?;
        // A value of n bytes spans at least this many Base64 characters, wherever it starts.
        let shortest_run = (shortest * 4).div_ceil(3);
        let bytes = text.as_bytes();
        let mut redacted = String::new();
        let mut copied = 0;
        let mut at = 0;
        while at < bytes.len() {
            if !is_base64(bytes[at]) {
                at += 1;
                continue;
            }
            let start = at;
            while at < bytes.len() && is_base64(bytes[at]) {
                at += 1;
            }
            let run = &bytes[start..at];
            while at < bytes.len() && bytes[at] == b'=' {
                at += 1;
            }
            if run.len() < shortest_run {
                continue;
            }
            // Base64 decodes in independent groups of four characters, so one of the four
            // alignments decodes the value correctly whatever stands before it in the run.
            let found = (0..4.min(run.len())).find_map(|offset| {
                let decoded = decode_base64_leniently(&run[offset..]);
                self.secrets.iter().find(|secret| secret.encodings.iter().any(|bytes| contains(&decoded, bytes)))
            });
            if let Some(secret) = found {
                // Runs are ASCII, so `start` and `at` are character boundaries.
                redacted.push_str(&text[copied..start]);
                redacted.push_str(&secret.replacement);
                copied = at;
            }
        }
        if copied == 0 {
            return None;
        }
        redacted.push_str(&text[copied..]);
        Some(redacted)
    }
}

impl fmt::Debug for Redactor {
    /// Names only: the values are what this type keeps out of sight.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.secrets.iter().map(|secret| &secret.name)).finish()
    }
}

impl Secret {
    fn new(name: &str, value: &str) -> Secret {
        let spellings: Vec<Spellings> = value.chars().map(spellings_for).collect();
        let mut starts = [false; 256];
        for spelling in spellings[0].iter() {
            let first = spelling[0];
            starts[first.to_ascii_lowercase() as usize] = true;
            starts[first.to_ascii_uppercase() as usize] = true;
        }
        let mut encodings: Vec<Box<[u8]>> = vec![value.as_bytes().into()];
        let latin1: Option<Vec<u8>> = value.chars().map(|character| u8::try_from(character).ok()).collect();
        if let Some(latin1) = latin1.filter(|latin1| latin1.as_slice() != value.as_bytes()) {
            encodings.push(latin1.into());
        }
        Secret { name: name.to_string(), replacement: format!("[REDACTED:{name}]"), spellings, starts, encodings }
    }

    /// `text` with every spelling of the value replaced; `None` when there is none.
    fn replace_spelled(&self, text: &str) -> Option<String> {
        let bytes = text.as_bytes();
        let mut redacted = String::new();
        let mut copied = 0;
        let mut at = 0;
        while at < bytes.len() {
            match self.starts[bytes[at] as usize].then(|| self.match_at(bytes, at)).flatten() {
                Some(end) => {
                    // Every spelling is whole characters and starts with an ASCII byte or a
                    // UTF-8 lead byte, so `at` and `end` are character boundaries.
                    redacted.push_str(&text[copied..at]);
                    redacted.push_str(&self.replacement);
                    copied = end;
                    at = end;
                }
                None => at += 1,
            }
        }
        if copied == 0 {
            return None;
        }
        redacted.push_str(&text[copied..]);
        Some(redacted)
    }

    /// The end of the longest match starting at `start`. Spellings may be prefixes of one
    /// another (`\` and `\\`), so every position reachable so far is followed at once, which
    /// keeps the work linear in the value's length.
    fn match_at(&self, text: &[u8], start: usize) -> Option<usize> {
        let mut reached = vec![start];
        let mut next = Vec::new();
        for spellings in &self.spellings {
            next.clear();
            for &position in &reached {
                for spelling in spellings.iter() {
                    let end = position + spelling.len();
                    if text.get(position..end).is_some_and(|found| found.eq_ignore_ascii_case(spelling))
                        && !next.contains(&end)
                    {
                        next.push(end);
                    }
                }
            }
            if next.is_empty() {
                return None;
            }
            std::mem::swap(&mut reached, &mut next);
        }
        reached.into_iter().max()
    }
}

/// The ways one character of a secret may be written.
type Spellings = Arc<[Box<[u8]>]>;

/// Each ASCII character's spellings, made once: a redactor is made for every execution, and
/// making a character's spellings takes a dozen allocations.
static ASCII_SPELLINGS: LazyLock<Vec<Spellings>> =
    LazyLock::new(|| (0u8..128).map(|byte| Spellings::from(spellings_of(char::from(byte)))).collect());

fn spellings_for(character: char) -> Spellings {
    match u8::try_from(character) {
        Ok(byte) if byte.is_ascii() => ASCII_SPELLINGS[usize::from(byte)].clone(),
        _ => Spellings::from(spellings_of(character)),
    }
}

/// Every way `character` may be written in recorded text (compared ignoring ASCII case).
fn spellings_of(character: char) -> Vec<Box<[u8]>> {
    let literal = character.to_string();
    let mut spellings = vec![literal.clone(), character.to_lowercase().collect(), character.to_uppercase().collect()];
    let mut utf8 = [0; 4];
    spellings.push(character.encode_utf8(&mut utf8).bytes().map(|byte| format!("%{byte:02X}")).collect());
    if character == ' ' {
        spellings.push("+".to_string());
    }
    let json_once = json_escape(&literal);
    let json_twice = json_escape(&json_once);
    let mut utf16 = [0; 2];
    let unicode_escape: String =
        character.encode_utf16(&mut utf16).iter().map(|unit| format!("\\u{unit:04X}")).collect();
    let unicode_escape_twice = json_escape(&unicode_escape);
    spellings.extend([json_once, json_twice, unicode_escape, unicode_escape_twice, character.escape_debug().collect()]);
    if character == '/' {
        spellings.extend(["\\/".to_string(), "\\\\/".to_string()]);
    }
    let mut spellings: Vec<Box<[u8]>> = spellings.into_iter().map(|spelling| spelling.into_bytes().into()).collect();
    spellings.sort_by_key(|spelling| spelling.to_ascii_lowercase());
    spellings.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    spellings
}

/// `text` as it appears between the quotes of a JSON string.
fn json_escape(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("strings serialize");
    quoted[1..quoted.len() - 1].to_string()
}

fn is_base64(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_')
}

/// Decodes Base64 in either alphabet (even mixed), without padding; a trailing single
/// character, which holds no whole byte, is dropped.
fn decode_base64_leniently(run: &[u8]) -> Vec<u8> {
    let sextet = |byte: u8| match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    };
    let mut decoded = Vec::with_capacity(run.len() * 3 / 4);
    for group in run.chunks(4) {
        let bits = group
            .iter()
            .enumerate()
            .fold(0u32, |bits, (index, &byte)| bits | u32::from(sextet(byte)) << (18 - 6 * index));
        let whole_bytes = group.len() * 6 / 8;
        decoded.extend_from_slice(&bits.to_be_bytes()[1..1 + whole_bytes]);
    }
    decoded
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// Standard Base64 with padding.
    fn base64(bytes: &[u8]) -> String {
        let mut encoded = String::new();
        for group in bytes.chunks(3) {
            let bits =
                group.iter().enumerate().fold(0u32, |bits, (index, &byte)| bits | u32::from(byte) << (16 - 8 * index));
            for index in 0..4 {
                if index <= group.len() {
                    encoded.push(BASE64[(bits >> (18 - 6 * index) & 63) as usize] as char);
                } else {
                    encoded.push('=');
                }
            }
        }
        encoded
    }

    fn url_safe_unpadded(standard: &str) -> String {
        standard.trim_end_matches('=').replace('+', "-").replace('/', "_")
    }

    #[test]
    fn longest_secret_wins_and_json_is_walked() {
        let redactor = Redactor::new([("short", "abcd"), ("long", "abcdefgh"), ("empty", "")]);
        assert_eq!(redactor.redact("xabcdefghx abcd"), "x[REDACTED:long]x [REDACTED:short]");
        let mut value = serde_json::json!({ "abcd": ["abcdefgh", 1, { "k": "zabcd" }] });
        redactor.redact_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({ "[REDACTED:short]": ["[REDACTED:long]", 1, { "k": "z[REDACTED:short]" }] })
        );
    }

    #[test]
    fn values_under_four_characters_are_left_alone() {
        let redactor = Redactor::new([("one", "a"), ("three", "é1x"), ("four", "wxyz")]);
        assert_eq!(redactor.redact("a cat, é1x, wxyz"), "a cat, é1x, [REDACTED:four]");
        assert_eq!(redactor.redact("Basic d3h5eg=="), "Basic [REDACTED:four]");
    }

    #[test]
    fn a_lower_cased_or_upper_cased_value_is_redacted() {
        let redactor = Redactor::new([("token", "Sk_Live_9F8E"), ("unicode", "ÄÖÜ-Straße")]);
        assert_eq!(redactor.redact("https://sk_live_9f8e.example.com/"), "https://[REDACTED:token].example.com/");
        assert_eq!(redactor.redact("SK_LIVE_9F8E"), "[REDACTED:token]");
        // `ß` upper-cases to two letters.
        assert_eq!(redactor.redact("äöü-straße, ÄÖÜ-STRASSE"), "[REDACTED:unicode], [REDACTED:unicode]");
    }

    #[test]
    fn any_percent_encoding_is_redacted() {
        let redactor = Redactor::new([("password", "p@ss w~rd/+é")]);
        for encoded in [
            // `encodeURIComponent` leaves `~` alone, which the old single encoding did not.
            "p%40ss%20w~rd%2F%2B%C3%A9",
            // Every character encoded, with lower-case hex digits.
            "p%40ss%20w%7erd%2f%2b%c3%a9",
            // A URL path, which keeps `@`, `/` and `+`.
            "p@ss%20w~rd/+%C3%A9",
        ] {
            assert_eq!(redactor.redact(&format!("/x/{encoded}/y")), "/x/[REDACTED:password]/y", "{encoded}");
        }
    }

    #[test]
    fn a_form_encoded_value_is_redacted() {
        let redactor = Redactor::new([("password", "p@ss word")]);
        assert_eq!(redactor.redact("?pw=p%40ss+word&x=1"), "?pw=[REDACTED:password]&x=1");
    }

    #[test]
    fn a_json_escaped_value_is_redacted_once_and_twice() {
        // A backspace is written `\b` in JSON and `\u{8}` by Rust.
        let secret = "q\"uo\\te\n/\u{8}";
        let redactor = Redactor::new([("quote", secret)]);
        let once = serde_json::to_string(&serde_json::json!({ "secret": secret })).unwrap();
        let twice = serde_json::to_string(&serde_json::json!({ "body": once })).unwrap();
        assert_eq!(redactor.redact(&once), r#"{"secret":"[REDACTED:quote]"}"#);
        assert_eq!(redactor.redact(&twice), r#"{"body":"{\"secret\":\"[REDACTED:quote]\"}"}"#);
        // Escaped by encoders that write `\uXXXX` or `\/`, and by Rust's `{:?}`.
        assert_eq!(redactor.redact(r#""q\u0022uo\u005cte\u000a\/\u0008""#), r#""[REDACTED:quote]""#);
        assert_eq!(redactor.redact(&format!("{secret:?}")), r#""[REDACTED:quote]""#);
    }

    #[test]
    fn base64_holding_the_value_is_redacted() {
        let secret = "s3cret~value";
        let redactor = Redactor::new([("password", secret)]);
        for user in ["", "u", "us", "alice"] {
            let standard = base64(format!("{user}:{secret}").as_bytes());
            let url_safe = url_safe_unpadded(&standard);
            for (text, expected) in [
                (format!("Authorization: Basic {standard}"), "Authorization: Basic [REDACTED:password]"),
                (format!("auth={url_safe}&x=1"), "auth=[REDACTED:password]&x=1"),
                // Glued to other Base64 characters, at any alignment.
                (format!("[xyz{standard}]"), "[[REDACTED:password]]"),
            ] {
                assert_eq!(redactor.redact(&text), expected, "{text}");
            }
        }
        assert_eq!(redactor.redact(&base64(secret.as_bytes())), "[REDACTED:password]");
        let accented = Redactor::new([("password", "wörd~1")]);
        assert_eq!(accented.redact(&base64("u:wörd~1".as_bytes())), "[REDACTED:password]");
        assert_eq!(accented.redact(&base64(b"u:w\xF6rd~1")), "[REDACTED:password]", "Latin-1, as from btoa");
        // Other Base64 stays.
        assert_eq!(redactor.redact("Basic dXNlcjpvdGhlcg=="), "Basic dXNlcjpvdGhlcg==");
    }

    #[test]
    fn a_number_holding_the_value_is_redacted() {
        let redactor = Redactor::new([("pin", "48213377")]);
        let mut value = serde_json::json!({ "pin": 48213377, "other": 12 });
        redactor.redact_json(&mut value);
        assert_eq!(value, serde_json::json!({ "pin": "[REDACTED:pin]", "other": 12 }));
    }

    #[test]
    fn debug_shows_names_not_values() {
        let shown = format!("{:?}", Redactor::new([("api_key", "s3cr3t-value")]));
        assert!(shown.contains("api_key") && !shown.contains("s3cr3t"), "{shown}");
    }
}
