//! Tokens from an identity provider (feature `oidc`): OpenID Connect discovery, the
//! provider's keys fetched and kept fresh in the background, and the provider's claims mapped
//! to what `#[protected(scopes = [...])]` checks.
//!
//! ```no_run
//! use login::LoginManager;
//! use login::oidc::Provider;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = Provider::new("https://idp.example.com/realms/shop")
//!     .roles_claim("realm_access.roles")
//!     .discover()
//!     .await?;
//! let manager = LoginManager::builder("/login")
//!     .identity_provider(provider)
//!     .audience("shop-api")
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! [`Provider::discover`] reads the provider's metadata (OpenID Connect Discovery 1.0's
//! `/.well-known/openid-configuration`, else RFC 8414's `/.well-known/oauth-authorization-server`),
//! checks that its `issuer` is exactly the configured one, and fetches the keys of its
//! `jwks_uri`. It fails when any of that fails: a service whose provider is unreachable at
//! start-up does not start (its orchestrator restarts it), rather than run answering 503 — a
//! wrong issuer URL or an unreachable provider is then seen at deployment, not by users.
//!
//! Once built, the manager never fetches on a request, but for one case: a token naming a
//! `kid` the key set lacks makes the request wait for one refresh, at most once per
//! [`unknown_kid_cooldown`](Provider::unknown_kid_cooldown) (so a flood of made-up `kid`s costs
//! the provider one request per cooldown). Otherwise the keys are refreshed in the background,
//! on the schedule the key set's `Cache-Control: max-age` asks for, within
//! [`refresh_bounds`](Provider::refresh_bounds). A failed refresh keeps the last good keys;
//! once no refresh has succeeded for [`max_stale`](Provider::max_stale), protected routes
//! answer 503 (never 401, never anonymous) until one does.
//!
//! What a token must be: signed by a key of the set, with the algorithm the key's `alg` names
//! (or, without `alg`, its type implies; never `none`, never HMAC); `iss` exactly the issuer;
//! `aud` naming the manager's [`audience`](crate::LoginManagerBuilder::audience) (a string or
//! an array); `exp`, `nbf` and `iat` with the manager's leeway; `typ: at+jwt` (RFC 9068) when
//! [required](Provider::require_access_token_type); `azp` one of the
//! [authorized parties](Provider::authorized_parties) when configured. Its scopes are the
//! `scope` string, the `scopes` array, Entra ID's `scp` (a string or an array) and the roles
//! at [`roles_claim`](Provider::roles_claim), merged.

use std::fmt;
use std::time::Duration;

use crate::keys::VerifyingKey;

mod fetch;
mod jwks;
mod scopes;
mod state;

pub(crate) use scopes::map_claims;
pub(crate) use state::Remote;

/// The default cap on a fetched document's size: 256 KiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// An identity provider's settings, before discovery. [`discover`](Self::discover) reads its
/// metadata and keys.
#[derive(Clone)]
#[must_use = "call `.discover().await` to read the provider's metadata and keys"]
pub struct Provider {
    issuer: String,
    pub(crate) settings: Settings,
}

/// The settings that apply after discovery (the checks and the refresh schedule).
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) roles: Option<Vec<String>>,
    pub(crate) require_typ: bool,
    pub(crate) authorized_parties: Vec<String>,
    pub(crate) refresh_min: Duration,
    pub(crate) refresh_max: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) max_stale: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_bytes: usize,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .field("settings", &self.settings)
            .finish()
    }
}

impl Provider {
    /// The provider whose `issuer` is exactly `issuer` (as its tokens' `iss` and its discovery
    /// document say it: mind a trailing slash). HTTPS, except on a loopback host
    /// (`localhost`, `127.0.0.1`, `[::1]`) for development and tests.
    pub fn new(issuer: impl Into<String>) -> Self {
        Provider {
            issuer: issuer.into(),
            settings: Settings {
                roles: None,
                require_typ: false,
                authorized_parties: Vec::new(),
                refresh_min: Duration::from_secs(5 * 60),
                refresh_max: Duration::from_secs(60 * 60),
                cooldown: Duration::from_secs(10),
                max_stale: Duration::from_secs(12 * 60 * 60),
                timeout: Duration::from_secs(5),
                max_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            },
        }
    }

    /// The claim holding the user's roles, each granted as a scope: a path of object keys
    /// joined by dots (`realm_access.roles` for Keycloak, `cognito:groups` for Cognito, a
    /// namespaced claim such as `https://example.com/roles` is not a path: give it with
    /// [`roles_claim_path`](Self::roles_claim_path)). The value there must be an array of
    /// strings or a space-separated string; absent, no role is granted.
    pub fn roles_claim(self, path: &str) -> Self {
        self.roles_claim_path(path.split('.'))
    }

    /// [`roles_claim`](Self::roles_claim) with the path's keys given one by one (for a key
    /// that holds a dot).
    pub fn roles_claim_path<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.settings.roles = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Requires the JWT access token profile's header `typ: at+jwt` (RFC 9068 §2.1), so that
    /// an ID token or another JWT of the provider's is never taken for an access token
    /// (default: off; such tokens are accepted, and so is any `typ`).
    pub fn require_access_token_type(mut self, on: bool) -> Self {
        self.settings.require_typ = on;
        self
    }

    /// The clients (`azp`, the authorized party) whose tokens are accepted; a token without
    /// `azp` or with another one is refused. Default: any.
    pub fn authorized_parties<I, S>(mut self, clients: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.authorized_parties = clients.into_iter().map(Into::into).collect();
        self
    }

    /// The bounds of the background refresh: the key set's `Cache-Control: max-age` is
    /// honoured within `[min, max]` (default 5 minutes to 1 hour); without one, `max`.
    pub fn refresh_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.settings.refresh_min = min;
        self.settings.refresh_max = max;
        self
    }

    /// How long after a refresh for an unknown `kid` another one may be made, and how long
    /// a failed background refresh waits before trying again (default 10 seconds).
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.settings.cooldown = cooldown;
        self
    }

    /// How long the last good keys serve while every refresh fails (default 12 hours); past
    /// it, protected routes answer 503 until a refresh succeeds.
    pub fn max_stale(mut self, bound: Duration) -> Self {
        self.settings.max_stale = bound;
        self
    }

    /// The timeout of each fetch, connecting included (default 5 seconds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// The largest discovery document or key set read (default
    /// [`DEFAULT_MAX_DOCUMENT_BYTES`]); a larger one is refused.
    pub fn max_document_bytes(mut self, bytes: usize) -> Self {
        self.settings.max_bytes = bytes;
        self
    }

    /// Reads the provider's metadata and its keys. Errors: a bad issuer URL or setting, a
    /// provider that cannot be reached or answers anything but the documents, an `issuer` in
    /// the document other than the configured one, a key set without a usable key.
    pub async fn discover(self) -> Result<Discovered, ProviderError> {
        self.settings.check()?;
        let issuer_url = check_url(&self.issuer)?;
        let fetcher = fetch::Fetcher::new(self.settings.timeout, self.settings.max_bytes)?;
        let (metadata_url, document) = discovery(&fetcher, &issuer_url, &self.issuer).await?;
        let metadata: Metadata =
            serde_json::from_slice(&document).map_err(|e| ProviderError::InvalidDocument {
                url: metadata_url.clone(),
                reason: e.to_string(),
            })?;
        if metadata.issuer != self.issuer {
            return Err(ProviderError::IssuerMismatch {
                configured: self.issuer,
                found: metadata.issuer,
            });
        }
        let jwks_uri = metadata
            .jwks_uri
            .ok_or_else(|| ProviderError::InvalidDocument {
                url: metadata_url,
                reason: "no `jwks_uri`".into(),
            })?;
        check_url(&jwks_uri)?;
        let remote = Remote::new(self.issuer, jwks_uri, fetcher, self.settings);
        let (keys, max_age) = remote.fetch_keys().await?;
        Ok(Discovered {
            remote,
            keys,
            max_age,
        })
    }
}

impl Settings {
    fn check(&self) -> Result<(), ProviderError> {
        let second = Duration::from_secs(1);
        let bad = |what: &'static str| Err(ProviderError::InvalidSetting(what));
        if self.refresh_min < second || self.refresh_max < self.refresh_min {
            return bad("refresh bounds: at least 1 second, and min <= max");
        }
        if self.cooldown < Duration::from_millis(100) {
            return bad("the unknown-`kid` cooldown must be at least 100 ms");
        }
        if self.max_stale < self.cooldown {
            return bad("max_stale must be at least the cooldown");
        }
        if self.timeout.is_zero() || self.max_bytes == 0 {
            return bad("the timeout and the size cap must be positive");
        }
        if self
            .roles
            .as_ref()
            .is_some_and(|path| path.iter().any(String::is_empty))
        {
            return bad("the roles claim's path has an empty key");
        }
        Ok(())
    }
}

/// The parts of the provider's metadata used here.
#[derive(serde::Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: Option<String>,
}

/// A URL the provider is reached at: HTTPS, or HTTP on a loopback host; no query, no fragment.
fn check_url(url: &str) -> Result<reqwest::Url, ProviderError> {
    let bad = |why: &str| ProviderError::InvalidUrl {
        url: url.to_owned(),
        reason: why.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let host = parsed.host_str().ok_or_else(|| bad("no host"))?;
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad("not https (plain http only on a loopback host)")),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a query or a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("credentials in the URL"));
    }
    Ok(parsed)
}

/// The metadata document: OpenID Connect Discovery's `{issuer}/.well-known/openid-configuration`,
/// else (404 there) RFC 8414's `/.well-known/oauth-authorization-server{path}`.
async fn discovery(
    fetcher: &fetch::Fetcher,
    issuer_url: &reqwest::Url,
    issuer: &str,
) -> Result<(String, Vec<u8>), ProviderError> {
    let oidc = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    match fetcher.get(&oidc).await {
        Ok(fetched) => return Ok((oidc, fetched.body)),
        Err(ProviderError::Status { status: 404, .. }) => {}
        Err(other) => return Err(other),
    }
    let mut rfc8414 = issuer_url.clone();
    let path = issuer_url.path().trim_end_matches('/');
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    let url = rfc8414.to_string();
    let fetched = fetcher.get(&url).await?;
    Ok((url, fetched.body))
}

/// A provider whose metadata and keys were read: give it to
/// [`LoginManagerBuilder::identity_provider`](crate::LoginManagerBuilder::identity_provider).
pub struct Discovered {
    pub(crate) remote: Remote,
    pub(crate) keys: Vec<VerifyingKey>,
    pub(crate) max_age: Option<Duration>,
}

impl Discovered {
    /// The issuer, exactly as configured and as the provider's document says it.
    pub fn issuer(&self) -> &str {
        self.remote.issuer()
    }

    /// The key set's URL, from the provider's document.
    pub fn jwks_uri(&self) -> &str {
        self.remote.jwks_uri()
    }

    /// The `kid`s of the keys read at discovery.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(VerifyingKey::kid)
    }
}

impl fmt::Debug for Discovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Discovered")
            .field("issuer", &self.issuer())
            .field("jwks_uri", &self.jwks_uri())
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish()
    }
}

/// Why an identity provider could not be discovered or its keys read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The issuer URL or the `jwks_uri` is not one a provider is reached at.
    #[error("invalid provider URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting is out of range.
    #[error("invalid provider setting: {0}")]
    InvalidSetting(&'static str),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
    /// The provider could not be reached, or the exchange failed or timed out.
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// The URL fetched.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The provider answered with another status than 200 (redirects are not followed).
    #[error("fetching {url}: status {status}")]
    Status {
        /// The URL fetched.
        url: String,
        /// The status.
        status: u16,
    },
    /// The document is larger than the cap.
    #[error("fetching {url}: larger than {max} bytes")]
    TooLarge {
        /// The URL fetched.
        url: String,
        /// The cap, in bytes.
        max: usize,
    },
    /// The document is not the metadata or key set it should be.
    #[error("invalid document at {url}: {reason}")]
    InvalidDocument {
        /// The URL fetched.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The metadata's `issuer` is not exactly the configured issuer.
    #[error("the provider says its issuer is {found:?}, not the configured {configured:?}")]
    IssuerMismatch {
        /// The configured issuer.
        configured: String,
        /// The `issuer` in the provider's document.
        found: String,
    },
}
