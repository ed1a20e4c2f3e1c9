//! One GET of a provider's JSON document: a timeout on the whole exchange, a size cap on the
//! body (checked on `Content-Length` and while reading), no redirects, and the response's
//! `Cache-Control: max-age` for the schedule.

use std::time::Duration;

use super::ProviderError;

/// The HTTP client of one provider (reqwest, rustls).
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
}

/// A fetched document: its body and the `max-age` its response allowed, if any.
pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    pub(crate) max_age: Option<Duration>,
}

impl Fetcher {
    pub(crate) fn new(timeout: Duration, max_bytes: usize) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A discovery document or key set that moved is a configuration to fix, not a
            // hop to follow (a redirect could lead to a host the issuer does not control).
            .redirect(reqwest::redirect::Policy::none())
            // Fetches are minutes apart: a kept-alive connection would mostly be one the
            // provider (or a load balancer) has closed since, failing the next refresh.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("login/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Client(e.to_string()))?;
        Ok(Fetcher { client, max_bytes })
    }

    /// GETs `url` as JSON. A status other than 200, a body over the cap, a timeout: errors.
    pub(crate) async fn get(&self, url: &str) -> Result<Fetched, ProviderError> {
        let fetch_error = |e: reqwest::Error| ProviderError::Fetch {
            url: url.to_owned(),
            reason: if e.is_timeout() {
                "timed out".to_owned()
            } else {
                e.to_string()
            },
        };
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(fetch_error)?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(ProviderError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let too_large = || ProviderError::TooLarge {
            url: url.to_owned(),
            max: self.max_bytes,
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(too_large());
        }
        let max_age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fetch_error)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }
}

/// `Cache-Control: max-age=N` (the first one); `no-cache`/`no-store` count as 0.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            return secs.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};

    fn with(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CACHE_CONTROL, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn reads_max_age() {
        assert_eq!(max_age(&HeaderMap::new()), None);
        assert_eq!(
            max_age(&with("public, max-age=3600")),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(max_age(&with("no-cache")), Some(Duration::ZERO));
        assert_eq!(max_age(&with("max-age=abc")), None);
        assert_eq!(max_age(&with("private")), None);
    }
}
