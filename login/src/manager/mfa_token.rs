//! The `mfa_token` of a two-step login (feature `mfa`): what the first step (a right password
//! for an account with a second factor) hands the client instead of tokens, and what the
//! second step presents with the code.
//!
//! It is a JWT signed by the manager's key like its access tokens, short-lived (5 minutes by
//! default), carrying the account's subject, the user name as submitted (the login throttle's
//! counter), the scopes the login grants and `mfa_pending`, which makes every access-token
//! check refuse it ([`VerifyError::NotAnAccessToken`]). It is used once: the second step that
//! succeeds consumes it, through the session store's revocation of its `jti` when the manager
//! has sessions (so every instance refuses it), in this process otherwise.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use super::LoginManager;
use super::issue::{MFA_PENDING, Prepared};
use crate::error::{TokenError, VerifyError};
use crate::session::StoreError;

/// How long an `mfa_token` is valid by default: 5 minutes.
pub(crate) const DEFAULT_MFA_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// The claim holding the user name as submitted at the first step.
const USERNAME: &str = "mfa_username";

/// A verified `mfa_token`: who passed the first step, and what the login grants.
#[derive(Debug, Clone)]
pub(crate) struct MfaTicket {
    pub(crate) subject: String,
    pub(crate) username: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) jti: String,
    pub(crate) exp: i64,
}

/// The `jti`s of `mfa_token`s consumed in this process (a manager without sessions), with
/// their expiry: pruned as they expire.
#[derive(Default)]
pub(crate) struct Consumed(Mutex<HashMap<String, i64>>);

impl Consumed {
    /// Records `jti` as used; `false` when it already was.
    fn consume(&self, jti: &str, exp: i64, now: i64) -> bool {
        let mut used = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        used.retain(|_, until| *until > now);
        used.insert(jti.to_owned(), exp).is_none()
    }

    fn contains(&self, jti: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(jti)
    }
}

impl LoginManager {
    /// Mints the `mfa_token` for `subject` (who logged in as `username`), granting `scopes`
    /// once the second step succeeds.
    pub(crate) fn mint_mfa_token(
        &self,
        subject: &str,
        username: &str,
        scopes: &[String],
    ) -> Result<String, TokenError> {
        let mut extra = serde_json::Map::new();
        extra.insert(MFA_PENDING.into(), Value::Bool(true));
        extra.insert(USERNAME.into(), Value::String(username.to_owned()));
        let prepared = Prepared {
            subject: subject.to_owned(),
            scopes: scopes.to_vec(),
            extra,
            lifetime: self.inner.mfa_token_lifetime,
        };
        self.mint(&prepared, None, prepared.lifetime)
            .map(|(token, _)| token)
    }

    /// Verifies an `mfa_token`: signature, expiry, the manager's issuer and audience, not
    /// consumed yet, and `mfa_pending`. An access token is refused here as an `mfa_token` is
    /// refused as an access token.
    pub(crate) fn verify_mfa_token(&self, token: &str) -> Result<MfaTicket, VerifyError> {
        if token.len() > super::verify::MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge {
                max: super::verify::MAX_TOKEN_BYTES,
            });
        }
        let claims = self.decode_verified(&self.canonical_token(token))?;
        self.check_claims(&claims)?;
        let not_mfa = || VerifyError::InvalidClaims("not an mfa_token".into());
        if claims.extra.get(MFA_PENDING) != Some(&Value::Bool(true)) {
            return Err(not_mfa());
        }
        let username = match claims.extra.get(USERNAME) {
            Some(Value::String(name)) => name.clone(),
            _ => return Err(not_mfa()),
        };
        let jti = claims.jti.clone().ok_or_else(not_mfa)?;
        if self.inner.mfa_consumed.contains(&jti) {
            return Err(VerifyError::Revoked);
        }
        Ok(MfaTicket {
            subject: claims.sub,
            username,
            scopes: claims.scopes,
            jti,
            exp: claims.exp,
        })
    }

    /// Consumes a verified `mfa_token`, once: `Ok(false)` when another request consumed it
    /// first. In this process under a lock (two second steps racing on one instance: one
    /// wins), and with sessions also through the store, which revokes its `jti` on every
    /// instance; a store error is an error (the login then answers 503).
    pub(crate) async fn consume_mfa_token(&self, ticket: &MfaTicket) -> Result<bool, StoreError> {
        if !self
            .inner
            .mfa_consumed
            .consume(&ticket.jti, ticket.exp, self.now())
        {
            return Ok(false);
        }
        if let Some(sessions) = self.session_state() {
            sessions
                .store
                .revoke_access_token(&ticket.jti, ticket.exp)
                .await?;
        }
        Ok(true)
    }
}
