//! The throttle at work: which counters judge an attempt, the charge before the password is
//! checked, and what a success resets.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use super::Throttle;
use super::address::{address_key, client_address};
use super::device::DeviceKey;
use crate::session::{Counter, StoreError, ThrottleStore};

/// A manager's throttle: its settings, its counters' store and its device-token key.
pub(crate) struct Guard {
    settings: Throttle,
    store: Arc<dyn ThrottleStore>,
    key: DeviceKey,
    device_cookie: String,
}

/// Why an attempt is refused before the password is checked.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// A counter is in back-off: wait this many seconds.
    Throttled(u64),
    /// The counters' store failed (the login fails closed).
    Store(StoreError),
}

/// An attempt that passed the throttle (and was charged as a failure): what a success
/// resets, and the account a device token would be bound to.
#[derive(Clone)]
pub(crate) struct Ticket {
    guard: Arc<Guard>,
    /// Whether a valid device token for the account judged the attempt.
    device: bool,
    account: [u8; 32],
    reset: Vec<String>,
    refund: Vec<String>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("settings", &self.settings)
            .field("device_cookie", &self.device_cookie)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("reset", &self.reset)
            .finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Guard {
    pub(super) fn new(
        settings: Throttle,
        store: Arc<dyn ThrottleStore>,
        key: DeviceKey,
        device_cookie: String,
    ) -> Self {
        Guard {
            settings,
            store,
            key,
            device_cookie,
        }
    }

    /// The device cookie's name (with the token cookie's prefix).
    pub(crate) fn device_cookie_name(&self) -> &str {
        &self.device_cookie
    }

    /// How long a device token is honoured.
    pub(crate) fn device_lifetime(&self) -> Duration {
        self.settings.device_lifetime
    }

    /// The client's address, from the socket's peer and the trusted proxies' header.
    pub(crate) fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        client_address(peer, headers, &self.settings.proxies, self.settings.header)
    }

    /// The values of every device cookie the request carries (at most 4 are looked at).
    pub(crate) fn device_tokens(&self, headers: &HeaderMap) -> Vec<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == self.device_cookie)
            .map(|(_, value)| value.to_owned())
            .take(4)
            .collect()
    }

    fn counter(&self, key: String, limit: super::Limit) -> Counter {
        Counter {
            key,
            free: limit.free_failures,
            first: limit.first_backoff.as_secs(),
            ceiling: limit.max_backoff.as_secs(),
            window: self.settings.window.as_secs(),
        }
    }

    /// Judges an attempt for `username` from `client` (carrying `devices`), before any
    /// password work: refused while a counter is in back-off, else charged as a failure.
    pub(crate) async fn attempt(
        self: &Arc<Self>,
        username: &str,
        client: Option<IpAddr>,
        devices: &[String],
        now: i64,
    ) -> Result<Ticket, Refusal> {
        let normalized = (self.settings.normalize)(username);
        let mut hash = Sha256::new();
        hash.update(b"login throttle account\0");
        hash.update(normalized.as_bytes());
        let account: [u8; 32] = hash.finalize().into();
        let account_hex = hex(&account);
        let lifetime = self.settings.device_lifetime.as_secs();
        let device = devices
            .iter()
            .find_map(|token| self.key.verify(token, &account, now, lifetime));
        let by_device = device.is_some();
        let (counters, reset, refund) = match device {
            // The device-token-used moment: a valid device token for this account; the
            // attempt is judged by the device's own counter, not the account's back-off.
            Some(nonce) => {
                tracing::debug!("login throttle: a device token is presented for the account");
                let key = format!("d:{}", hex(&nonce));
                let counters = vec![self.counter(key.clone(), self.settings.device)];
                (counters, vec![key], Vec::new())
            }
            None => {
                let account_key = format!("a:{account_hex}");
                let mut counters = vec![self.counter(account_key.clone(), self.settings.account)];
                let mut reset = vec![account_key];
                let mut refund = Vec::new();
                match client {
                    Some(ip) => {
                        let address = address_key(ip);
                        let pair = format!("p:{address}|{account_hex}");
                        let address = format!("i:{address}");
                        counters.push(self.counter(pair.clone(), self.settings.pair));
                        counters.push(self.counter(address.clone(), self.settings.address));
                        reset.push(pair);
                        refund.push(address);
                    }
                    None => warn_no_address(),
                }
                (counters, reset, refund)
            }
        };
        match self.store.attempt(counters, now).await {
            Ok(None) => Ok(Ticket {
                guard: self.clone(),
                device: by_device,
                account,
                reset,
                refund,
            }),
            Ok(Some(wait)) => Err(Refusal::Throttled(wait.max(1))),
            Err(error) => Err(Refusal::Store(error)),
        }
    }
}

impl Ticket {
    /// Whether a valid device token for the account judged the attempt (the auth events'
    /// "device token used").
    pub(crate) fn by_device(&self) -> bool {
        self.device
    }

    /// The login succeeded: reset the account's and the pair's (or the device's) counters,
    /// take the charge back from the address's. A store error is logged; the login stands.
    pub(crate) async fn succeeded(&self) {
        let result = self
            .guard
            .store
            .succeeded(self.reset.clone(), self.refund.clone())
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "login throttle: could not reset the counters of a successful login");
        }
    }

    /// The attempt was not judged (the password work was refused as too busy): take its charge
    /// back from every counter. A store error is logged.
    pub(crate) async fn not_judged(&self) {
        let mut all = self.reset.clone();
        all.extend(self.refund.iter().cloned());
        if let Err(error) = self.guard.store.succeeded(Vec::new(), all).await {
            tracing::warn!(%error, "login throttle: could not take back the charge of a refused login");
        }
    }

    /// A new device token for this login's account.
    pub(crate) fn device_token(&self, now: i64) -> String {
        self.guard.key.mint(&self.account, now)
    }

    /// The guard (for the device cookie's name and lifetime).
    pub(crate) fn guard(&self) -> &Guard {
        &self.guard
    }
}

/// Warns, once per process, that logins arrive without the socket's address.
fn warn_no_address() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "login throttle: a login without the client's address (serve the app with \
             `into_make_service_with_connect_info::<SocketAddr>()`): only the account's \
             counter applies to it"
        );
    }
}
