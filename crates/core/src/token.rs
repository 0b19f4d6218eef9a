//! Secret tokens (sessions, magic links, invitations, resets): 256 bits from the OS CSPRNG,
//! shown once to their owner and stored only as a SHA-256 hash (SEC-AUTH-5, SEC-SESS-1).

use base64::Engine;
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A freshly generated secret and the hash to store for it.
pub struct NewToken {
    /// Give this to the user (cookie, link, API answer); never store it.
    pub secret: String,
    /// Store this; look tokens up by it.
    pub hash: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("secret", &"<redacted>").field("hash", &self.hash).finish()
    }
}

/// Generates a 256-bit URL-safe token.
pub fn generate() -> NewToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .unwrap_or_else(|e| panic!("the operating system's random number generator failed: {e}"));
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&secret);
    NewToken { secret, hash }
}

/// The stored form of a token.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a presented token has a plausible shape (cheap rejection before any lookup).
pub fn well_formed(secret: &str) -> bool {
    secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Compares two secrets in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_unique_and_hashed() {
        // SEC-AUTH-5, SEC-SESS-1: >= 128 bits, stored only as a hash.
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(well_formed(&a.secret));
        assert_eq!(a.hash, hash(&a.secret));
        assert_ne!(a.hash, a.secret);
        assert_eq!(a.hash.len(), 64);
        assert!(!format!("{a:?}").contains(&a.secret));
    }

    #[test]
    fn same_compares_exactly() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
