//! Secrets sealed with AES-256-GCM under the master key. The integration id and the secret's
//! name are the associated data, so a sealed value cannot be moved to another name.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use flowstate_store::integrations::SealedSecret;

#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(…)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok()).collect()
}

impl Vault {
    pub fn new(master_key: [u8; 32]) -> Vault {
        Vault { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&master_key)) }
    }

    pub fn seal(&self, integration_id: &str, name: &str, value: &str) -> SealedSecret {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system's random source works");
        let aad = format!("{integration_id}/{name}");
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: value.as_bytes(), aad: aad.as_bytes() })
            .expect("AES-GCM encrypts any message of this size");
        SealedSecret {
            name: name.to_string(),
            nonce: hex(&nonce),
            ciphertext: hex(&ciphertext),
            updated_at: flowstate_time::now(),
        }
    }

    /// The value, or `None` if it was sealed under another key (or tampered with).
    pub fn open(&self, integration_id: &str, secret: &SealedSecret) -> Option<String> {
        let nonce = unhex(&secret.nonce).filter(|nonce| nonce.len() == 12)?;
        let ciphertext = unhex(&secret.ciphertext)?;
        let aad = format!("{integration_id}/{}", secret.name);
        let plain =
            self.cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: aad.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_name() {
        let vault = Vault::new([7; 32]);
        let sealed = vault.seal("int_1", "api_key", "s3cret");
        assert!(!sealed.ciphertext.contains(&hex(b"s3cret")), "the value is not stored as it is");
        assert_eq!(vault.open("int_1", &sealed).as_deref(), Some("s3cret"));
        assert_eq!(Vault::new([8; 32]).open("int_1", &sealed), None, "another master key");
        assert_eq!(vault.open("int_2", &sealed), None, "another integration");
        let renamed = SealedSecret { name: "other".into(), ..sealed.clone() };
        assert_eq!(vault.open("int_1", &renamed), None, "another name");
        assert_ne!(vault.seal("int_1", "api_key", "s3cret").nonce, sealed.nonce, "a fresh nonce each time");
    }
}
