//! A provider's claims mapped to what the manager checks: the scopes from Entra ID's `scp`
//! and the configured roles claim (the `scope` string and `scopes` array are read by the
//! claims' parser), the header's `typ` when required, `azp` when configured.

use serde_json::Value;

use super::Settings;
use crate::claims::Claims;

/// Adds `scp` and the roles to the claims' scopes, and checks `typ` (the header's, when
/// required) and `azp`. Errors say why the token is refused (logged at debug level).
pub(crate) fn map_claims(
    settings: &Settings,
    typ: Option<&str>,
    claims: &mut Claims,
) -> Result<(), String> {
    if settings.require_typ
        && !typ.is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        })
    {
        return Err("`typ` is not `at+jwt`".into());
    }
    if !settings.authorized_parties.is_empty() {
        match claims.extra.get("azp") {
            Some(Value::String(azp)) if settings.authorized_parties.contains(azp) => {}
            _ => return Err("`azp` is missing or not an authorized party".into()),
        }
    }
    let mut granted = Vec::new();
    if let Some(scp) = claims.extra.get("scp") {
        strings(scp, "scp", &mut granted)?;
    }
    if let Some(path) = &settings.roles {
        let mut at = claims.extra.get(path[0].as_str());
        for key in &path[1..] {
            at = at.and_then(|v| v.get(key.as_str()));
        }
        if let Some(roles) = at {
            strings(roles, "the roles claim", &mut granted)?;
        }
    }
    for scope in granted {
        if !claims.scopes.contains(&scope) {
            claims.scopes.push(scope);
        }
    }
    Ok(())
}

/// A space-separated string or an array of non-empty strings.
fn strings(value: &Value, name: &str, out: &mut Vec<String>) -> Result<(), String> {
    match value {
        Value::String(s) => out.extend(s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned)),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(s) if !s.is_empty() => out.push(s.clone()),
                    _ => return Err(format!("{name} holds an empty or non-string item")),
                }
            }
        }
        _ => return Err(format!("{name} is neither a string nor an array")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(extra: Value) -> Claims {
        let mut all = json!({ "sub": "s", "exp": 1, "scope": "read" });
        all.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(all).unwrap()
    }

    fn settings(provider: super::super::Provider) -> Settings {
        provider.settings
    }

    fn base() -> super::super::Provider {
        super::super::Provider::new("https://idp.example")
    }

    #[test]
    fn scp_and_roles_become_scopes() {
        let s = settings(base().roles_claim("realm_access.roles"));
        let mut c = claims(json!({ "scp": "write read", "realm_access": { "roles": ["admin"] } }));
        map_claims(&s, None, &mut c).unwrap();
        assert_eq!(c.scopes, ["read", "write", "admin"]);
        let mut c = claims(json!({ "scp": ["a", "b"] }));
        map_claims(&s, None, &mut c).unwrap();
        assert_eq!(c.scopes, ["read", "a", "b"]);
        let s = settings(base().roles_claim("cognito:groups"));
        let mut c = claims(json!({ "cognito:groups": ["ops"] }));
        map_claims(&s, None, &mut c).unwrap();
        assert!(c.has_scope("ops"));
        for bad in [
            json!({ "scp": 3 }),
            json!({ "scp": ["a", 1] }),
            json!({ "cognito:groups": { "x": 1 } }),
            json!({ "cognito:groups": [""] }),
        ] {
            assert!(
                map_claims(&s, None, &mut claims(bad.clone())).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn typ_and_azp() {
        let s = settings(base().require_access_token_type(true));
        assert!(map_claims(&s, Some("at+jwt"), &mut claims(json!({}))).is_ok());
        assert!(map_claims(&s, Some("application/AT+JWT"), &mut claims(json!({}))).is_ok());
        assert!(map_claims(&s, Some("JWT"), &mut claims(json!({}))).is_err());
        assert!(map_claims(&s, None, &mut claims(json!({}))).is_err());
        let open = settings(base());
        assert!(map_claims(&open, Some("JWT"), &mut claims(json!({}))).is_ok());
        let s = settings(base().authorized_parties(["web"]));
        assert!(map_claims(&s, None, &mut claims(json!({ "azp": "web" }))).is_ok());
        assert!(map_claims(&s, None, &mut claims(json!({ "azp": "other" }))).is_err());
        assert!(map_claims(&s, None, &mut claims(json!({}))).is_err());
    }
}
