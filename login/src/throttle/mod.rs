//! Login throttling by outcome: failed password logins are counted, and past a limit the next
//! attempt waits (an exponential back-off with a ceiling, never a permanent lock). The
//! login-throttling guide (`docs/login-throttling.md`) explains the choices; in short:
//!
//! - **What is counted.** Every password login made through
//!   [`PasswordGrant`](crate::PasswordGrant) (the extractor, so every route that takes one)
//!   is counted, before any password work, as a failure against three counters: the account
//!   (the user name as submitted, normalised by [`Throttle::normalize_username`], default
//!   trim + lowercase, whether or not the account exists), the client's address (IPv6 by its
//!   /64) and the pair of both. A login that succeeds forgets the account's and the pair's
//!   counters and takes its charge back from the address's.
//! - **The answer.** While any counter is in back-off, the attempt is refused before the
//!   password is looked at, right password or not, known account or not:
//!   [`LoginError::Throttled`](crate::LoginError::Throttled), `429`, `Retry-After` (seconds)
//!   and `{"error":"slow_down",…}`.
//! - **The defaults** ([`Throttle::default`]): an account gets 5 failures, then waits 2 s,
//!   doubled by each further failure up to 20 minutes; the pair 3, then 1 s; an address 100,
//!   then 1 s; each counter forgotten 15 minutes after its back-off ends without a new
//!   failure. Against one account that allows fewer than 100 guesses a day (the throttle
//!   test of the `simple` example measures 84 from one address and 85 from a new address
//!   each time, over HTTP, with a test clock).
//! - **The owner is not locked out.** A successful login sets a device token (an `HttpOnly`
//!   cookie, `device-token`, with the `__Host-` prefix when the token cookie has it), signed
//!   and bound to the account. A login presenting a valid one for the account it names is
//!   judged by that device's own counter instead (5 failures, then the same back-off), so an
//!   attacker keeping the account in back-off does not keep its owner out.
//! - **The client's address** is the socket's peer (serve the app with
//!   `into_make_service_with_connect_info::<SocketAddr>()`); a forwarding header is read
//!   only when the peer is one of the [`TrustedProxies`], from the right, up to the first
//!   hop that is not a proxy. Without `ConnectInfo` the address is unknown: only the account
//!   (or device) counter applies, and a warning is logged once.
//! - **Where the counts live**: in the session store's backend
//!   ([`SessionStore::throttle_store`](crate::session::SessionStore::throttle_store)), so
//!   instances sharing a `RedisStore` share them; without sessions, or with a store that has
//!   none, in a bounded [`MemoryThrottle`](crate::session::MemoryThrottle) of the manager's.
//!   The store unreachable: `503` (fail closed).
//!
//! ```
//! use std::time::Duration;
//! use login::LoginManager;
//! use login::throttle::{Limit, Throttle};
//!
//! let throttle = Throttle::default()
//!     .account(Limit::new(5, Duration::from_secs(2), Duration::from_secs(1200)))
//!     .trusted_proxies("10.0.0.0/8".parse()?)
//!     .device_key("another-32-byte-or-longer-secret-from-env");
//! let manager = LoginManager::builder("/login")
//!     .secret("a-32-byte-or-longer-secret-from-env!")
//!     .throttle(throttle)
//!     .build()?;
//! # let _ = manager;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod address;
mod device;
mod guard;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use address::{ProxyHeader, ProxyListError, TrustedProxies};
pub(crate) use guard::{Guard, Refusal, Ticket};

use crate::error::ConfigError;
use crate::secret::Secret;

/// The name of the device-token cookie, without the `__Host-` prefix (which it gets when the
/// token cookie has it).
pub const DEVICE_COOKIE_NAME: &str = "device-token";

/// One counter's limit: how many failures pass freely, then the back-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    free_failures: u32,
    first_backoff: Duration,
    max_backoff: Duration,
}

impl Limit {
    /// `free_failures` failures pass (at least 1); the next attempt waits `first_backoff`
    /// (at least 1 s), each further failure doubles the wait, up to `max_backoff` (at least
    /// the first, at most a day).
    pub const fn new(free_failures: u32, first_backoff: Duration, max_backoff: Duration) -> Self {
        Limit {
            free_failures,
            first_backoff,
            max_backoff,
        }
    }

    /// Failures that pass before the first back-off.
    pub fn free_failures(&self) -> u32 {
        self.free_failures
    }

    /// The first back-off.
    pub fn first_backoff(&self) -> Duration {
        self.first_backoff
    }

    /// The longest back-off.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    fn check(&self, what: &'static str) -> Result<(), ConfigError> {
        if self.free_failures == 0 {
            return Err(ConfigError::InvalidThrottle(what));
        }
        if self.first_backoff < Duration::from_secs(1)
            || self.max_backoff < self.first_backoff
            || self.max_backoff > MAX_BACKOFF
        {
            return Err(ConfigError::InvalidThrottle(what));
        }
        Ok(())
    }
}

/// The longest back-off a limit may have.
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);
const TWENTY_MINUTES: Duration = Duration::from_secs(20 * 60);

/// How a user name is normalised before it is counted.
type Normalizer = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The login throttle's settings, for
/// [`LoginManagerBuilder::throttle`](crate::LoginManagerBuilder::throttle). On by default,
/// with the defaults listed in the [module documentation](self).
#[derive(Clone)]
pub struct Throttle {
    enabled: bool,
    account: Limit,
    pair: Limit,
    address: Limit,
    device: Limit,
    window: Duration,
    proxies: TrustedProxies,
    header: ProxyHeader,
    normalize: Normalizer,
    device_key: Option<Secret>,
    device_lifetime: Duration,
    device_cookie: String,
    memory_counters: usize,
}

impl fmt::Debug for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("enabled", &self.enabled)
            .field("account", &self.account)
            .field("pair", &self.pair)
            .field("address", &self.address)
            .field("device", &self.device)
            .field("window", &self.window)
            .field("proxies", &self.proxies)
            .field("header", &self.header)
            .field("device_key", &self.device_key.as_ref().map(|_| "***"))
            .field("device_lifetime", &self.device_lifetime)
            .field("device_cookie", &self.device_cookie)
            .field("memory_counters", &self.memory_counters)
            .finish()
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            enabled: true,
            account: Limit::new(5, Duration::from_secs(2), TWENTY_MINUTES),
            pair: Limit::new(3, Duration::from_secs(1), TWENTY_MINUTES),
            address: Limit::new(100, Duration::from_secs(1), TWENTY_MINUTES),
            device: Limit::new(5, Duration::from_secs(2), TWENTY_MINUTES),
            window: Duration::from_secs(15 * 60),
            proxies: TrustedProxies::none(),
            header: ProxyHeader::XForwardedFor,
            normalize: Arc::new(|name: &str| name.trim().to_lowercase()),
            device_key: None,
            device_lifetime: Duration::from_secs(90 * 24 * 3600),
            device_cookie: DEVICE_COOKIE_NAME.to_owned(),
            memory_counters: crate::session::throttle::DEFAULT_MEMORY_COUNTERS,
        }
    }
}

impl Throttle {
    /// No throttling at all: every password login is checked, however many failed before.
    /// Only for an app that throttles logins itself.
    pub fn off() -> Self {
        Throttle {
            enabled: false,
            ..Throttle::default()
        }
    }

    /// The account's limit (default: 5 failures, then 2 s doubling up to 20 minutes).
    pub fn account(mut self, limit: Limit) -> Self {
        self.account = limit;
        self
    }

    /// The (address, account) pair's limit (default: 3 failures, then 1 s doubling up to
    /// 20 minutes).
    pub fn pair(mut self, limit: Limit) -> Self {
        self.pair = limit;
        self
    }

    /// The client address's limit (default: 100 failures, then 1 s doubling up to 20
    /// minutes).
    pub fn address(mut self, limit: Limit) -> Self {
        self.address = limit;
        self
    }

    /// A device token's own limit (default: 5 failures, then 2 s doubling up to 20 minutes).
    pub fn device(mut self, limit: Limit) -> Self {
        self.device = limit;
        self
    }

    /// How long a counter is remembered after its back-off ends without a new failure
    /// (default 15 minutes; at least 1 s, at most a day).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The proxies whose forwarding header is believed (default: none).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The header the trusted proxies write (default `X-Forwarded-For`).
    pub fn proxy_header(mut self, header: ProxyHeader) -> Self {
        self.header = header;
        self
    }

    /// How a user name is normalised before it is counted: the way your app looks accounts
    /// up, so that `John@Mail.com` and `john@mail.com` are one counter when they are one
    /// account (default: trimmed and lowercased). Counting more names as one is safe; counting
    /// one account under many names is not.
    pub fn normalize_username<F>(mut self, normalize: F) -> Self
    where
        F: Fn(&str) -> String + Send + Sync + 'static,
    {
        self.normalize = Arc::new(normalize);
        self
    }

    /// The secret device tokens are signed with (at least 32 bytes). Give every instance of
    /// the app the same one; by default each manager draws a random one, so a device token
    /// is honoured only by the process that issued it, until it restarts (elsewhere the
    /// login is judged as without one).
    pub fn device_key(mut self, secret: impl Into<Secret>) -> Self {
        self.device_key = Some(secret.into());
        self
    }

    /// How long a device token is honoured (default 90 days; at least a minute); it is also
    /// the cookie's `Max-Age`.
    pub fn device_lifetime(mut self, lifetime: Duration) -> Self {
        self.device_lifetime = lifetime;
        self
    }

    /// The device-token cookie's name, without the `__Host-` prefix (default
    /// [`DEVICE_COOKIE_NAME`], `device-token`): give each manager of an app its own.
    pub fn device_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.device_cookie = name.into();
        self
    }

    /// The most counters kept in the manager's own memory, when the session store has no
    /// throttle store (default 65 536, at least 16).
    pub fn memory_counters(mut self, counters: usize) -> Self {
        self.memory_counters = counters;
        self
    }

    /// Whether throttling is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Checks the settings and makes the manager's guard (`None` when off); the device cookie
    /// gets the `__Host-` prefix with `host_prefix`.
    pub(crate) fn build(
        self,
        store: Option<Arc<dyn crate::session::ThrottleStore>>,
        host_prefix: bool,
    ) -> Result<Option<Arc<Guard>>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let name_ok = !self.device_cookie.is_empty()
            && !self.device_cookie.starts_with("__")
            && self
                .device_cookie
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok {
            return Err(ConfigError::InvalidThrottle(
                "the device cookie's name must be a cookie name without a prefix",
            ));
        }
        let device_cookie = if host_prefix {
            format!("__Host-{}", self.device_cookie)
        } else {
            self.device_cookie.clone()
        };
        self.account.check("the account limit is out of range")?;
        self.pair.check("the pair limit is out of range")?;
        self.address.check("the address limit is out of range")?;
        self.device.check("the device limit is out of range")?;
        if self.window < Duration::from_secs(1) || self.window > MAX_BACKOFF {
            return Err(ConfigError::InvalidThrottle(
                "the window must be between 1 second and a day",
            ));
        }
        if self.device_lifetime < Duration::from_secs(60) {
            return Err(ConfigError::InvalidThrottle(
                "device tokens must live at least a minute",
            ));
        }
        let key = match &self.device_key {
            Some(secret) if secret.expose().len() < 32 => {
                return Err(ConfigError::InvalidThrottle(
                    "the device-token key must be at least 32 bytes",
                ));
            }
            Some(secret) => device::DeviceKey::from_secret(secret.expose()),
            None => device::DeviceKey::random(),
        };
        let store = store.unwrap_or_else(|| {
            Arc::new(crate::session::MemoryThrottle::with_capacity(
                self.memory_counters,
            ))
        });
        Ok(Some(Arc::new(Guard::new(self, store, key, device_cookie))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let secs = Duration::from_secs;
        let bad = [
            (
                Throttle::default().account(Limit::new(0, secs(1), secs(2))),
                "the account limit is out of range",
            ),
            (
                Throttle::default().pair(Limit::new(1, Duration::ZERO, secs(2))),
                "the pair limit is out of range",
            ),
            (
                Throttle::default().address(Limit::new(1, secs(5), secs(2))),
                "the address limit is out of range",
            ),
            (
                Throttle::default().device(Limit::new(1, secs(1), secs(100_000))),
                "the device limit is out of range",
            ),
            (
                Throttle::default().window(Duration::ZERO),
                "the window must be between 1 second and a day",
            ),
            (
                Throttle::default().device_lifetime(secs(59)),
                "device tokens must live at least a minute",
            ),
            (
                Throttle::default().device_cookie_name("__Host-x"),
                "the device cookie's name must be a cookie name without a prefix",
            ),
            (
                Throttle::default().device_cookie_name("a b"),
                "the device cookie's name must be a cookie name without a prefix",
            ),
            (
                Throttle::default().device_key("short"),
                "the device-token key must be at least 32 bytes",
            ),
        ];
        for (throttle, message) in bad {
            let error = throttle.build(None, false).unwrap_err();
            assert_eq!(error, ConfigError::InvalidThrottle(message));
        }
        assert!(Throttle::off().build(None, false).unwrap().is_none());
        assert!(Throttle::default().build(None, false).unwrap().is_some());
    }
}
