//! Channel secrets at rest: sealed with ChaCha20-Poly1305 before they reach
//! the store, opened only to hand them to the plugin they belong to.
//!
//! A sealed value is `os1:<key id>:<base64 of nonce ‖ ciphertext>`. The key
//! id (the first 8 bytes of the key's SHA-256, in hex) says which key sealed
//! it, so keys can be rotated: the host opens with the current key or any
//! older one it was given, and on start re-seals everything under the
//! current key. The associated data is `tenant/channel/name`, so a sealed
//! value copied to another channel or name does not open.
//!
//! Keys are 32 random bytes written as 64 hex digits, from
//! `OMNISTORE_SECRETS_KEY`, else the file `secrets-key` in the data
//! directory (created on first start, readable by its owner only). Older
//! keys, during a rotation: `OMNISTORE_SECRETS_OLD_KEYS`, comma-separated.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

const PREFIX: &str = "os1";
const NONCE_BYTES: usize = 12;
/// What the fingerprint key is derived for.
const FINGERPRINT_PURPOSE: &[u8] = b"omnistore admin idempotency fingerprint v1";
/// The environment variable of the current key.
pub const KEY_ENV: &str = "OMNISTORE_SECRETS_KEY";
/// The environment variable of older keys still accepted for opening.
pub const OLD_KEYS_ENV: &str = "OMNISTORE_SECRETS_OLD_KEYS";
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secrets-key";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "a secret was sealed with key {0}, which this host was not given; start it with that key \
         ({KEY_ENV} or the data directory's {KEY_FILE}), or list it in {OLD_KEYS_ENV} while rotating"
    )]
    UnknownKey(String),
    #[error("a sealed secret does not open with its key {0}: it was altered or belongs to another channel")]
    Tampered(String),
    #[error("a stored secret is not sealed (written before secrets were encrypted)")]
    NotSealed,
    #[error("a secrets key must be 64 hex digits (32 bytes); generate one with `openssl rand -hex 32`")]
    BadKey,
    #[error("the OS random source failed")]
    Random,
    #[error("reading or creating the secrets key file failed: {0}")]
    KeyFile(#[source] std::io::Error),
}

struct SealKey {
    id: String,
    cipher: ChaCha20Poly1305,
    /// The key that signs request fingerprints (see [`SecretKeys::fingerprint_keys`]).
    fingerprint: [u8; 32],
}

impl SealKey {
    fn new(bytes: &[u8; 32]) -> SealKey {
        use hmac::Mac as _;
        let id = hex::encode(&Sha256::digest(bytes)[..8]);
        // Derived, not the sealing key itself: one key, one purpose.
        let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(bytes).expect("HMAC takes any key length");
        mac.update(FINGERPRINT_PURPOSE);
        let fingerprint = mac.finalize().into_bytes().into();
        SealKey { id, cipher: ChaCha20Poly1305::new(Key::from_slice(bytes)), fingerprint }
    }

    fn parse(text: &str) -> Result<SealKey, SecretError> {
        let bytes: [u8; 32] =
            hex::decode(text.trim()).ok().and_then(|b| b.try_into().ok()).ok_or(SecretError::BadKey)?;
        Ok(SealKey::new(&bytes))
    }
}

/// The keys that seal and open channel secrets.
pub struct SecretKeys {
    current: SealKey,
    older: Vec<SealKey>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Ids only: never key material.
        f.debug_struct("SecretKeys")
            .field("current", &self.current.id)
            .field("older", &self.older.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

impl SecretKeys {
    /// Keys given as hex text: the current one and older ones.
    pub fn from_hex(current: &str, older: &[&str]) -> Result<SecretKeys, SecretError> {
        Ok(SecretKeys {
            current: SealKey::parse(current)?,
            older: older.iter().map(|k| SealKey::parse(k)).collect::<Result<_, _>>()?,
        })
    }

    /// A fresh random key, for tests and throwaway hosts.
    pub fn random() -> Result<SecretKeys, SecretError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| SecretError::Random)?;
        Ok(SecretKeys { current: SealKey::new(&bytes), older: Vec::new() })
    }

    /// The deployment's keys: [`KEY_ENV`] (and [`OLD_KEYS_ENV`]), else the
    /// key file in `data_dir`, created with a new random key when missing.
    pub fn from_env_or_file(data_dir: &Path) -> Result<SecretKeys, SecretError> {
        let older: Vec<String> = std::env::var(OLD_KEYS_ENV)
            .map(|v| v.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let older: Vec<&str> = older.iter().map(String::as_str).collect();
        if let Ok(key) = std::env::var(KEY_ENV) {
            return SecretKeys::from_hex(&key, &older);
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(key) => SecretKeys::from_hex(&key, &older),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(|_| SecretError::Random)?;
                write_private(&path, &hex::encode(bytes)).map_err(SecretError::KeyFile)?;
                SecretKeys::from_hex(&hex::encode(bytes), &older)
            }
            Err(e) => Err(SecretError::KeyFile(e)),
        }
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Keys for keyed request fingerprints (HMAC), derived from the current
    /// key first, then from each older one, so a fingerprint made before a
    /// rotation is still recognised. They are never written to the store.
    pub(crate) fn fingerprint_keys(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.current).chain(&self.older).map(|k| &k.fingerprint)
    }

    /// Seal `plain` for the secret named by `context` (`tenant/channel/name`).
    pub fn seal(&self, context: &str, plain: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|_| SecretError::Random)?;
        let payload = Payload { msg: plain.as_bytes(), aad: context.as_bytes() };
        let sealed = self
            .current
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| SecretError::Tampered(self.current.id.clone()))?;
        Ok(format!("{PREFIX}:{}:{}", self.current.id, STANDARD_NO_PAD.encode([&nonce[..], &sealed].concat())))
    }

    /// Open a sealed value; the id of the key that opened it comes along.
    pub fn open(&self, context: &str, stored: &str) -> Result<(String, &str), SecretError> {
        let mut parts = stored.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SecretError::NotSealed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_owned()))?;
        let tampered = || SecretError::Tampered(id.to_owned());
        let bytes = STANDARD_NO_PAD.decode(data).map_err(|_| tampered())?;
        if bytes.len() < NONCE_BYTES {
            return Err(tampered());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = key
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() })
            .map_err(|_| tampered())?;
        Ok((String::from_utf8(plain).map_err(|_| tampered())?, &key.id))
    }
}

/// The associated data of one secret.
pub fn context(tenant: &str, channel: &str, name: &str) -> String {
    format!("{tenant}/{channel}/{name}")
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_what_does_not_belong() {
        let keys = SecretKeys::random().unwrap();
        let sealed = keys.seal("t/c/api_key", "hunter2-plain").unwrap();
        assert!(!sealed.contains("hunter2"), "{sealed}");
        assert_eq!(keys.open("t/c/api_key", &sealed).unwrap().0, "hunter2-plain");
        // Another channel's context: refused.
        assert!(matches!(keys.open("t/other/api_key", &sealed), Err(SecretError::Tampered(_))));
        // Another key: names the key it needs.
        let other = SecretKeys::random().unwrap();
        assert!(
            matches!(other.open("t/c/api_key", &sealed), Err(SecretError::UnknownKey(id)) if id == keys.current_id())
        );
        assert!(matches!(keys.open("t/c/api_key", "plain text"), Err(SecretError::NotSealed)));
    }

    #[test]
    fn rotation_opens_with_an_older_key() {
        let old = "11".repeat(32);
        let new = "22".repeat(32);
        let before = SecretKeys::from_hex(&old, &[]).unwrap();
        let sealed = before.seal("t/c/n", "v").unwrap();
        let after = SecretKeys::from_hex(&new, &[&old]).unwrap();
        let (plain, by) = after.open("t/c/n", &sealed).unwrap();
        assert_eq!((plain.as_str(), by), ("v", before.current_id()));
        assert_ne!(by, after.current_id(), "the caller sees it needs re-sealing");
        assert!(matches!(SecretKeys::from_hex("abc", &[]), Err(SecretError::BadKey)));
    }
}
