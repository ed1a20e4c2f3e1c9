//! Requests, form bodies and `Set-Cookie` values.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use tower::ServiceExt;

use crate::Reply;

/// `method path` with `body` and the given headers, values as raw bytes (repeated names are
/// appended, not replaced); panics on a name or value `http` refuses.
pub fn request<V: AsRef<[u8]>>(
    method: Method,
    path: &str,
    headers: &[(&str, V)],
    body: Body,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .body(body)
        .expect("valid method and path");
    for (name, value) in headers {
        request.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_bytes(value.as_ref()).expect("header value"),
        );
    }
    request
}

/// `POST path` with `Content-Type: application/x-www-form-urlencoded` and `body` (see
/// [`form_urlencoded`]).
pub fn form_request(path: &str, body: impl Into<String>) -> Request<Body> {
    request(
        Method::POST,
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        Body::from(body.into()),
    )
}

/// Sends `request` through a clone of `router` and collects the response.
pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("axum routers are infallible");
    Reply::collect(response).await
}

/// `application/x-www-form-urlencoded`: `k=v&…`, every byte but `A-Z a-z 0-9 - _ . ~`
/// percent-encoded, spaces as `+`.
pub fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits a `Set-Cookie` value at `"; "` into `name=value` and the attributes, in their order.
pub fn split_cookie(set_cookie: &str) -> (&str, Vec<&str>) {
    let mut parts = set_cookie.split("; ");
    let pair = parts.next().expect("split yields at least one part");
    (pair, parts.collect())
}

/// `name=value` and the sorted attributes of a `Set-Cookie` value (for comparisons where the
/// attributes' order is not significant).
pub fn cookie_parts(set_cookie: &str) -> (String, Vec<String>) {
    let (pair, attributes) = split_cookie(set_cookie);
    let mut attributes: Vec<String> = attributes.into_iter().map(str::to_owned).collect();
    attributes.sort();
    (pair.to_owned(), attributes)
}
