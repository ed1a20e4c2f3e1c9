//! Collected responses and their assertions.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use serde_json::{Value, json};

/// The expected answer to a request on a route that needs (or optionally takes) a user.
///
/// The first four are the RFC 6750 rejections `login` answers with; the last two are what the
/// suites' routes answer when the handler runs: `{"user": <user>}` (how a user is rendered is
/// the suite's: see [`Reply::assert_case`]) or `{"user": null}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 401, `WWW-Authenticate: Bearer`, `{"detail":"Not authenticated"}`.
    NoCredentials,
    /// 401, `WWW-Authenticate: Bearer error="invalid_token"`, `{"detail":"Invalid credentials"}`.
    InvalidToken,
    /// 400, `WWW-Authenticate: Bearer error="invalid_request"`,
    /// `{"detail":"Malformed authorization request"}`.
    InvalidRequest,
    /// 403, `WWW-Authenticate: Bearer error="insufficient_scope", scope="<scopes>"`,
    /// `{"detail":"Insufficient scope"}`.
    InsufficientScope(&'static str),
    /// 200, no challenge, `{"user": <this user>}`.
    User(&'static str),
    /// 200, no challenge, `{"user": null}` (an optional route without a valid credential).
    Anonymous,
}

impl Expect {
    /// The rejection's status, `WWW-Authenticate` value and `detail`; `None` for the 200s.
    fn rejection(self) -> Option<(StatusCode, String, &'static str)> {
        Some(match self {
            Expect::NoCredentials => (
                StatusCode::UNAUTHORIZED,
                "Bearer".to_owned(),
                "Not authenticated",
            ),
            Expect::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                r#"Bearer error="invalid_token""#.to_owned(),
                "Invalid credentials",
            ),
            Expect::InvalidRequest => (
                StatusCode::BAD_REQUEST,
                r#"Bearer error="invalid_request""#.to_owned(),
                "Malformed authorization request",
            ),
            Expect::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                format!(r#"Bearer error="insufficient_scope", scope="{scope}""#),
                "Insufficient scope",
            ),
            Expect::User(_) | Expect::Anonymous => return None,
        })
    }
}

/// `"<case>: "`, or nothing for an unnamed check: the start of an assertion message.
pub(crate) fn prefix(case: &str) -> String {
    if case.is_empty() {
        String::new()
    } else {
        format!("{case}: ")
    }
}

/// The pieces of a credential that must never be echoed: the credential itself (trimmed) and
/// each of its dot-separated segments longer than 8 characters (trimmed); never an empty one.
pub fn needles(credential: &str) -> Vec<&str> {
    let mut needles = vec![credential.trim()];
    needles.extend(credential.split('.').map(str::trim).filter(|s| s.len() > 8));
    needles.retain(|n| !n.is_empty());
    needles
}

/// A collected response.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Bytes,
}

impl Reply {
    /// Collects a response (the whole body).
    pub async fn collect(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics (showing the body) when it is not JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// The only value of header `name`, `None` when absent; panics when it is repeated or not
    /// visible ASCII.
    #[track_caller]
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next()?;
        assert!(values.next().is_none(), "{name} header repeated: {self:?}");
        Some(first.to_str().expect("visible ASCII header value"))
    }

    /// The only `Location` value; panics (showing the status and body) when it is absent.
    #[track_caller]
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.text()))
    }

    /// Every `Set-Cookie` value, in order.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().expect("visible ASCII Set-Cookie").to_owned())
            .collect()
    }

    /// The only `Set-Cookie` value; panics unless there is exactly one.
    #[track_caller]
    pub fn set_cookie(&self) -> String {
        let mut all = self.set_cookies();
        assert_eq!(all.len(), 1, "expected one Set-Cookie: {all:?}");
        all.remove(0)
    }

    /// Asserts 200 and the JSON body.
    #[track_caller]
    pub fn assert_ok(&self, body: Value) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        assert_eq!(self.json(), body);
    }

    /// [`Reply::assert_case`], unnamed, with a user rendered as its name
    /// (`{"user": "<name>"}`).
    #[track_caller]
    pub fn assert(&self, expect: Expect) {
        self.assert_case("", expect, |name| json!(name));
    }

    /// Asserts the exact answer, `case` naming the check in the messages:
    ///
    /// - a rejection: its status, the one `WWW-Authenticate` value, `Content-Type:
    ///   application/json`, `Cache-Control: no-store`, and the exact body bytes
    ///   `{"detail":"…"}`;
    /// - [`Expect::User`] and [`Expect::Anonymous`]: 200, no `WWW-Authenticate`, and the JSON
    ///   body `{"user": user(name)}` or `{"user": null}`.
    #[track_caller]
    pub fn assert_case(&self, case: &str, expect: Expect, user: impl Fn(&str) -> Value) {
        let p = prefix(case);
        let Some((status, challenge, detail)) = expect.rejection() else {
            assert_eq!(
                self.status,
                StatusCode::OK,
                "{p}status; body {}",
                self.text()
            );
            assert_eq!(self.header("www-authenticate"), None, "{p}WWW-Authenticate");
            let body = match expect {
                Expect::User(name) => json!({ "user": user(name) }),
                _ => json!({ "user": null }),
            };
            assert_eq!(self.json(), body, "{p}body");
            return;
        };
        assert_eq!(self.status, status, "{p}status; body {}", self.text());
        assert_eq!(
            self.header("www-authenticate"),
            Some(challenge.as_str()),
            "{p}WWW-Authenticate"
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{p}Content-Type"
        );
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "{p}Cache-Control"
        );
        assert_eq!(self.json(), json!({ "detail": detail }), "{p}body");
        assert_eq!(
            self.body,
            Bytes::from(format!(r#"{{"detail":"{detail}"}}"#)),
            "{p}body bytes"
        );
    }

    /// Asserts that neither a header nor the body contains `needle` (`case` names the check in
    /// the message).
    #[track_caller]
    pub fn assert_not_containing(&self, case: &str, needle: &str) {
        let p = prefix(case);
        let body = self.text();
        assert!(
            !body.contains(needle),
            "{p}the body echoes the token ({needle:?}): {body}"
        );
        for (name, value) in &self.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            assert!(
                !value.contains(needle),
                "{p}header {name} echoes the token ({needle:?}): {value}"
            );
        }
    }

    /// Asserts that neither the token nor any of its [`needles`] appears in a header or the
    /// body.
    #[track_caller]
    pub fn assert_not_echoed(&self, token: &str) {
        for needle in needles(token) {
            self.assert_not_containing("", needle);
        }
    }
}
