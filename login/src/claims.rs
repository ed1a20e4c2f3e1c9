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

    /// Deserializes the extra claims into your own type.
    pub fn extra_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.extra.clone()))
    }

    /// Builds the claims from the registered claims (in [`REGISTERED`]'s order) and the rest.
    fn from_parts(
        mut known: [Option<Value>; REGISTERED.len()],
        map: Map<String, Value>,
    ) -> Result<Self, String> {
        let mut take = |name: &str| {
            let i = REGISTERED
                .iter()
                .position(|r| *r == name)
                .expect("a registered claim");
            known[i].take()
        };
        let sub = match take("sub") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::String(_)) => return Err("`sub` is empty".into()),
            Some(_) => return Err("`sub` is not a string".into()),
            None => return Err("`sub` is missing".into()),
        };
        let exp = match take("exp") {
            Some(v) => numeric_date(&v).ok_or("`exp` is not a valid NumericDate")?,
            None => return Err("`exp` is missing".into()),
        };
        let iat = optional_date(take("iat"), "iat")?;
        let nbf = optional_date(take("nbf"), "nbf")?;
        let jti = optional_string(take("jti"), "jti")?;
        let iss = optional_string(take("iss"), "iss")?;
        let sid = optional_string(take("sid"), "sid")?;
        let aud = match take("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s],
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err("`aud` holds a non-string".to_string()),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("`aud` is neither a string nor an array".into()),
        };
        let mut scopes: Vec<String> = match take("scopes") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) if !s.is_empty() => Ok(s),
                    _ => Err("`scopes` holds an empty or non-string item".to_string()),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("`scopes` is not an array of strings".into()),
        };
        match take("scope") {
            None => {}
            Some(Value::String(s)) => {
                for scope in s.split(' ').filter(|s| !s.is_empty()) {
                    if !scopes.iter().any(|x| x == scope) {
                        scopes.push(scope.to_owned());
                    }
                }
            }
            Some(_) => return Err("`scope` is not a string".into()),
        }
        Ok(Claims {
            sub,
            exp,
            iat,
            nbf,
            jti,
            iss,
            sid,
            aud,
            scopes,
            extra: map,
        })
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional (truncated
/// towards the past), between 0 and year 9999.
fn numeric_date(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    if let Some(i) = n.as_i64() {
        return (0..=MAX_NUMERIC_DATE as i64).contains(&i).then_some(i);
    }
    let f = n.as_f64()?;
    (f.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&f)).then(|| f.floor() as i64)
}

fn optional_date(value: Option<Value>, name: &str) -> Result<Option<i64>, String> {
    match value {
        None => Ok(None),
        Some(v) => numeric_date(&v)
            .map(Some)
            .ok_or_else(|| format!("`{name}` is not a valid NumericDate")),
    }
}

fn optional_string(value: Option<Value>, name: &str) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{name}` is not a string")),
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
                // The registered claims go to their slots without allocating their names;
                // every other claim to the `extra` map.
                let mut known: [Option<Value>; REGISTERED.len()] = Default::default();
                let mut map = Map::new();
                let duplicated = |key: &str| {
                    // A duplicated claim is ambiguous (RFC 7519 §4: MUST reject or take the
                    // last one); two parsers may disagree on which one wins.
                    de::Error::custom(format_args!("claim `{key}` appears more than once"))
                };
                while let Some(key) = access.next_key_seed(ClaimName)? {
                    let value: Value = access.next_value()?;
                    match key {
                        Name::Registered(i) => {
                            if known[i].replace(value).is_some() {
                                return Err(duplicated(REGISTERED[i]));
                            }
                        }
                        Name::Other(key) => match map.entry(key) {
                            serde_json::map::Entry::Vacant(slot) => {
                                slot.insert(value);
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

/// The claims [`Claims`] has a field for.
const REGISTERED: [&str; 10] = [
    "sub", "exp", "iat", "nbf", "jti", "iss", "sid", "aud", "scopes", "scope",
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
