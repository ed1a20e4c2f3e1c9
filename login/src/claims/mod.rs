//! Verified claims and the strict parser behind them.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The latest NumericDate we accept: 9999-12-31T23:59:59Z. Larger values are malformed.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// The claims of a verified access token.
///
/// Every field has been type-checked: `sub` is a non-empty string, `exp` a number, `scopes` an
/// array of strings (or, from other issuers, the OAuth `scope` string), and no claim appeared
/// twice. Use it as an extractor (`claims: Claims`) to read a token without loading the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claims {
    /// The subject: the identifier the user loader receives.
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: i64,
    /// Issue time, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not-before time, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The token's unique id, when present (always present in tokens this crate mints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The issuer, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The session the token belongs to (tokens minted by a session: a login with sessions
    /// enabled, or a refresh), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The audiences (`aud` as a string or an array), empty when absent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aud: Vec<String>,
    /// The granted scopes: the `scopes` array and the space-separated `scope` string, merged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// How the user authenticated (`amr`, RFC 8176: `pwd`, `otp`, `mfa`, `hwk`, …), empty when
    /// absent. A refresh keeps the login's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// When the user last authenticated (OpenID Connect's `auth_time`, seconds since the Unix
    /// epoch), when present: the login, or the last re-authentication. A refresh keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// Every other claim, as given to
    /// [`TokenRequest::extra`](crate::TokenRequest::extra) when the token was minted.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    /// Whether the token grants `scope` (exact, case-sensitive match).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the token grants every scope in `required`.
    pub fn has_scopes(&self, required: &[&str]) -> bool {
        required.iter().all(|r| self.has_scope(r))
    }

    /// Whether the token's `amr` holds `method` (exact match): `claims.has_amr("otp")`.
    pub fn has_amr(&self, method: &str) -> bool {
        self.amr.iter().any(|m| m == method)
    }

    /// Deserializes the extra claims into your own type.
    pub fn extra_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.extra.clone()))
    }

    /// Builds the claims from the registered claims, read into their types, and the rest.
    fn from_parts(known: Registered, map: Map<String, Value>) -> Result<Self, String> {
        let sub = match known.sub {
            Some(s) if !s.is_empty() => s,
            Some(_) => return Err("`sub` is empty".into()),
            None => return Err("`sub` is missing".into()),
        };
        let exp = known.exp.ok_or("`exp` is missing")?;
        let mut scopes = known.scopes.unwrap_or_default();
        if scopes.iter().any(String::is_empty) {
            return Err("`scopes` holds an empty or non-string item".into());
        }
        let mut amr = known.amr.unwrap_or_default();
        if amr.iter().any(String::is_empty) {
            return Err("`amr` holds an empty or non-string item".into());
        }
        if let Some(s) = known.scope {
            for scope in s.split(' ').filter(|s| !s.is_empty()) {
                if !scopes.iter().any(|x| x == scope) {
                    scopes.push(scope.to_owned());
                }
            }
        }
        // serde reads an array of unknown length into a `Vec` that grows to four items at
        // the first; a cached token keeps its claims, so give back what is unused (one
        // reallocation, on the uncached path only).
        scopes.shrink_to_fit();
        amr.shrink_to_fit();
        Ok(Claims {
            sub,
            exp,
            iat: known.iat,
            nbf: known.nbf,
            jti: known.jti,
            iss: known.iss,
            sid: known.sid,
            aud: known.aud.map(Audience::into_vec).unwrap_or_default(),
            scopes,
            amr,
            auth_time: known.auth_time,
            extra: map,
        })
    }
}

/// The registered claims, each read straight into its type as it is met (no intermediate
/// `serde_json::Value`).
#[derive(Default)]
struct Registered {
    sub: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
    iss: Option<String>,
    sid: Option<String>,
    aud: Option<Audience>,
    scopes: Option<Vec<String>>,
    scope: Option<String>,
    amr: Option<Vec<String>>,
    auth_time: Option<i64>,
}

impl Registered {
    /// Reads the value of the registered claim `REGISTERED[i]` into its slot; a claim met
    /// twice is refused.
    fn read<'de, A: MapAccess<'de>>(&mut self, i: usize, access: &mut A) -> Result<(), A::Error> {
        fn put<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
            slot: &mut Option<T>,
            name: &str,
            access: &mut A,
        ) -> Result<(), A::Error> {
            if slot.is_some() {
                // A duplicated claim is ambiguous (RFC 7519 §4: MUST reject or take the
                // last one); two parsers may disagree on which one wins.
                return Err(de::Error::custom(format_args!(
                    "claim `{name}` appears more than once"
                )));
            }
            let value = access
                .next_value::<T>()
                .map_err(|e| de::Error::custom(format_args!("`{name}`: {e}")))?;
            *slot = Some(value);
            Ok(())
        }
        fn put_date<'de, A: MapAccess<'de>>(
            slot: &mut Option<i64>,
            name: &str,
            access: &mut A,
        ) -> Result<(), A::Error> {
            let mut date = slot.map(NumericDate);
            put(&mut date, name, access)?;
            *slot = date.map(|d| d.0);
            Ok(())
        }
        // In `REGISTERED`'s order.
        match i {
            0 => put(&mut self.sub, "sub", access),
            1 => put_date(&mut self.exp, "exp", access),
            2 => put_date(&mut self.iat, "iat", access),
            3 => put_date(&mut self.nbf, "nbf", access),
            4 => put(&mut self.jti, "jti", access),
            5 => put(&mut self.iss, "iss", access),
            6 => put(&mut self.sid, "sid", access),
            7 => put(&mut self.aud, "aud", access),
            8 => put(&mut self.scopes, "scopes", access),
            9 => put(&mut self.scope, "scope", access),
            10 => put(&mut self.amr, "amr", access),
            _ => put_date(&mut self.auth_time, "auth_time", access),
        }
    }
}

/// `aud`: a string or an array of strings.
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn into_vec(self) -> Vec<String> {
        match self {
            Audience::One(s) => vec![s],
            Audience::Many(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Audience, E> {
                Ok(Audience::One(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Audience, E> {
                Ok(Audience::One(s))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
                while let Some(s) = seq.next_element::<String>()? {
                    all.push(s);
                }
                Ok(Audience::Many(all))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional (truncated
/// towards the past), between 0 and year 9999; read as serde_json reads the number (an
/// unsigned or signed integer when it fits, else a float).
struct NumericDate(i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a valid NumericDate")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<NumericDate, E> {
                match i64::try_from(n) {
                    Ok(i) => self.visit_i64(i),
                    // As `serde_json::Number::as_i64` then `as_f64`: always past year 9999.
                    Err(_) => self.visit_f64(n as f64),
                }
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<NumericDate, E> {
                (0..=MAX_NUMERIC_DATE as i64)
                    .contains(&i)
                    .then_some(NumericDate(i))
                    .ok_or_else(|| E::custom("not a valid NumericDate"))
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<NumericDate, E> {
                (f.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&f))
                    .then(|| NumericDate(f.floor() as i64))
                    .ok_or_else(|| E::custom("not a valid NumericDate"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrictObject;

        impl<'de> Visitor<'de> for StrictObject {
            type Value = Claims;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of claims")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Claims, A::Error> {
                // The registered claims go to their typed slots without allocating their
                // names; every other claim to the `extra` map.
                let mut known = Registered::default();
                let mut map = Map::new();
                let duplicated = |key: &str| {
                    // A duplicated claim is ambiguous (RFC 7519 §4: MUST reject or take the
                    // last one); two parsers may disagree on which one wins.
                    de::Error::custom(format_args!("claim `{key}` appears more than once"))
                };
                while let Some(key) = access.next_key_seed(ClaimName)? {
                    match key {
                        Name::Registered(i) => known.read(i, &mut access)?,
                        Name::Other(key) => match map.entry(key) {
                            serde_json::map::Entry::Vacant(slot) => {
                                slot.insert(access.next_value()?);
                            }
                            serde_json::map::Entry::Occupied(slot) => {
                                return Err(duplicated(slot.key()));
                            }
                        },
                    }
                }
                Claims::from_parts(known, map).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_map(StrictObject)
    }
}

/// The claims [`Claims`] has a field for (which a token request may not set as extra claims).
pub(crate) const REGISTERED: [&str; 12] = [
    "sub",
    "exp",
    "iat",
    "nbf",
    "jti",
    "iss",
    "sid",
    "aud",
    "scopes",
    "scope",
    "amr",
    "auth_time",
];

enum Name {
    Registered(usize),
    Other(String),
}

/// Reads a claim's name, allocating only for names that are not registered.
struct ClaimName;

impl<'de> de::DeserializeSeed<'de> for ClaimName {
    type Value = Name;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Name, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for ClaimName {
    type Value = Name;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Name, E> {
        Ok(match REGISTERED.iter().position(|r| *r == name) {
            Some(i) => Name::Registered(i),
            None => Name::Other(name.to_owned()),
        })
    }

    fn visit_string<E: de::Error>(self, name: String) -> Result<Name, E> {
        Ok(match REGISTERED.iter().position(|r| *r == name) {
            Some(i) => Name::Registered(i),
            None => Name::Other(name),
        })
    }
}

/// The typed parser against a reference parser, over generated claim sets.
#[cfg(test)]
mod differential;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Claims, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn accepts_minimal_and_float_exp() {
        let c = parse(r#"{"sub":"alice","exp":1000.9}"#).unwrap();
        assert_eq!(c.sub, "alice");
        assert_eq!(c.exp, 1000);
    }

    #[test]
    fn rejects_bad_sub() {
        for json in [
            r#"{"exp":1}"#,
            r#"{"sub":null,"exp":1}"#,
            r#"{"sub":123,"exp":1}"#,
            r#"{"sub":["a"],"exp":1}"#,
            r#"{"sub":{},"exp":1}"#,
            r#"{"sub":"","exp":1}"#,
        ] {
            assert!(parse(json).is_err(), "{json}");
        }
    }

    #[test]
    fn rejects_bad_exp() {
        for json in [
            r#"{"sub":"a"}"#,
            r#"{"sub":"a","exp":"9999999999"}"#,
            r#"{"sub":"a","exp":null}"#,
            r#"{"sub":"a","exp":true}"#,
            r#"{"sub":"a","exp":-1}"#,
            r#"{"sub":"a","exp":1e300}"#,
            r#"{"sub":"a","exp":18446744073709551616}"#,
        ] {
            assert!(parse(json).is_err(), "{json}");
        }
    }

    #[test]
    fn rejects_duplicates_and_non_objects() {
        for json in [
            r#"{"sub":"a","sub":"b","exp":1}"#,
            r#"{"sub":"a","exp":1,"x":1,"x":2}"#,
            r#"{"sub":"a","s\u0075b":"b","exp":1}"#,
            r#"{"sub":"a","exp":1,"\u0078":1,"x":2}"#,
            r#"[1,2]"#,
            r#""alice""#,
        ] {
            assert!(parse(json).is_err(), "{json}");
        }
    }

    #[test]
    fn scopes_array_and_scope_string_merge() {
        let c = parse(r#"{"sub":"a","exp":1,"scopes":["read"],"scope":"read write"}"#).unwrap();
        assert_eq!(c.scopes, vec!["read", "write"]);
        for json in [
            r#"{"sub":"a","exp":1,"scopes":"read"}"#,
            r#"{"sub":"a","exp":1,"scopes":["read",1]}"#,
            r#"{"sub":"a","exp":1,"scopes":null}"#,
            r#"{"sub":"a","exp":1,"scopes":{"write":true}}"#,
            r#"{"sub":"a","exp":1,"scope":["read"]}"#,
        ] {
            assert!(parse(json).is_err(), "{json}");
        }
    }

    #[test]
    fn extra_claims_kept() {
        let c = parse(r#"{"sub":"a","exp":1,"role":"admin"}"#).unwrap();
        assert_eq!(c.extra["role"], "admin");
    }
}
