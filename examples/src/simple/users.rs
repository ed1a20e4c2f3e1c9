//! The `simple` app's users: an in-memory store standing in for the database (fastapi-login's
//! usage page calls it `query_user`), with the two demo users.
//!
//! The store counts its lookups ([`Db::lookups`]): the example's `#[user_loader]` is the only
//! caller on protected routes, so its tests can show that a rejected token never reached it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use login::mfa::{RecoveryCodes, RecoveryHash, TotpSecret};
use login::password;
use serde::Serialize;
use utoipa::ToSchema;

/// A user of the app. The password hash and the allowed scopes are never serialized, and
/// `Debug` leaves the hash out (so `tracing::debug!(?user)` never logs it).
#[derive(Clone, Serialize, ToSchema)]
pub struct User {
    /// The e-mail address: the token's subject.
    pub email: String,
    /// The display name.
    pub name: String,
    #[serde(skip)]
    pub(super) password_hash: String,
    #[serde(skip)]
    pub(super) scopes: Vec<String>,
    /// The second factor, once confirmed.
    #[serde(skip)]
    pub(super) mfa: Option<Mfa>,
    /// A TOTP secret enrolled and not confirmed yet.
    #[serde(skip)]
    pub(super) pending_totp: Option<TotpSecret>,
}

/// A user's second factor: the TOTP secret, the last step accepted, the recovery codes left.
#[derive(Clone)]
pub struct Mfa {
    pub(super) secret: TotpSecret,
    pub(super) last_step: Option<u64>,
    pub(super) recovery_codes: Vec<RecoveryHash>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("mfa", &self.mfa.is_some())
            .finish_non_exhaustive()
    }
}

/// The in-memory user store. It counts its lookups, so that tests can show that a rejected
/// token never reaches it.
#[derive(Clone, Default)]
pub struct Db {
    users: Arc<RwLock<HashMap<String, User>>>,
    lookups: Arc<AtomicUsize>,
}

impl Db {
    /// The two demo users, with Argon2id hashes made now (never plaintext at rest).
    pub fn demo() -> Self {
        let db = Db::default();
        for (email, name, pw, scopes) in [
            (
                "johndoe@mail.com",
                "John Doe",
                "hunter2",
                &["read", "write"][..],
            ),
            (
                "janedoe@mail.com",
                "Jane Doe",
                "jane-secret-pw",
                &["read"][..],
            ),
        ] {
            let hash = password::Passwords::default()
                .hash_blocking(pw)
                .expect("demo passwords are within bounds");
            db.add_user(email, name, hash, scopes);
        }
        db
    }

    /// Adds (or replaces) a user, with a password hash made by `login::password`.
    pub fn add_user(&self, email: &str, name: &str, password_hash: String, scopes: &[&str]) {
        let user = User {
            email: email.to_owned(),
            name: name.to_owned(),
            password_hash,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            mfa: None,
            pending_totp: None,
        };
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        users.insert(email.to_owned(), user);
    }

    /// Finds a user by e-mail.
    pub async fn find(&self, email: &str) -> Option<User> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users.get(email).cloned()
    }

    /// Replaces a user's password hash (after rehashing an outdated one at login).
    pub async fn set_password_hash(&self, email: &str, password_hash: String) {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        if let Some(user) = users.get_mut(email) {
            user.password_hash = password_hash;
        }
    }

    fn update<T>(&self, email: &str, change: impl FnOnce(&mut User) -> T) -> Option<T> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        users.get_mut(email).map(change)
    }

    /// Keeps `secret` as the user's pending TOTP secret (replacing any other pending one).
    pub fn set_pending_totp(&self, email: &str, secret: TotpSecret) {
        self.update(email, |user| user.pending_totp = Some(secret));
    }

    /// Confirms the pending secret with its first code at `now`: TOTP is on, with ten new
    /// recovery codes, returned (to show once). `None` for a wrong code or nothing pending.
    pub fn confirm_totp(&self, email: &str, code: &str, now: i64) -> Option<Vec<String>> {
        self.update(email, |user| {
            let secret = user.pending_totp.as_ref()?;
            let step = secret.verify(code, now, None).ok()?;
            let (codes, hashes) = RecoveryCodes::generate();
            user.mfa = Some(Mfa {
                secret: user.pending_totp.take()?,
                last_step: Some(step),
                recovery_codes: hashes,
            });
            Some(codes)
        })
        .flatten()
    }

    /// Records `step` as the last TOTP step accepted, if it is later than the one stored
    /// (a check-and-set: of two logins with the same code, one records it).
    pub fn record_step(&self, email: &str, step: u64) -> bool {
        self.update(email, |user| match &mut user.mfa {
            Some(mfa) if mfa.last_step.is_none_or(|last| last < step) => {
                mfa.last_step = Some(step);
                true
            }
            _ => false,
        })
        .unwrap_or(false)
    }

    /// Deletes the recovery code whose hash is `hash`; `false` when it is gone already (a
    /// check-and-set: of two logins with the same code, one deletes it).
    pub fn use_recovery_code(&self, email: &str, hash: RecoveryHash) -> bool {
        self.update(email, |user| match &mut user.mfa {
            Some(mfa) => {
                let before = mfa.recovery_codes.len();
                mfa.recovery_codes.retain(|h| *h != hash);
                mfa.recovery_codes.len() < before
            }
            None => false,
        })
        .unwrap_or(false)
    }

    /// Replaces the recovery codes; `false` without TOTP.
    pub fn replace_recovery_codes(&self, email: &str, hashes: Vec<RecoveryHash>) -> bool {
        self.update(email, |user| match &mut user.mfa {
            Some(mfa) => {
                mfa.recovery_codes = hashes;
                true
            }
            None => false,
        })
        .unwrap_or(false)
    }

    /// Turns the second factor off.
    pub fn disable_totp(&self, email: &str) {
        self.update(email, |user| {
            user.mfa = None;
            user.pending_totp = None;
        });
    }

    /// How many times [`find`](Self::find) ran (the user loader and the login route call it).
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}
