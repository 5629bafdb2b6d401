//! API keys: `private_{id}_{secret}`, of which only the secret's SHA-256 is stored. The key
//! is shown once, when created; a key is scoped to one organisation and to a set of scopes.

use sha2::{Digest, Sha256};

use crate::OrgId;
pub use crate::kinds::Scope;

/// Every scope a key can hold.
pub const ALL_SCOPES: &[Scope] = Scope::ALL;

/// A stored key (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub org: OrgId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
}

impl ApiKey {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A key just created: `token` is the only time the secret exists outside its holder.
#[derive(Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub token: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey").field("key", &self.key).field("token", &"private_…").finish()
    }
}

/// The row as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub secret_sha256: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub(crate) fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// 32 random bytes as hex.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The prefix of every key (the one place the key's shape is spelled, with [`token`] and
/// [`parse_token`]).
const PREFIX: &str = "private_";

/// The key a caller sends: `private_{id}_{secret}`.
pub(crate) fn token(id: &str, secret: &str) -> String {
    format!("{PREFIX}{id}_{secret}")
}

/// `private_{id}_{secret}` → (id, secret), if it has that shape.
pub(crate) fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_hexdigit());
    (hex(id) && hex(secret)).then_some((id, secret))
}

/// A key's id, given the id or the whole key.
pub fn key_id(id_or_token: &str) -> &str {
    parse_token(id_or_token).map_or(id_or_token, |(id, _)| id)
}

/// Equal, in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_only_in_their_shape() {
        assert_eq!(parse_token("private_0a1b_ff00"), Some(("0a1b", "ff00")));
        for bad in ["public_0a1b_ff00", "private_0a1b", "private__ff00", "private_0a1b_", "private_xyz_ff00", ""] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abcd", "abcd"));
        assert!(!same_secret("abcd", "abce"));
        assert!(!same_secret("abcd", "abc"));
    }
}
