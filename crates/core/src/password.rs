//! Password rules and hashing (SEC-AUTH-1, SEC-AUTH-2): argon2id with OWASP parameters,
//! 10 characters to 1,024 bytes, not among the 10,000 most common passwords.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{Error, Result};

/// Minimum length in characters.
pub const MIN_CHARS: usize = 10;
/// Maximum length in bytes.
pub const MAX_BYTES: usize = 1024;

/// The 10,000 most common passwords (from Django's list, itself from Royce Williams' breach corpus).
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().map(str::trim).collect());

fn hasher() -> Argon2<'static> {
    // OWASP: argon2id, m=19 MiB, t=2, p=1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a new password against the rules; the error names `field`.
pub fn check(field: &'static str, password: &str) -> Result<()> {
    if password.len() > MAX_BYTES {
        return Err(Error::invalid(field, format!("must be at most {MAX_BYTES} bytes")));
    }
    if password.chars().count() < MIN_CHARS {
        return Err(Error::invalid(field, format!("must be at least {MIN_CHARS} characters")));
    }
    if COMMON.contains(password) || COMMON.contains(password.to_lowercase().as_str()) {
        return Err(Error::invalid(field, "is one of the most common passwords; choose another"));
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal("password hashing failed", e))
}

/// Verifies a password against a stored hash; `None` (no password set) never verifies.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) if password.len() <= MAX_BYTES => match PasswordHash::new(stored) {
            Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        },
        _ => {
            // Spend the same time as a real check so that unknown accounts are not revealed (SEC-AUTH-3).
            let _ = hasher().verify_password(password.as_bytes(), &DUMMY);
            false
        }
    }
}

static DUMMY_STRING: LazyLock<String> =
    LazyLock::new(|| hash("not a real password, only for timing").unwrap_or_default());
static DUMMY: LazyLock<PasswordHash<'static>> = LazyLock::new(|| {
    PasswordHash::new(DUMMY_STRING.as_str()).unwrap_or_else(|_| {
        PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")
            .unwrap_or_else(|e| panic!("static fallback hash is valid: {e}"))
    })
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_with_owasp_parameters() {
        // SEC-AUTH-1
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong horse battery", Some(&h)));
        assert!(!verify("anything at all", None));
    }

    #[test]
    fn length_and_common_list() {
        // SEC-AUTH-2
        assert!(check("password", "short").is_err());
        assert!(check("password", &"x".repeat(1025)).is_err());
        assert!(check("password", "1234567890").is_err(), "common password refused");
        assert!(check("password", "qwertyuiop").is_err(), "common password refused");
        assert!(check("password", "plum-harbour-cactus").is_ok());
        assert!(check("password", &"é".repeat(10)).is_ok(), "ten characters, not bytes");
        assert_eq!(COMMON.len(), 10_000);
    }
}
