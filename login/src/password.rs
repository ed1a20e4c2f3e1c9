//! Password hashing for the login route: Argon2id, run off the async executor.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), login::password::PasswordError> {
//! use login::password;
//!
//! let stored = password::hash("hunter2").await?;          // at registration
//! assert!(password::verify("hunter2", Some(&stored)).await?);   // at login
//! assert!(!password::verify("wrong", Some(&stored)).await?);
//! // Unknown user: same work (a verify against a dummy hash), same answer.
//! assert!(!password::verify("hunter2", None).await?);
//! # Ok(()) }
//! ```

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The longest password accepted, in bytes. Longer input is refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password could not be hashed or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password is empty.
    #[error("the password is empty")]
    Empty,
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// Hashing failed (should not happen with valid input).
    #[error("password hashing failed")]
    Hash,
    /// The blocking task running the hash was cancelled or panicked.
    #[error("password hashing task failed")]
    Task,
}

fn check_bounds(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        Err(PasswordError::Empty)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// Hashes `password` with Argon2id (m=19456 KiB, t=2, p=1, a random salt) into a PHC string,
/// on a blocking thread.
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    check_bounds(password)?;
    let password = zeroize::Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|_| PasswordError::Task)?
}

/// The blocking version of [`hash`], for start-up code and threads of your own.
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    check_bounds(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Checks `password` against a stored PHC hash, on a blocking thread.
///
/// Pass `None` when the user does not exist: the password is then checked against a dummy
/// hash, so an unknown user and a wrong password cost the same work and both answer
/// `Ok(false)`. A malformed stored hash also answers `Ok(false)` (fail closed, logged at warn
/// level). Only out-of-bounds input is an error, and it is checked before any hashing.
pub async fn verify(password: &str, stored_hash: Option<&str>) -> Result<bool, PasswordError> {
    check_bounds(password)?;
    let password = zeroize::Zeroizing::new(password.to_owned());
    let stored = stored_hash.map(str::to_owned);
    tokio::task::spawn_blocking(move || verify_blocking(&password, stored.as_deref()))
        .await
        .map_err(|_| PasswordError::Task)?
}

/// The blocking version of [`verify`].
pub fn verify_blocking(password: &str, stored_hash: Option<&str>) -> Result<bool, PasswordError> {
    check_bounds(password)?;
    let argon2 = Argon2::default();
    match stored_hash {
        Some(stored) => match PasswordHash::new(stored) {
            Ok(parsed) => Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok()),
            Err(_) => {
                tracing::warn!("login: stored password hash is not a valid PHC string");
                // Same work as a real check, then fail closed.
                let _ = argon2.verify_password(password.as_bytes(), dummy_hash());
                Ok(false)
            }
        },
        None => {
            let _ = argon2.verify_password(password.as_bytes(), dummy_hash());
            Ok(false)
        }
    }
}

/// A hash of a random password with the default parameters, made once.
fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random: [u8; 32] = rand::random();
        let phc = Argon2::default()
            .hash_password(&random)
            .expect("Argon2 hashes 32 random bytes")
            .to_string();
        PasswordHash::new(&phc).expect("Argon2 produces a valid PHC string")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_checked_before_hashing() {
        assert_eq!(hash_blocking(""), Err(PasswordError::Empty));
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(hash_blocking(&long), Err(PasswordError::TooLong));
        assert_eq!(verify_blocking(&long, None), Err(PasswordError::TooLong));
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_blocking("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(
            verify_blocking("correct horse battery staple", Some(&h)),
            Ok(true)
        );
        assert_eq!(verify_blocking("wrong", Some(&h)), Ok(false));
        assert_eq!(verify_blocking("x", Some("not-a-phc-string")), Ok(false));
        assert_eq!(verify_blocking("x", None), Ok(false));
        let passphrase = "p".repeat(64);
        let h = hash_blocking(&passphrase).unwrap();
        assert_eq!(verify_blocking(&passphrase, Some(&h)), Ok(true));
    }
}
