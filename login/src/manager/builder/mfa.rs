//! The builder's second-factor setting (feature `mfa`).

use std::time::Duration;

use super::LoginManagerBuilder;

impl LoginManagerBuilder {
    /// How long the `mfa_token` of a two-step login is valid (5 minutes by default; 30
    /// seconds to 15 minutes, `ConfigError::InvalidMfaSetting` otherwise): the time a user has
    /// to type the code after the password. See [`login::mfa`](crate::mfa).
    pub fn mfa_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.mfa_token_lifetime = lifetime;
        self
    }
}
