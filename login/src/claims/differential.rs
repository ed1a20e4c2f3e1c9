//! The typed claims parser against a reference parser (every claim read as a
//! `serde_json::Value` first, then typed), over generated claim sets: the same claims, or an
//! error from both.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;

/// The previous parser: every member as a `Value` (a duplicated name refused), then the
/// registered claims typed.
fn oracle(json: &str) -> Option<Claims> {
    struct Members(Vec<(String, Value)>);
    impl<'de> Deserialize<'de> for Members {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Members;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Members, A::Error> {
                    let mut all = Vec::new();
                    while let Some((k, v)) = a.next_entry::<String, Value>()? {
                        all.push((k, v));
                    }
                    Ok(Members(all))
                }
            }
            d.deserialize_map(V)
        }
    }
    let members = serde_json::from_str::<Members>(json).ok()?.0;
    let mut known: Map<String, Value> = Map::new();
    let mut extra = Map::new();
    for (name, value) in members {
        let target = if REGISTERED.contains(&name.as_str()) {
            &mut known
        } else {
            &mut extra
        };
        if target.insert(name, value).is_some() {
            return None;
        }
    }
    let date = |v: &Value| -> Option<i64> {
        let n = v.as_number()?;
        if let Some(i) = n.as_i64() {
            return (0..=MAX_NUMERIC_DATE as i64).contains(&i).then_some(i);
        }
        let f = n.as_f64()?;
        (f.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&f)).then(|| f.floor() as i64)
    };
    let optional_date = |name: &str| match known.get(name) {
        None => Some(None),
        Some(v) => date(v).map(Some),
    };
    let optional_string = |name: &str| match known.get(name) {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    };
    let strings = |v: &Value, non_empty: bool| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| !non_empty || !s.is_empty())
                    .map(str::to_owned)
            })
            .collect()
    };
    let sub = known
        .get("sub")?
        .as_str()
        .filter(|s| !s.is_empty())?
        .to_owned();
    let exp = date(known.get("exp")?)?;
    let aud = match known.get("aud") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(v) => strings(v, false)?,
    };
    let mut scopes = match known.get("scopes") {
        None => Vec::new(),
        Some(v) => strings(v, true)?,
    };
    match known.get("scope") {
        None => {}
        Some(Value::String(s)) => {
            for scope in s.split(' ').filter(|s| !s.is_empty()) {
                if !scopes.iter().any(|x| x == scope) {
                    scopes.push(scope.to_owned());
                }
            }
        }
        Some(_) => return None,
    }
    let amr = match known.get("amr") {
        None => Vec::new(),
        Some(v) => strings(v, true)?,
    };
    Some(Claims {
        sub,
        exp,
        iat: optional_date("iat")?,
        nbf: optional_date("nbf")?,
        jti: optional_string("jti")?,
        iss: optional_string("iss")?,
        sid: optional_string("sid")?,
        aud,
        scopes,
        amr,
        auth_time: optional_date("auth_time")?,
        extra,
    })
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(REGISTERED.to_vec()).prop_map(str::to_owned),
        1 => Just(r"s\u0075b".to_owned()),
        1 => Just(r"e\u0078p".to_owned()),
        1 => Just("role".to_owned()),
        1 => Just("Sub".to_owned()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#""alice""#),
        Just(r#""""#),
        Just(r#""read write""#),
        Just(r#"" read  read ""#),
        Just(r#""\u00e9""#),
        Just("1800000000"),
        Just("1800000000.75"),
        Just("0"),
        Just("-0"),
        Just("-1"),
        Just("-0.5"),
        Just("253402300799"),
        Just("253402300800"),
        Just("9223372036854775807"),
        Just("9223372036854775808"),
        Just("18446744073709551616"),
        Just("1e3"),
        Just("1e300"),
        Just("null"),
        Just("true"),
        Just("[]"),
        Just(r#"["read"]"#),
        Just(r#"["read","write","read"]"#),
        Just(r#"["read",""]"#),
        Just(r#"["read",1]"#),
        Just(r#"[["read"]]"#),
        Just(r#"{"a":1}"#),
    ]
    .prop_map(str::to_owned)
}

/// A claim set: a valid `sub`, `exp`, both or neither first, then generated members.
fn claims_json() -> impl Strategy<Value = String> {
    (0u8..4, prop::collection::vec((name(), value()), 0..6)).prop_map(|(base, members)| {
        let mut all: Vec<String> = Vec::new();
        if base & 1 == 1 {
            all.push(r#""sub":"alice""#.to_owned());
        }
        if base & 2 == 2 {
            all.push(r#""exp":1800000000"#.to_owned());
        }
        all.extend(members.into_iter().map(|(n, v)| format!("\"{n}\":{v}")));
        format!("{{{}}}", all.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn same_claims_as_the_value_parser(json in claims_json()) {
        let ours = serde_json::from_str::<Claims>(&json).ok();
        prop_assert_eq!(ours, oracle(&json), "claims {}", json);
    }
}
