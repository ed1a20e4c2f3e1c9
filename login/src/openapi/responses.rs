//! The responses and schemas of the documentation: the 401 and 403 of protected routes, the
//! token endpoint's answers, and the schemas of its form and token response.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::example::{Example, ExampleBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{
    Content, ContentBuilder, Header, HeaderBuilder, RefOr, Response, ResponseBuilder, Schema,
};
use utoipa::{IntoResponses, PartialSchema, ToResponse, ToSchema};

use crate::oauth2::{OAuth2PasswordForm, TokenResponse};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// `{"detail": "..."}`, the body of every rejection (as fastapi-login's).
fn detail_schema() -> Schema {
    ObjectBuilder::new()
        .property("detail", string("What went wrong, in general terms."))
        .required("detail")
        .into()
}

/// `{"error": "...", "error_description": "..."}` (RFC 6749 §5.2).
/// The login route's RFC 6749 §5.2 error codes.
const LOGIN_ERRORS: &[&str] = &["invalid_request", "unsupported_grant_type"];
/// The codes of the login route's 400 answers.
const LOGIN_BAD_REQUEST_ERRORS: &[&str] =
    &["invalid_request", "unsupported_grant_type", "invalid_scope"];

fn oauth2_error_schema(codes: &[&str]) -> Schema {
    ObjectBuilder::new()
        .property(
            "error",
            string("The RFC 6749 §5.2 error code.").enum_values(Some(codes.iter().copied())),
        )
        .required("error")
        .property(
            "error_description",
            string("What is wrong with the request, for the client's developer."),
        )
        .into()
}

fn example(summary: &str, value: serde_json::Value) -> Example {
    ExampleBuilder::new()
        .summary(summary)
        .value(Some(value))
        .build()
}

fn detail_example(detail: &str) -> (String, Example) {
    (
        detail.to_owned(),
        example(detail, json!({ "detail": detail })),
    )
}

fn string_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

fn json_content(schema: Schema, examples: impl IntoIterator<Item = (String, Example)>) -> Content {
    ContentBuilder::new()
        .schema(Some(schema))
        .examples_from_iter(examples)
        .build()
}

/// The 401 of a protected route (RFC 6750 §3): no credentials (`Not authenticated`,
/// `WWW-Authenticate: Bearer`), or a bad, expired or unknown-user token (`Invalid credentials`,
/// `WWW-Authenticate: Bearer error="invalid_token"`).
///
/// `#[protected]` adds it to a `#[utoipa::path]` handler that requires a user; in your own
/// attribute: `responses((status = 401, response = inline(login::openapi::Unauthorized)))`.
#[derive(Debug, Clone, Copy)]
pub struct Unauthorized;

impl<'r> ToResponse<'r> for Unauthorized {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = ResponseBuilder::new()
            .description(
                "Not authenticated: no token, or a bad, expired or unknown-user token \
                 (RFC 6750 §3).",
            )
            .header(
                "WWW-Authenticate",
                string_header(
                    "`Bearer` without credentials; `Bearer error=\"invalid_token\"` for a \
                     token that was refused.",
                ),
            )
            .content(
                "application/json",
                json_content(
                    detail_schema(),
                    [
                        detail_example("Not authenticated"),
                        detail_example("Invalid credentials"),
                    ],
                ),
            )
            .build();
        ("LoginUnauthorized", response.into())
    }
}

/// The 401 of a step-up route (`#[protected(fresh = "..")]`, `#[protected(factors = [..])]`):
/// what [`Unauthorized`] covers, and a valid token whose login is too old or lacks a required
/// authentication method (`Insufficient user authentication`, `WWW-Authenticate: Bearer
/// error="insufficient_user_authentication", error_description="...", max_age="..."`,
/// RFC 9470 §3): the client has the user authenticate again.
///
/// `#[protected]` puts it in place of [`Unauthorized`] on such a `#[utoipa::path]` handler;
/// in your own attribute: `responses((status = 401, response = inline(login::openapi::StepUpRequired)))`.
#[derive(Debug, Clone, Copy)]
pub struct StepUpRequired;

impl<'r> ToResponse<'r> for StepUpRequired {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = ResponseBuilder::new()
            .description(
                "Not authenticated (no token, or a bad, expired or unknown-user token; RFC 6750                  §3), or authenticated too long ago or without a required method (RFC 9470                  §3): log in again, with the method named in `error_description`.",
            )
            .header(
                "WWW-Authenticate",
                string_header(
                    "`Bearer` without credentials; `Bearer error=\"invalid_token\"` for a \
                     token that was refused; `Bearer error=\"insufficient_user_authentication\", \
                     error_description=\"...\", max_age=\"...\"` for a login too old \
                     (`max_age`, in seconds) or lacking a method.",
                ),
            )
            .content(
                "application/json",
                json_content(
                    detail_schema(),
                    [
                        detail_example("Not authenticated"),
                        detail_example("Invalid credentials"),
                        detail_example("Insufficient user authentication"),
                    ],
                ),
            )
            .build();
        ("LoginStepUpRequired", response.into())
    }
}

/// The 403 of a route with required scopes (RFC 6750 §3.1): a valid token that lacks one of
/// them (`Insufficient scope`, `WWW-Authenticate: Bearer error="insufficient_scope",
/// scope="..."`).
///
/// `#[protected(scopes = [...])]` adds it to a `#[utoipa::path]` handler; in your own
/// attribute: `responses((status = 403, response = inline(login::openapi::Forbidden)))`.
#[derive(Debug, Clone, Copy)]
pub struct Forbidden;

impl<'r> ToResponse<'r> for Forbidden {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = ResponseBuilder::new()
            .description(
                "Insufficient scope: the token lacks a scope this route requires (RFC 6750 §3.1).",
            )
            .header(
                "WWW-Authenticate",
                string_header(
                    "`Bearer error=\"insufficient_scope\", scope=\"...\"`, with the scopes the \
                     route requires.",
                ),
            )
            .content(
                "application/json",
                json_content(detail_schema(), [detail_example("Insufficient scope")]),
            )
            .build();
        ("LoginForbidden", response.into())
    }
}

/// The 403 of a route that takes [`SameOrigin`](crate::extract::SameOrigin), or of a state-changing
/// request authenticated by the cookie, from another site (CSRF): `{"detail": "Cross-site
/// request refused"}`, no `WWW-Authenticate`. In your attribute:
/// `responses((status = 403, response = inline(login::openapi::CrossSiteRefused)))`.
#[derive(Debug, Clone, Copy)]
pub struct CrossSiteRefused;

impl<'r> ToResponse<'r> for CrossSiteRefused {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = ResponseBuilder::new()
            .description(
                "Cross-site request refused: the request came from another origin (CSRF \
                 protection: `Sec-Fetch-Site`, `Origin`, `Referer`).",
            )
            .content(
                "application/json",
                json_content(
                    detail_schema(),
                    [detail_example("Cross-site request refused")],
                ),
            )
            .build();
        ("LoginCrossSiteRefused", response.into())
    }
}

/// The 403 of a login whose password was right for an account with a second factor (feature
/// `mfa`): `mfa_required`, with the `mfa_token` of the second step and the `methods` it takes.
#[cfg(feature = "mfa")]
fn mfa_required() -> Response {
    let schema = ObjectBuilder::new()
        .property(
            "error",
            string("`mfa_required`").enum_values(Some(["mfa_required"])),
        )
        .required("error")
        .property("error_description", string("What to do next."))
        .property(
            "mfa_token",
            string("The token of the second step: single-use, short-lived, never an access token."),
        )
        .required("mfa_token")
        .property(
            "methods",
            utoipa::openapi::schema::ArrayBuilder::new().items(
                string("A second factor the account can use.")
                    .enum_values(Some(["totp", "recovery_code"])),
            ),
        )
        .required("methods")
        .into();
    ResponseBuilder::new()
        .description(
            "The password is right and the account has a second factor: send the `mfa_token` \
             with an `otp` or a `recovery_code` to the second step. No token, no session yet.",
        )
        .header("Cache-Control", string_header("`no-store`"))
        .content(
            "application/json",
            json_content(
                schema,
                [(
                    "mfa_required".to_owned(),
                    example(
                        "A second factor is required",
                        json!({
                            "error": "mfa_required",
                            "error_description": "the password is right; a second factor is required: send the mfa_token with a code",
                            "mfa_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                            "methods": ["totp", "recovery_code"],
                        }),
                    ),
                )],
            ),
        )
        .build()
}

/// The answers of a two-step login's second step built on
/// [`MfaGrant`](crate::mfa::MfaGrant) (feature `mfa`): 200 with a [`TokenResponse`], 400
/// `invalid_grant` for a wrong or reused code or an `mfa_token` that is invalid, expired or
/// used, 400 `invalid_request` for a malformed form or code, 415 for a body that is not a
/// form, 429 when the login throttle refuses the attempt. Write
/// `responses(login::openapi::SecondStepResponses)` in the route's `#[utoipa::path]`.
#[cfg(feature = "mfa")]
#[derive(Debug, Clone, Copy)]
pub struct SecondStepResponses;

#[cfg(feature = "mfa")]
impl IntoResponses for SecondStepResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = LoginResponses::responses();
        for status in ["401", "403"] {
            responses.remove(status);
        }
        let bad_request = ResponseBuilder::new()
            .description(
                "A wrong or reused code, or an `mfa_token` that is invalid, expired or already \
                 used (`invalid_grant`); a malformed form, both codes or none, or a malformed \
                 code (`invalid_request`; RFC 6749 §5.2).",
            )
            .content(
                "application/json",
                json_content(
                    oauth2_error_schema(&["invalid_request", "invalid_grant"]),
                    [
                        (
                            "invalid_code".to_owned(),
                            example(
                                "A wrong or reused code",
                                json!({
                                    "error": "invalid_grant",
                                    "error_description": "the code is wrong or was already used",
                                }),
                            ),
                        ),
                        (
                            "invalid_mfa_token".to_owned(),
                            example(
                                "An mfa_token that is invalid, expired or used",
                                json!({
                                    "error": "invalid_grant",
                                    "error_description": "the mfa_token is invalid, expired or already used",
                                }),
                            ),
                        ),
                    ],
                ),
            );
        responses.insert("400".to_owned(), bad_request.build().into());
        responses
    }
}

/// The answers of a token endpoint built on [`PasswordGrant`](crate::PasswordGrant): 200 with
/// a [`TokenResponse`], 400 for a malformed form, an unsupported `grant_type` or an empty or
/// over-long password, 401 for invalid credentials, 403 `mfa_required` for an account with
/// a second factor (feature `mfa`), 415 for a body that is not a form, 429
/// when the login throttle refuses the attempt ([`login::throttle`](crate::throttle)). Write
/// `responses(login::openapi::LoginResponses)` in the login route's `#[utoipa::path]`.
#[derive(Debug, Clone, Copy)]
pub struct LoginResponses;

impl IntoResponses for LoginResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let no_store = string_header("`no-store`");
        let ok = ResponseBuilder::new()
            .description("The access token (RFC 6749 §5.1).")
            .header("Cache-Control", no_store)
            .content(
                "application/json",
                Content::new(Some(TokenResponse::schema())),
            );
        let bad_request = ResponseBuilder::new()
            .description(
                "A malformed login form, an unsupported `grant_type`, or requested scopes none \
                 of which can be granted (`invalid_scope`; RFC 6749 §5.2), or an empty or \
                 over-long password.",
            )
            .content(
                "application/json",
                json_content(
                    Schema::OneOf(
                        utoipa::openapi::schema::OneOfBuilder::new()
                            .item(oauth2_error_schema(LOGIN_BAD_REQUEST_ERRORS))
                            .item(detail_schema())
                            .build(),
                    ),
                    [
                        (
                            "invalid_request".to_owned(),
                            example(
                                "A malformed form",
                                json!({
                                    "error": "invalid_request",
                                    "error_description": "the form needs a `username` and a `password`",
                                }),
                            ),
                        ),
                        (
                            "invalid_scope".to_owned(),
                            example(
                                "No requested scope can be granted",
                                json!({
                                    "error": "invalid_scope",
                                    "error_description": "none of the requested scopes can be granted",
                                }),
                            ),
                        ),
                        detail_example("Password is empty or too long"),
                    ],
                ),
            );
        let unauthorized = ResponseBuilder::new()
            .description("Unknown user or wrong password (the same answer for both).")
            .header("WWW-Authenticate", string_header("`Bearer`"))
            .content(
                "application/json",
                json_content(detail_schema(), [detail_example("Invalid credentials")]),
            );
        let unsupported = ResponseBuilder::new()
            .description("The body is not `application/x-www-form-urlencoded` (RFC 6749 §5.2).")
            .content(
                "application/json",
                Content::new(Some(oauth2_error_schema(LOGIN_ERRORS))),
            );
        let throttled = ResponseBuilder::new()
            .description(
                "Too many failed logins for this account, client address or both: retry after `Retry-After` seconds (the same answer for every account and password).",
            )
            .header("Retry-After", string_header("Seconds to wait"))
            .content(
                "application/json",
                json_content(
                    oauth2_error_schema(&["slow_down"]),
                    [(
                        "slow_down".to_owned(),
                        example(
                            "Throttled",
                            json!({
                                "error": "slow_down",
                                "error_description": "too many failed logins: retry after the delay in Retry-After",
                            }),
                        ),
                    )],
                ),
            );
        #[allow(unused_mut)]
        let mut responses = BTreeMap::from([
            ("200".to_owned(), ok.build().into()),
            ("400".to_owned(), bad_request.build().into()),
            ("401".to_owned(), unauthorized.build().into()),
            ("415".to_owned(), unsupported.build().into()),
            ("429".to_owned(), throttled.build().into()),
        ]);
        #[cfg(feature = "mfa")]
        responses.insert("403".to_owned(), mfa_required().into());
        responses
    }
}

impl PartialSchema for OAuth2PasswordForm {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "The OAuth2 password grant's form (RFC 6749 §4.3.2), sent as \
                 `application/x-www-form-urlencoded`.",
            ))
            .property(
                "username",
                string("The user name (often an e-mail address)."),
            )
            .required("username")
            .property(
                "password",
                string("The password.")
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
            )
            .required("password")
            .property(
                "scope",
                string(
                    "The requested scopes, separated by spaces; without it, every scope the \
                     user may hold.",
                ),
            )
            .property(
                "grant_type",
                string("`password` when sent.").enum_values(Some(["password"])),
            )
            .property("client_id", string("Accepted and ignored."))
            .property(
                "client_secret",
                string("Accepted and ignored.")
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
            )
            .into()
    }
}

impl ToSchema for OAuth2PasswordForm {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OAuth2PasswordForm")
    }
}

impl PartialSchema for TokenResponse {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some("The token endpoint's answer (RFC 6749 §5.1)."))
            .property("access_token", string("The JWT access token."))
            .required("access_token")
            .property(
                "token_type",
                string("Always `bearer`.").enum_values(Some(["bearer"])),
            )
            .required("token_type")
            .property(
                "expires_in",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(0))
                    .description(Some("The token's lifetime in seconds.")),
            )
            .required("expires_in")
            .property(
                "scope",
                string(
                    "The granted scopes, separated by spaces, when they differ from the \
                     requested ones.",
                ),
            )
            .property(
                "refresh_token",
                string(
                    "The refresh token, when the manager has sessions (not when it was set in \
                     the refresh cookie).",
                ),
            )
            .into()
    }
}

impl ToSchema for TokenResponse {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TokenResponse")
    }
}

/// The refresh route's form (RFC 6749 §6), for `request_body(content = RefreshForm,
/// content_type = "application/x-www-form-urlencoded")`: `grant_type=refresh_token` and the
/// `refresh_token` (which the refresh cookie can carry instead).
#[derive(Debug, Clone, Copy)]
pub struct RefreshForm;

impl PartialSchema for RefreshForm {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "The refresh grant's form (RFC 6749 §6), sent as \
                 `application/x-www-form-urlencoded`.",
            ))
            .property(
                "grant_type",
                string("`refresh_token`.").enum_values(Some(["refresh_token"])),
            )
            .required("grant_type")
            .property(
                "refresh_token",
                string("The refresh token; without it, the one in the refresh cookie."),
            )
            .into()
    }
}

impl ToSchema for RefreshForm {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RefreshForm")
    }
}

/// The answers of [`refresh_route`](crate::refresh::refresh_route) ([`GrantError`](crate::refresh::GrantError)):
/// 200 with a [`TokenResponse`] (the refresh token in the form) or `{"expires_in": N}` (the
/// refresh cookie: the tokens are in the cookies), 400 (`invalid_request`, `unsupported_grant_type`,
/// `invalid_grant`), 403 for a cross-site request with the cookie, 503 when the session store
/// failed. Write `responses(login::openapi::RefreshResponses)`.
#[derive(Debug, Clone, Copy)]
pub struct RefreshResponses;

impl IntoResponses for RefreshResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let error = |description: &str, codes: &[&str]| {
            let examples = codes.iter().map(|code| {
                let value = json!({ "error": code });
                ((*code).to_owned(), example(code, value))
            });
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    json_content(oauth2_error_schema(codes), examples),
                )
                .build()
        };
        let cookies_body: Schema = ObjectBuilder::new()
            .description(Some(
                "The answer to a refresh with the refresh cookie: the new tokens are in the \
                 cookies it sets, and none is in the body.",
            ))
            .property(
                "expires_in",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("The new access token's lifetime, in seconds.")),
            )
            .required("expires_in")
            .into();
        let ok = ResponseBuilder::new()
            .description(
                "New tokens. With the refresh token in the form: the token response, with a new \
                 access token and the rotated refresh token. With the refresh cookie: the new \
                 cookies (the access-token cookie when the manager reads it, and the refresh \
                 cookie) and only `expires_in` in the body, so that no script in the page can \
                 read a token.",
            )
            .header("Cache-Control", string_header("`no-store`"))
            .header(
                "Set-Cookie",
                string_header("With the refresh cookie: the new access-token and refresh cookies."),
            )
            .content(
                "application/json",
                json_content(
                    Schema::OneOf(
                        utoipa::openapi::schema::OneOfBuilder::new()
                            .item(TokenResponse::schema())
                            .item(cookies_body)
                            .build(),
                    ),
                    [
                        (
                            "form".to_owned(),
                            example(
                                "The refresh token in the form",
                                json!({
                                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…",
                                    "token_type": "bearer",
                                    "expires_in": 900,
                                    "refresh_token": "lrt_…",
                                }),
                            ),
                        ),
                        (
                            "cookie".to_owned(),
                            example("The refresh cookie", json!({ "expires_in": 900 })),
                        ),
                    ],
                ),
            )
            .build();
        let bad_request = error(
            "A malformed request, or a refresh token that is unknown, expired, already used or \
             of an ended session (RFC 6749 §5.2).",
            &["invalid_request", "unsupported_grant_type", "invalid_grant"],
        );
        let cross_site = error(
            "The refresh cookie came with a request from another origin.",
            &["invalid_request"],
        );
        let unavailable = error("The session store failed.", &["temporarily_unavailable"]);
        BTreeMap::from([
            ("200".to_owned(), ok.into()),
            ("400".to_owned(), bad_request.into()),
            ("403".to_owned(), cross_site.into()),
            ("503".to_owned(), unavailable.into()),
        ])
    }
}
