//! The `simple` app's users: an in-memory store standing in for the database (fastapi-login's
//! usage page calls it `query_user`), with the two demo users.
//!
//! The store counts its lookups ([`Db::lookups`]): the example's `#[user_loader]` is the only
//! caller on protected routes, so its tests can show that a rejected token never reached it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

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
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
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

    /// How many times [`find`](Self::find) ran (the user loader and the login route call it).
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}
