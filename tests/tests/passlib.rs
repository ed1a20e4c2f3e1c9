//! Existing passlib hashes (fastapi-login's docs: `CryptContext(schemes=["bcrypt"])`), made by
//! passlib in Python during the test: `login::password::WithBcrypt` answers as passlib does for
//! random passwords (ASCII, non-ASCII, over bcrypt's 72 bytes) and their variants, and the
//! login route moves a bcrypt user to Argon2id at their first successful login.
//!
//! passlib or bcrypt missing: skipped with a note, except under CI (`CI` set), where it fails.
//! `.ci/run` installs the pair pinned (`passlib==1.7.4`, `bcrypt==4.0.1`: passlib 1.7.4 fails
//! with bcrypt 5, which refuses passwords over 72 bytes), and argon2-cffi, passlib's `argon2`
//! backend, with which the FastAPI side verifies the users `login` moved to Argon2id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use login::password::{Argon2id, Passwords, WithBcrypt};
use login::{LoginAccount, LoginError, LoginManager, PasswordGrant};
use login_test_support::CountingScheme;
use login_test_support::{Reply, SECRET, form_request, form_urlencoded, logs, send};
use login_tests::python;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

fn passlib_or_skip(test: &str) -> bool {
    python::require(
        "passlib.hash, bcrypt, argon2",
        "pip install passlib==1.7.4 bcrypt==4.0.1 argon2-cffi",
        test,
    )
}

/// One password for passlib to hash (`rounds`: passlib's bcrypt cost, `None` for its default
/// of 12), and the candidates passlib then checks against the hash.
struct Case {
    password: String,
    rounds: Option<u32>,
    candidates: Vec<String>,
}

/// What passlib made and answered for a [`Case`].
struct Hashed {
    hash: String,
    /// `ctx.verify(candidate, hash)` for each candidate.
    verdicts: Vec<bool>,
}

/// Hashes each case with `CryptContext(schemes=["bcrypt"], deprecated="auto")`, as
/// fastapi-login's docs set it up, and checks its candidates with the same context. Passwords
/// go through hex so that no locale touches them.
fn passlib(cases: &[Case]) -> Vec<Hashed> {
    const SCRIPT: &str = r#"
import json, sys
from passlib.context import CryptContext
out = []
for case in json.loads(sys.argv[1]):
    rounds = {"bcrypt__rounds": case["rounds"]} if case["rounds"] else {}
    ctx = CryptContext(schemes=["bcrypt"], deprecated="auto", **rounds)
    hash = ctx.hash(bytes.fromhex(case["password"]).decode())
    verdicts = [ctx.verify(bytes.fromhex(c).decode(), hash) for c in case["candidates"]]
    out.append({"hash": hash, "verdicts": verdicts})
print(json.dumps(out))
"#;
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "password": hex(&c.password),
                "rounds": c.rounds,
                "candidates": c.candidates.iter().map(|s| hex(s)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let output = python::run(SCRIPT, &[&Value::from(input).to_string()])
        .unwrap_or_else(|stderr| panic!("passlib failed:\n{stderr}"));
    let output: Vec<Value> = serde_json::from_str(&output).expect("JSON from the script");
    output
        .into_iter()
        .map(|o| Hashed {
            hash: o["hash"].as_str().unwrap().to_owned(),
            verdicts: o["verdicts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_bool().unwrap())
                .collect(),
        })
        .collect()
}

/// The seed when `LOGIN_TEST_SEED` is not set.
const DEFAULT_SEED: u64 = 0x006c_6f67_696e;

/// The random passwords of one test, drawn from a generator seeded with `LOGIN_TEST_SEED`
/// (a `u64`) when set, else with [`DEFAULT_SEED`]: every run draws the same passwords, and a
/// failing test prints its seed, so `LOGIN_TEST_SEED=<seed>` reproduces it.
struct Random {
    rng: StdRng,
    seed: u64,
}

impl Random {
    fn new() -> Self {
        let seed = match std::env::var("LOGIN_TEST_SEED") {
            Ok(seed) => seed
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("LOGIN_TEST_SEED={seed:?} is not a u64")),
            Err(_) => DEFAULT_SEED,
        };
        Random {
            rng: StdRng::seed_from_u64(seed),
            seed,
        }
    }

    /// A password of `chars` characters drawn from `alphabet`.
    fn password(&mut self, alphabet: &[char], chars: usize) -> String {
        (0..chars)
            .map(|_| *alphabet.choose(&mut self.rng).unwrap())
            .collect()
    }

    /// A number of characters in `range`.
    fn len(&mut self, range: std::ops::RangeInclusive<usize>) -> usize {
        self.rng.random_range(range)
    }
}

impl Drop for Random {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "random passwords drawn with LOGIN_TEST_SEED={} (set it to run them again)",
                self.seed
            );
        }
    }
}

const ASCII: &[char] = &[
    'a', 'b', 'c', 'x', 'y', 'z', 'A', 'Q', 'Z', '0', '7', '9', ' ', '!', '$', '%', '~', '/',
];
/// Two-, three- and four-byte UTF-8, so that byte 72 falls inside a character at times.
const NON_ASCII: &[char] = &[
    'é', 'ü', 'ß', 'ж', 'π', '中', '文', '€', '🔑', '😀', 'a', '1',
];

/// `password` with its first character replaced (a wrong password, whatever its length).
fn first_changed(password: &str) -> String {
    let first = password.chars().next().unwrap();
    let other = if first == 'q' { 'r' } else { 'q' };
    format!("{other}{}", &password[first.len_utf8()..])
}

/// The first 72 bytes of `password` (up to the end of the character that holds byte 72) plus
/// `suffix`: the same password to bcrypt when `password` has 72 bytes or more.
fn after_72(password: &str, suffix: &str) -> String {
    let mut end = 72.min(password.len());
    while !password.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{suffix}", &password[..end])
}

/// Random passwords hashed by passlib (costs 4 and 5; ASCII, non-ASCII, over 72 bytes): for
/// each, `login` answers every candidate as passlib does — the password itself yes, a changed
/// first character or a missing last one no, and (72 bytes or more) one that differs only
/// after byte 72 yes, as passlib 1.7 truncates silently.
#[test]
fn passlib_bcrypt_hashes_verify_as_passlib_does() {
    if !passlib_or_skip("passlib_bcrypt_hashes_verify_as_passlib_does") {
        return;
    }
    let mut random = Random::new();
    let mut passwords = vec![];
    for (alphabet, chars) in [
        (ASCII, 1..=30),
        (ASCII, 72..=72),
        (ASCII, 73..=200),
        (NON_ASCII, 1..=15),
        (NON_ASCII, 30..=80),
    ] {
        let chars = random.len(chars);
        passwords.push(random.password(alphabet, chars));
    }
    passwords.push(format!("a{}", "ü".repeat(40))); // byte 72 is inside an `ü`
    passwords.push(random.password(NON_ASCII, 200));
    let cases: Vec<Case> = passwords
        .iter()
        .enumerate()
        .map(|(i, password)| {
            let mut candidates = vec![password.clone(), first_changed(password)];
            if password.chars().count() > 1 {
                let mut shorter = password.clone();
                shorter.pop();
                candidates.push(shorter);
            }
            candidates.push(format!("{password}x"));
            candidates.push(after_72(password, "-something else"));
            Case {
                password: password.clone(),
                rounds: Some(4 + (i as u32 % 2)),
                candidates,
            }
        })
        .collect();
    let hashed = passlib(&cases);
    let login = Passwords::new(WithBcrypt::new(Argon2id::default(), 5).unwrap()).unwrap();
    for (case, hashed) in cases.iter().zip(&hashed) {
        let password = &case.password;
        assert!(hashed.hash.starts_with("$2b$0"), "{}", hashed.hash);
        for (candidate, passlib_says) in case.candidates.iter().zip(&hashed.verdicts) {
            let login_says = login
                .verify_blocking(candidate, Some(&hashed.hash))
                .unwrap();
            assert_eq!(
                login_says, *passlib_says,
                "password {password:?}, candidate {candidate:?}, hash {} (LOGIN_TEST_SEED={})",
                hashed.hash, random.seed
            );
        }
        // Whatever follows 72 bytes is ignored (a 72-byte password has no NUL terminator).
        let long = password.len() >= 72;
        assert!(hashed.verdicts[0], "{password:?}");
        assert!(!hashed.verdicts[1], "{password:?}");
        assert_eq!(*hashed.verdicts.last().unwrap(), long, "{password:?}");
        assert!(login.needs_rehash(&hashed.hash));
    }
}

/// passlib's default cost (12), as fastapi-login's docs hash: verifies with `WithBcrypt` at
/// cost 12, and not with the plain Argon2id default (fail closed).
#[test]
fn a_passlib_hash_at_the_default_cost_verifies() {
    if !passlib_or_skip("a_passlib_hash_at_the_default_cost_verifies") {
        return;
    }
    let mut random = Random::new();
    let password = random.password(NON_ASCII, 20);
    let hashed = passlib(&[Case {
        password: password.clone(),
        rounds: None,
        candidates: vec![],
    }]);
    let stored = &hashed[0].hash;
    assert!(stored.starts_with("$2b$12$"), "{stored}");
    let login = Passwords::new(WithBcrypt::new(Argon2id::default(), 12).unwrap()).unwrap();
    assert_eq!(login.verify_blocking(&password, Some(stored)), Ok(true));
    assert_eq!(
        login.verify_blocking(&first_changed(&password), Some(stored)),
        Ok(false)
    );
    assert_eq!(
        login::password::Passwords::default().verify_blocking(&password, Some(stored)),
        Ok(false)
    );
}

#[derive(Clone, Debug)]
struct Account {
    name: String,
    hash: String,
}

impl LoginAccount for Account {
    fn subject(&self) -> String {
        self.name.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.hash)
    }
}

// `FromRef`: `PasswordGrant` finds the manager (its login throttle) in the state.
#[derive(Clone, axum::extract::FromRef)]
struct AppState {
    manager: LoginManager,
    passwords: Passwords,
    accounts: Arc<Mutex<HashMap<String, Account>>>,
}

/// The login route of the README: the password grant, storing the upgraded hash.
async fn login(
    State(state): State<AppState>,
    grant: PasswordGrant,
) -> Result<Response, LoginError> {
    let account = state
        .accounts
        .lock()
        .unwrap()
        .get(grant.username())
        .cloned();
    let login = grant.authenticate(&state.passwords, account).await?;
    if let Some(hash) = login.new_password_hash() {
        let mut accounts = state.accounts.lock().unwrap();
        accounts.get_mut(&login.account().name).unwrap().hash = hash.to_owned();
    }
    login.token_response(&state.manager).await
}

async fn log_in(router: &Router, user: &str, password: &str) -> Reply {
    let body = form_urlencoded(&[("username", user), ("password", password)]);
    send(router, form_request("/login", body)).await
}

/// A user whose passlib hash is bcrypt logs in through `PasswordGrant` and leaves with an
/// Argon2id hash of their whole password (over 72 bytes, non-ASCII); a wrong password or an
/// unknown user changes nothing; each login costs exactly one verification.
#[tokio::test]
async fn the_login_route_moves_a_passlib_user_to_argon2id() {
    if !passlib_or_skip("the_login_route_moves_a_passlib_user_to_argon2id") {
        return;
    }
    let mut random = Random::new();
    let password = format!(
        "{}{}",
        random.password(NON_ASCII, 30),
        random.password(ASCII, 20)
    );
    assert!(password.len() > 72);
    let hashed = passlib(&[Case {
        password: password.clone(),
        rounds: Some(5),
        candidates: vec![],
    }]);
    let bcrypt_hash = hashed[0].hash.clone();
    let scheme = CountingScheme::new(WithBcrypt::new(Argon2id::default(), 5).unwrap());
    let state = AppState {
        manager: LoginManager::new(SECRET, "/login").unwrap(),
        passwords: Passwords::new(scheme.clone()).unwrap(),
        accounts: Arc::new(Mutex::new(HashMap::from([(
            "alice".to_owned(),
            Account {
                name: "alice".to_owned(),
                hash: bcrypt_hash.clone(),
            },
        )]))),
    };
    let router = Router::new()
        .route("/login", post(login))
        .with_state(state.clone());
    let stored = || state.accounts.lock().unwrap()["alice"].hash.clone();
    let counts = || scheme.take();
    counts();

    // Wrong password, unknown user: 401, one verification each, nothing stored.
    for (user, pw) in [
        ("alice", first_changed(&password)),
        ("nobody", password.clone()),
    ] {
        let reply = log_in(&router, user, &pw).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
        assert_eq!(counts(), (1, 0), "{user}");
        assert_eq!(stored(), bcrypt_hash);
    }

    // The right password: a token, and the hash is now Argon2id (one verification, one hash).
    let reply = log_in(&router, "alice", &password).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(state.manager.verify_token(&token).unwrap().sub, "alice");
    assert_eq!(counts(), (1, 1));
    let upgraded = stored();
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    assert!(!state.passwords.needs_rehash(&upgraded));
    assert_eq!(
        state.passwords.verify(&password, Some(&upgraded)).await,
        Ok(true)
    );
    counts();

    // Next login: Argon2id, no rehash. Only the whole password matches now, where the bcrypt
    // hash accepted any password sharing its first 72 bytes.
    let reply = log_in(&router, "alice", &password).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(counts(), (1, 0));
    assert_eq!(stored(), upgraded);
    let same_72 = after_72(&password, "!");
    assert!(
        passlib_verify(&same_72, &bcrypt_hash),
        "passlib accepts the first 72 bytes"
    );
    let reply = log_in(&router, "alice", &same_72).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());

    // The FastAPI app, sharing the users table, verifies the moved user with passlib's
    // `argon2` (argon2-cffi) beside `bcrypt`.
    assert!(passlib_verify(&password, &upgraded));
    assert!(!passlib_verify(&first_changed(&password), &upgraded));
}

/// `CryptContext(schemes=["bcrypt", "argon2"]).verify(password, hash)`: the FastAPI app's
/// context while both apps share the users table (MIGRATING.md).
fn passlib_verify(password: &str, hash: &str) -> bool {
    const SCRIPT: &str = r#"
import sys
from passlib.context import CryptContext
ctx = CryptContext(schemes=["bcrypt", "argon2"], deprecated="auto")
print(ctx.verify(bytes.fromhex(sys.argv[1]).decode(), sys.argv[2]))
"#;
    let hex: String = password.bytes().map(|b| format!("{b:02x}")).collect();
    match python::run(SCRIPT, &[&hex, hash]).unwrap().trim() {
        "True" => true,
        "False" => false,
        other => panic!("passlib said {other:?}"),
    }
}

/// passlib's `argon2` (argon2-cffi) writes standard PHC strings with its own parameters
/// (m=65536, t=3, p=4 in passlib 1.7.4): a plain Argon2id scheme with those parameters
/// verifies them, without the `bcrypt` feature's scheme. The default parameters are cheaper,
/// so the default refuses them (fails closed after its usual work: verified at their own cost,
/// these logins would take longer than an unknown user's), and flags them for a rehash.
#[test]
fn passlib_argon2_hashes_verify_already() {
    if !passlib_or_skip("passlib_argon2_hashes_verify_already") {
        return;
    }
    const SCRIPT: &str = r#"
import sys, warnings
warnings.simplefilter("ignore")
from passlib.context import CryptContext
print(CryptContext(schemes=["argon2"]).hash(bytes.fromhex(sys.argv[1]).decode()))
"#;
    let mut random = Random::new();
    let password = random.password(NON_ASCII, 12);
    let hex: String = password.bytes().map(|b| format!("{b:02x}")).collect();
    let stored = python::run(SCRIPT, &[&hex]).expect("passlib hashes");
    let stored = stored.trim();
    assert!(
        stored.starts_with("$argon2id$v=19$m=65536,t=3,p=4$"),
        "{stored}"
    );
    let as_costly = login::password::Passwords::new(
        login::password::Argon2id::new(65536, 3, 4).expect("passlib's parameters"),
    )
    .unwrap();
    assert_eq!(as_costly.verify_blocking(&password, Some(stored)), Ok(true));
    assert_eq!(
        as_costly.verify_blocking(&first_changed(&password), Some(stored)),
        Ok(false)
    );
    assert_eq!(
        login::password::Passwords::default().verify_blocking(&password, Some(stored)),
        Ok(false)
    );
    assert!(login::password::Passwords::default().needs_rehash(stored));
}

/// Made by passlib 1.7.4: `CryptContext(schemes=["bcrypt"], bcrypt__rounds=4).hash("hunter2")`.
const PASSLIB_HUNTER2: &str = "$2b$04$U8Sy4aiE/7KLTBeyvzLSkuqTuh6JiH5gjGFrf.qF25Ur2.mTOvpYS";

/// A migrating app that forgot `WithBcrypt`: every bcrypt user fails closed (a wrong password
/// to the client), and the log says why and names the fix, without the hash. A `$2x$` hash
/// or a planted cost fails closed under `WithBcrypt` with the same warning.
#[test]
fn a_bcrypt_hash_the_scheme_cannot_check_is_logged_with_the_fix() {
    let bcrypt_warning = "looks like bcrypt";
    for (passwords, stored) in [
        (Passwords::default(), PASSLIB_HUNTER2.to_owned()),
        (
            Passwords::new(WithBcrypt::new(Argon2id::new(64, 1, 1).unwrap(), 4).unwrap()).unwrap(),
            PASSLIB_HUNTER2.replace("$2b$", "$2x$"),
        ),
        (
            Passwords::new(WithBcrypt::new(Argon2id::new(64, 1, 1).unwrap(), 4).unwrap()).unwrap(),
            PASSLIB_HUNTER2.replace("$2b$04$", "$2b$31$"),
        ),
    ] {
        let (guard, logs) = logs::capture();
        assert_eq!(
            passwords.verify_blocking("hunter2", Some(&stored)),
            Ok(false)
        );
        drop(guard);
        let text = logs.text();
        assert!(text.contains(bcrypt_warning), "{stored}: {text}");
        assert!(
            text.contains("password::WithBcrypt, feature `bcrypt`"),
            "{text}"
        );
        logs.assert_not_containing(&stored, &stored[7..]);
    }
    // Other malformed hashes keep the generic warning.
    let (guard, logs) = logs::capture();
    assert_eq!(
        Passwords::default().verify_blocking("x", Some("not-a-hash")),
        Ok(false)
    );
    drop(guard);
    assert!(
        logs.text().contains("malformed or exceeds the limits"),
        "{}",
        logs.text()
    );
    assert!(!logs.text().contains(bcrypt_warning));
}
