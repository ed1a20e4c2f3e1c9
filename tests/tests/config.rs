//! Configuration and minting errors (A.52, and the secret rules): every bad
//! setting is an error from `build()`, with a message a person understands; reserved claims are
//! refused at minting; secrets are never printed.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use login::{ConfigError, LoginManager, TokenError, TokenRequest, keys::Secret};
use login_test_support::SECRET;
use login_tests::builder;
use serde_json::json;

/// The documented largest leeway: 5 minutes.
const MAX_LEEWAY_SECS: u64 = 300;

fn err(b: login::LoginManagerBuilder) -> ConfigError {
    b.build().expect_err("the configuration must be refused")
}

#[test]
fn defaults_build() {
    let manager = LoginManager::new(SECRET, "/auth/token").unwrap();
    assert_eq!(manager.token_url(), "/auth/token");
    assert_eq!(manager.algorithm(), Algorithm::HS256);
    assert_eq!(manager.default_lifetime(), Duration::from_secs(900));
    assert_eq!(manager.cookie_name(), "access-token");
}

#[test]
fn no_token_source() {
    let e = err(builder().use_header(false).use_cookie(false));
    assert_eq!(e, ConfigError::NoTokenSource);
    assert!(e.to_string().contains("no token source"), "{e}");
}

#[test]
fn missing_and_empty_secret() {
    let e = err(LoginManager::builder("/login"));
    assert_eq!(e, ConfigError::MissingKey);
    // The message names every way to give a key.
    for way in [".secret(", ".signing_key(", ".verification_key("] {
        assert!(e.to_string().contains(way), "{e}");
    }
    assert_eq!(err(builder().secret("")), ConfigError::EmptySecret);
    assert_eq!(
        err(builder().secret(Vec::<u8>::new())),
        ConfigError::EmptySecret
    );
}

/// A.52: RFC 7518 §3.2 minimum key sizes: 32 bytes for HS256, 48 for HS384, 64 for HS512,
/// including the public example secrets.
#[test]
fn short_secrets_are_refused() {
    for (alg, minimum) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let short = "k".repeat(minimum - 1);
        let e = err(builder().algorithm(alg).secret(short.as_str()));
        assert_eq!(
            e,
            ConfigError::SecretTooShort {
                algorithm: alg,
                minimum,
                actual: minimum - 1
            }
        );
        let message = e.to_string();
        assert!(
            message.contains(&format!("at least {minimum} bytes")),
            "{message}"
        );
        assert!(message.contains("RFC 7518"), "{message}");

        let exact = "k".repeat(minimum);
        builder()
            .algorithm(alg)
            .secret(exact.as_str())
            .build()
            .unwrap();
    }
    for public in ["secret", "your-256-bit-secret", "changeme"] {
        assert!(
            matches!(
                err(builder().secret(public)),
                ConfigError::SecretTooShort { .. }
            ),
            "{public}"
        );
    }
    // The length counts bytes (the UTF-8 encoding is the key, as fastapi-login).
    let eighteen_chars_33_bytes = "ééééééééééééééé!!!"; // 15 × 2 + 3 = 33 bytes, 18 characters
    assert_eq!(eighteen_chars_33_bytes.len(), 33);
    builder().secret(eighteen_chars_33_bytes).build().unwrap();
}

/// A.22/A.52: a secret that looks like a PEM, SSH or JWK key is refused as an HMAC secret
/// (the algorithm-confusion mistake), however long.
#[test]
fn key_looking_secrets_are_refused() {
    let pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----\n";
    for secret in [
        pem.to_owned(),
        format!("  \n{pem}"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n".to_owned(),
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7VJTUt9Us8cKjMzEfYyji user@host".to_owned(),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl".to_owned(),
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opOdxs".to_owned(),
        r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#
            .to_owned(),
    ] {
        let e = err(builder().secret(secret.as_str()));
        assert_eq!(e, ConfigError::SecretLooksLikeKey, "{secret}");
        assert!(e.to_string().contains("PEM or SSH key"), "{e}");
    }
}

#[test]
fn non_hmac_algorithms_are_refused_with_a_secret() {
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::PS256,
    ] {
        assert_eq!(
            err(builder().algorithm(alg)),
            ConfigError::NotHmacAlgorithm(alg)
        );
    }
}

#[test]
fn leeway_is_capped() {
    assert_eq!(MAX_LEEWAY_SECS, 300);
    builder().leeway(MAX_LEEWAY_SECS).build().unwrap();
    let e = err(builder().leeway(MAX_LEEWAY_SECS + 1));
    assert_eq!(
        e,
        ConfigError::LeewayTooLarge {
            leeway: 301,
            max: 300
        }
    );
    assert!(e.to_string().contains("300"), "{e}");
    assert_eq!(
        err(builder().leeway(u64::MAX)),
        ConfigError::LeewayTooLarge {
            leeway: u64::MAX,
            max: 300
        }
    );
}

#[test]
fn lifetime_bounds() {
    assert_eq!(
        err(builder().default_lifetime(Duration::ZERO)),
        ConfigError::LifetimeOutOfRange(Duration::ZERO)
    );
    assert_eq!(
        err(builder().default_lifetime(Duration::from_millis(999))),
        ConfigError::LifetimeOutOfRange(Duration::from_millis(999))
    );
    // Over the maximum is the same error, and the message says both bounds.
    let too_long = Duration::from_secs(10 * 365 * 24 * 3600 + 1);
    let e = err(builder().default_lifetime(too_long));
    assert_eq!(e, ConfigError::LifetimeOutOfRange(too_long));
    assert!(
        e.to_string().contains("between 1 second and 10 years"),
        "{e}"
    );
    builder()
        .default_lifetime(Duration::from_secs(10 * 365 * 24 * 3600))
        .build()
        .unwrap();
    builder()
        .default_lifetime(Duration::from_secs(1))
        .build()
        .unwrap();
}

#[test]
fn cookie_names_are_tokens() {
    for name in [
        "",
        "bad name",
        "semi;colon",
        "eq=ual",
        "quo\"te",
        "com,ma",
        "ünï",
    ] {
        assert_eq!(
            err(builder().use_cookie(true).cookie_name(name)),
            ConfigError::InvalidCookieName(name.to_owned()),
            "{name:?}"
        );
    }
    // The prefix is a setting of its own (it also fixes Secure, Path and Domain).
    assert!(matches!(
        err(builder()
            .use_cookie(true)
            .cookie_name("__Host-access-token")),
        ConfigError::InvalidCookieName(_)
    ));
    let host = builder()
        .use_cookie(true)
        .cookie_host_prefix(true)
        .build()
        .unwrap();
    assert_eq!(host.cookie_name(), "__Host-access-token");
}

#[test]
fn scopes_issuer_audience_are_checked() {
    for scope in ["", "with space", "quo\"te", "back\\slash"] {
        assert_eq!(
            err(builder().scopes([(scope, "desc")])),
            ConfigError::InvalidScope(scope.to_owned())
        );
    }
    assert_eq!(err(builder().issuer("")), ConfigError::EmptyClaim("issuer"));
    assert_eq!(
        err(builder().audience("")),
        ConfigError::EmptyClaim("audience")
    );
}

/// Secrets are never printed: not by `Secret`, the builder, the manager or a config error.
#[test]
fn secrets_are_never_printed() {
    let secret = "super-secret-value-that-is-long-enough!";
    assert_eq!(format!("{:?}", Secret::from(secret)), "Secret(***)");
    let b = builder().secret(secret);
    assert!(!format!("{b:?}").contains(secret));
    let manager = b.build().unwrap();
    let debug = format!("{manager:?}");
    assert!(!debug.contains(secret), "{debug}");
    assert!(debug.contains("***"));
    let short = "short-secret";
    let e = err(builder().secret(short));
    assert!(!format!("{e} {e:?}").contains(short));
}

/// The manager is cheap to clone: clones share one configuration.
#[test]
fn clones_share_the_configuration() {
    let a = builder().build().unwrap();
    let b = a.clone();
    let token = a.create_access_token("alice").unwrap();
    assert_eq!(b.verify_token(&token).unwrap().sub, "alice");
}

/// Extra claims with reserved names are refused at minting, never silently overwritten.
#[test]
fn reserved_extra_claims_are_refused() {
    let manager = builder().build().unwrap();
    for name in [
        "sub", "exp", "iat", "nbf", "jti", "iss", "sid", "aud", "scopes", "scope",
    ] {
        let mut extra = serde_json::Map::new();
        extra.insert(name.to_owned(), json!("x"));
        extra.insert("tenant".to_owned(), json!(1));
        let result = manager.create_access_token(TokenRequest::new("alice").extra(&extra));
        assert!(
            matches!(&result, Err(TokenError::ReservedClaim(c)) if c == name),
            "{name}: {result:?}"
        );
        assert!(result.unwrap_err().to_string().contains(name));
    }
    // A struct with a reserved field name is refused the same way.
    #[derive(serde::Serialize)]
    struct Sneaky {
        exp: i64,
    }
    assert!(matches!(
        manager.create_access_token(TokenRequest::new("alice").extra(&Sneaky { exp: 4_102_444_800 })),
        Err(TokenError::ReservedClaim(c)) if c == "exp"
    ));
}

/// Other minting errors: empty subject, extra claims that are not an object, bad lifetimes.
#[test]
fn minting_errors() {
    let manager = builder().build().unwrap();
    assert!(matches!(
        manager.create_access_token(""),
        Err(TokenError::EmptySubject)
    ));
    for extra in [json!(1), json!("x"), json!([1]), json!(null)] {
        assert!(matches!(
            manager.create_access_token(TokenRequest::new("alice").extra(&extra)),
            Err(TokenError::ExtraNotAnObject)
        ));
    }
    for lifetime in [Duration::ZERO, Duration::from_secs(11 * 365 * 24 * 3600)] {
        assert!(matches!(
            manager.create_access_token(TokenRequest::new("alice").lifetime(lifetime)),
            Err(TokenError::InvalidLifetime)
        ));
    }
    // Several `extra` calls merge.
    let token = manager
        .create_access_token(
            TokenRequest::new("alice")
                .extra(&json!({ "a": 1 }))
                .extra(&json!({ "b": 2 })),
        )
        .unwrap();
    let claims = manager.verify_token(&token).unwrap();
    assert_eq!(
        (claims.extra["a"].clone(), claims.extra["b"].clone()),
        (json!(1), json!(2))
    );
}

#[test]
fn a_secret_and_a_signing_key_together_are_refused() {
    let key = login::keys::SigningKey::hmac(Algorithm::HS256, SECRET).unwrap();
    let e = err(builder().signing_key(key));
    assert_eq!(e, ConfigError::SecretAndSigningKey);
    assert!(e.to_string().contains("not both"), "{e}");
}
