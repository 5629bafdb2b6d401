//! Change detection: a hash of a record's canonical `data`.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// SHA-256 of the canonical JSON of `data`: keys sorted at every level, no insignificant
/// whitespace, numbers as serde_json prints them. Equal data, however it was ordered, has
/// an equal fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// ```
    /// use flowstate_sync::Fingerprint;
    /// let a = serde_json::json!({ "b": 1, "a": [ { "y": 2, "x": 1 } ] });
    /// let b = serde_json::json!({ "a": [ { "x": 1, "y": 2 } ], "b": 1 });
    /// assert_eq!(Fingerprint::of(a.as_object().unwrap()), Fingerprint::of(b.as_object().unwrap()));
    /// ```
    pub fn of(data: &Map<String, Value>) -> Fingerprint {
        let mut hasher = Sha256::new();
        write_object(&mut hasher, data);
        let digest = hasher.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(64);
        for byte in digest {
            text.push(HEX[usize::from(byte >> 4)] as char);
            text.push(HEX[usize::from(byte & 0xf)] as char);
        }
        Fingerprint(text)
    }

    /// A fingerprint as stored.
    pub fn from_stored(text: String) -> Fingerprint {
        Fingerprint(text)
    }

    /// The hex text, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Keys are sorted here explicitly rather than trusting `Map`'s order: another crate in
/// the build enabling serde_json's `preserve_order` feature would otherwise change every
/// fingerprint. Text goes straight into the hasher (no intermediate strings).
fn write_object(hasher: &mut Sha256, object: &Map<String, Value>) {
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort_unstable();
    hasher.update(b"{");
    for (index, key) in keys.into_iter().enumerate() {
        if index > 0 {
            hasher.update(b",");
        }
        serde_json::to_writer(HashWriter(hasher), key).expect("hashing cannot fail");
        hasher.update(b":");
        write_value(hasher, &object[key]);
    }
    hasher.update(b"}");
}

fn write_value(hasher: &mut Sha256, value: &Value) {
    match value {
        Value::Object(object) => write_object(hasher, object),
        Value::Array(items) => {
            hasher.update(b"[");
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    hasher.update(b",");
                }
                write_value(hasher, item);
            }
            hasher.update(b"]");
        }
        scalar => serde_json::to_writer(HashWriter(hasher), scalar).expect("hashing cannot fail"),
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
