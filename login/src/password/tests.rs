//! Unit tests of the password module.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::header;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, Params, Version};

/// The default instance's blocking calls, as the tests below use them.
fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    Passwords::default().hash_blocking(password)
}
fn verify_blocking(password: &str, stored: Option<&str>) -> Result<bool, PasswordError> {
    Passwords::default().verify_blocking(password, stored)
}
fn needs_rehash(stored: &str) -> bool {
    Passwords::default().needs_rehash(stored)
}

/// Argon2 with explicit parameters, algorithm and version, and a fixed salt.
fn hash_with(alg: argon2::Algorithm, version: Version, m: u32, t: u32, pw: &str) -> String {
    let params = Params::new(m, t, 1, None).unwrap();
    Argon2::new(alg, version, params)
        .hash_password_with_salt(pw.as_bytes(), b"fixed-salt-16byt")
        .unwrap()
        .to_string()
}

/// `login-test-support`'s counting scheme, its source included (the crate itself would link
/// a second copy of `login`, with another `PasswordScheme`).
pub(super) mod counting_scheme {
    // Not every test here reads every counter.
    #![allow(dead_code)]
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-support/src/counting_scheme.rs"
    ));
}
use counting_scheme::CountingScheme;

#[test]
fn bounds_checked_before_hashing() {
    assert_eq!(hash_blocking(""), Err(PasswordError::Empty));
    let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    assert_eq!(hash_blocking(&long), Err(PasswordError::TooLong));
    assert_eq!(verify_blocking(&long, None), Err(PasswordError::TooLong));
}

#[test]
fn hashes_are_argon2id_and_verify() {
    let h = hash_blocking("correct horse battery staple").unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    assert_eq!(
        verify_blocking("correct horse battery staple", Some(&h)),
        Ok(true)
    );
    assert_eq!(verify_blocking("wrong", Some(&h)), Ok(false));
    assert_eq!(verify_blocking("x", Some("not-a-phc-string")), Ok(false));
    assert_eq!(verify_blocking("x", None), Ok(false));
    let passphrase = "p".repeat(64);
    let h = hash_blocking(&passphrase).unwrap();
    assert_eq!(verify_blocking(&passphrase, Some(&h)), Ok(true));
    assert!(!needs_rehash(&h));
}

#[test]
fn legacy_hashes_verify_and_need_rehash() {
    use argon2::Algorithm::{Argon2d, Argon2i, Argon2id as Id};
    for stored in [
        hash_with(Id, Version::V0x13, 4096, 3, "pw"),
        hash_with(Id, Version::V0x10, 19456, 2, "pw"),
        hash_with(Argon2i, Version::V0x13, 19456, 2, "pw"),
        hash_with(Argon2d, Version::V0x13, 19456, 2, "pw"),
        hash_with(Id, Version::V0x13, 19456, 1, "pw"),
    ] {
        assert_eq!(verify_blocking("pw", Some(&stored)), Ok(true), "{stored}");
        assert_eq!(verify_blocking("pW", Some(&stored)), Ok(false), "{stored}");
        assert!(needs_rehash(&stored), "{stored}");
    }
    let current = hash_with(Id, Version::V0x13, 19456, 2, "pw");
    assert!(!needs_rehash(&current), "{current}");
    assert!(needs_rehash("not-a-phc-string"));
    assert!(needs_rehash(""));
}

#[test]
fn custom_parameters() {
    let strong = Passwords::new(Argon2id::new(47104, 1, 1).unwrap()).unwrap();
    let h = strong.hash_blocking("pw").unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=47104,t=1,p=1$"), "{h}");
    assert!(!strong.needs_rehash(&h));
    assert!(needs_rehash(&h), "not the default parameters");
    assert_eq!(strong.verify_blocking("pw", Some(&h)), Ok(true));
    // Costlier than the default parameters (47104 × 1 > 19456 × 2): the default fails closed.
    assert_eq!(verify_blocking("pw", Some(&h)), Ok(false));
    assert_eq!(Argon2id::new(0, 0, 0), Err(PasswordError::Params));
}

/// Every path costs exactly one full verification; out-of-bounds input none; unusable
/// stored hashes (malformed, another algorithm, absurd parameters) fail closed.
#[test]
fn one_verification_on_every_path() {
    let count = CountingScheme::new(Argon2id::default());
    let passwords = Passwords::new(count.clone()).unwrap();
    let good = passwords.hash_blocking("pw").unwrap();
    let check = |pw: &str, stored: Option<&str>, expect: Result<bool, PasswordError>| {
        let before = count.verifies();
        assert_eq!(passwords.verify_blocking(pw, stored), expect, "{stored:?}");
        let work = usize::from(expect.is_ok());
        assert_eq!(count.verifies() - before, work, "{stored:?}");
    };
    check("pw", Some(&good), Ok(true));
    check("wrong", Some(&good), Ok(false));
    check("pw", None, Ok(false));
    for bad in [
        "",
        "not-a-phc-string",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0",
        "$pbkdf2-sha256$i=600000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=8,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=65536,t=2,p=16777215$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    ] {
        check("pw", Some(bad), Ok(false));
    }
    check("", Some(&good), Err(PasswordError::Empty));
    check(
        &"p".repeat(MAX_PASSWORD_BYTES + 1),
        None,
        Err(PasswordError::TooLong),
    );
}

/// Our hashes are standard PHC strings: the argon2 crate's own verifier accepts them.
#[test]
fn hashes_verify_with_the_argon2_crate() {
    let h = hash_blocking("interop").unwrap();
    let parsed = argon2::password_hash::phc::PasswordHash::new(&h).unwrap();
    assert!(
        Argon2::default()
            .verify_password(b"interop", &parsed)
            .is_ok()
    );
    assert!(
        Argon2::default()
            .verify_password(b"interoP", &parsed)
            .is_err()
    );
}

/// The working memory is reused: sequential jobs share one buffer, however many.
#[test]
fn memory_blocks_are_reused() {
    let scheme = Argon2id::new(64, 1, 1).unwrap();
    let passwords = Passwords::new(scheme.clone()).unwrap();
    assert_eq!(scheme.pooled_buffers(), 1, "the dummy hash's buffer");
    let h = passwords.hash_blocking("pw").unwrap();
    for _ in 0..10 {
        assert_eq!(passwords.verify_blocking("pw", Some(&h)), Ok(true));
        assert_eq!(passwords.verify_blocking("pw", None), Ok(false));
    }
    assert_eq!(scheme.pooled_buffers(), 1);
    // A stored hash asking for more memory than ours (and no more work: fewer passes) gets a
    // one-off buffer, not a pooled one.
    let bigger = Passwords::new(Argon2id::new(128, 1, 1).unwrap())
        .unwrap()
        .hash_blocking("pw")
        .unwrap();
    let scheme = Argon2id::new(64, 2, 1).unwrap();
    let passwords = Passwords::new(scheme.clone()).unwrap();
    assert_eq!(scheme.pooled_buffers(), 1, "the dummy hash's buffer");
    assert_eq!(passwords.verify_blocking("pw", Some(&bigger)), Ok(true));
    assert_eq!(scheme.pooled_buffers(), 1);
}

/// Equal work for old hashes: a hash made with cheaper parameters is topped up to the current work; a
/// current one, an unknown user and a broken hash are not; a costlier one fails closed.
#[test]
fn equal_work_for_cheaper_hashes() {
    // Argon2id with work counted: `m × t` of every hash verified against, plus what it is
    // asked to spend.
    let work = CountingScheme::new(Argon2id::default());
    let passwords = Passwords::new(work.clone()).unwrap();
    let current = 19456 * 2;
    let current_hash = passwords.hash_blocking("pw").unwrap();
    let check = |stored: Option<&str>, expect: bool, spent: u64| {
        let before = work.work();
        assert_eq!(
            passwords.verify_blocking("pw", stored),
            Ok(expect),
            "{stored:?}"
        );
        assert_eq!(work.work() - before, spent, "{stored:?}");
    };
    check(None, false, current);
    check(Some(&current_hash), true, current);
    check(Some("not-a-phc-string"), false, current);
    use argon2::Algorithm::{Argon2i, Argon2id as Id};
    for cheaper in [
        hash_with(Id, Version::V0x13, 4096, 3, "pw"),
        hash_with(Id, Version::V0x13, 19456, 1, "pw"),
        hash_with(Argon2i, Version::V0x10, 8192, 2, "pw"),
    ] {
        check(Some(&cheaper), true, current);
    }
    // A costlier one fails closed at the usual work (see the test of the timing oracle).
    let costlier = hash_with(Id, Version::V0x13, 19456 * 2, 2, "pw");
    check(Some(&costlier), false, current);
}

/// The top-up's parameters cost at least the work asked for, less than one segment (4 blocks)
/// per pass more, and never more memory than the scheme's own for a deficit within one
/// verification.
#[test]
fn padding_parameters() {
    let scheme = Argon2id::default();
    assert!(scheme.padding_params(0).is_none());
    for deficit in [1, 7, 8, 1000, 26_624, 38_911, 38_912] {
        let p = scheme.padding_params(deficit).unwrap();
        let spent = p.block_count() as u64 * u64::from(p.t_cost());
        assert!(
            spent >= deficit && spent < deficit.max(16) + 8,
            "{deficit}: {spent}"
        );
        assert!(p.m_cost() <= 19456, "{deficit}: m={}", p.m_cost());
    }
}

/// A scheme whose `verify` blocks until released, counting the calls.
#[derive(Clone)]
struct Gated {
    calls: Arc<AtomicUsize>,
    release: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
}
impl PasswordScheme for Gated {
    fn hash(&self, _: &[u8]) -> Result<String, PasswordError> {
        Ok("dummy".into())
    }
    fn can_verify(&self, _: &str) -> bool {
        true
    }
    fn verify(&self, _: &[u8], _: &str) -> bool {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let _ = self.release.lock().unwrap().recv();
        false
    }
    fn needs_rehash(&self, _: &str) -> bool {
        false
    }
}

fn gated(limits: PasswordLimits) -> (Passwords, Arc<AtomicUsize>, std::sync::mpsc::Sender<()>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let scheme = Gated {
        calls: calls.clone(),
        release: Arc::new(std::sync::Mutex::new(rx)),
    };
    (Passwords::with_limits(scheme, limits).unwrap(), calls, tx)
}

/// Yields until `condition` holds (a bounded number of times; no timing is asserted).
async fn until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("never happened: {what}");
}

/// Bounded password work: at most `max_concurrent` jobs run, at most `max_waiting` requests wait, the
/// rest are `Busy` at once; a waiting request is served when a slot frees up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_jobs_and_waiting_room() {
    let limits = PasswordLimits::new()
        .max_concurrent(1)
        .max_waiting(1)
        .max_wait(Duration::from_secs(3600));
    let (passwords, calls, release) = gated(limits);
    let first = tokio::spawn({
        let p = passwords.clone();
        async move { p.verify("pw", None).await }
    });
    until("the first job runs", || calls.load(Ordering::SeqCst) == 1).await;
    let second = tokio::spawn({
        let p = passwords.clone();
        async move { p.verify("pw", None).await }
    });
    until("the second waits", || {
        passwords.inner.gate.waiting_now() == 1
    })
    .await;
    // The room is full: the third is refused at once, and does no work.
    assert_eq!(passwords.verify("pw", None).await, Err(PasswordError::Busy));
    assert_eq!(passwords.hash("pw").await, Err(PasswordError::Busy));
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap(), Ok(false));
    until("the second runs", || calls.load(Ordering::SeqCst) == 2).await;
    release.send(()).unwrap();
    assert_eq!(second.await.unwrap(), Ok(false));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(passwords.inner.gate.free_slots(), 1);
    assert_eq!(passwords.inner.gate.waiting_now(), 0);
}

/// A request waits at most `max_wait`, then it is `Busy` (the only job is held until then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_is_bounded() {
    let limits = PasswordLimits::new()
        .max_concurrent(1)
        .max_waiting(8)
        .max_wait(Duration::from_millis(50));
    let (passwords, calls, release) = gated(limits);
    let first = tokio::spawn({
        let p = passwords.clone();
        async move { p.verify("pw", None).await }
    });
    while passwords.inner.gate.free_slots() != 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(passwords.verify("pw", None).await, Err(PasswordError::Busy));
    assert_eq!(passwords.inner.gate.waiting_now(), 0);
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap(), Ok(false));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// A request that is gone never starts its job: neither one dropped while waiting for a slot,
/// nor one whose job was queued for a blocking thread.
#[test]
fn work_whose_request_is_gone_does_not_start() {
    // One blocking thread, so that a job can be made to queue behind another.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let limits = PasswordLimits::new()
            .max_concurrent(2)
            .max_waiting(4)
            .max_wait(Duration::from_secs(3600));
        let (passwords, calls, release) = gated(limits);
        let first = tokio::spawn({
            let p = passwords.clone();
            async move { p.verify("pw", None).await }
        });
        until("the first job runs", || calls.load(Ordering::SeqCst) == 1).await;
        // The second takes the other slot; its job waits for the only blocking thread.
        let second = tokio::spawn({
            let p = passwords.clone();
            async move { p.verify("pw", None).await }
        });
        until("the second holds a slot", || {
            passwords.inner.gate.free_slots() == 0
        })
        .await;
        // The third waits for a slot.
        let third = tokio::spawn({
            let p = passwords.clone();
            async move { p.verify("pw", None).await }
        });
        until("the third waits", || {
            passwords.inner.gate.waiting_now() == 1
        })
        .await;
        // Both clients hang up.
        second.abort();
        third.abort();
        assert!(second.await.unwrap_err().is_cancelled());
        assert!(third.await.unwrap_err().is_cancelled());
        assert_eq!(passwords.inner.gate.waiting_now(), 0);
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(false));
        until("every slot is back", || {
            passwords.inner.gate.free_slots() == 2
        })
        .await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "work started for a request that was gone"
        );
    });
}

#[test]
fn limits() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    let default = Passwords::default().limits();
    assert_eq!(default.concurrent(), cpus);
    assert_eq!(default.waiting(), cpus * 32);
    assert_eq!(default.wait(), Duration::from_secs(2));
    assert_eq!(
        Passwords::with_limits(
            Argon2id::new(8, 1, 1).unwrap(),
            PasswordLimits::new().max_concurrent(0)
        )
        .unwrap_err(),
        PasswordError::InvalidLimits
    );
}

#[tokio::test]
async fn busy_is_a_503_with_retry_after() {
    let response = PasswordError::Busy.into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(
        &body[..],
        br#"{"detail":"Too many logins in progress, retry later"}"#
    );
    assert_eq!(
        PasswordError::TooLong.into_response().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        PasswordError::Task.into_response().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

/// Review fix: a stored hash costlier than the dummy (more memory or passes than the scheme's
/// own parameters) fails closed after the usual work, the dummy's: verified at its own cost,
/// its login took longer than an unknown user's, so timing told which accounts exist.
#[test]
fn a_stored_hash_costlier_than_the_dummy_fails_closed_after_the_usual_work() {
    let work = CountingScheme::new(Argon2id::new(64, 2, 1).unwrap());
    let passwords = Passwords::new(work.clone()).unwrap();
    let dummy_work = 64 * 2;
    use argon2::Algorithm::Argon2id as Id;
    for costlier in [
        hash_with(Id, Version::V0x13, 128, 2, "pw"),
        hash_with(Id, Version::V0x13, 64, 3, "pw"),
    ] {
        let before = (work.verifies(), work.work());
        assert_eq!(passwords.verify_blocking("pw", Some(&costlier)), Ok(false));
        assert_eq!(work.verifies() - before.0, 1, "{costlier}");
        assert_eq!(work.work() - before.1, dummy_work, "{costlier}");
        // The same as an unknown user's.
        let before = (work.verifies(), work.work());
        assert_eq!(passwords.verify_blocking("pw", None), Ok(false));
        assert_eq!(work.verifies() - before.0, 1);
        assert_eq!(work.work() - before.1, dummy_work);
    }
    // As costly (other parameters, the same work) or cheaper: verified, at the usual work.
    for usable in [
        hash_with(Id, Version::V0x13, 128, 1, "pw"),
        hash_with(Id, Version::V0x13, 64, 1, "pw"),
    ] {
        let before = work.work();
        assert_eq!(passwords.verify_blocking("pw", Some(&usable)), Ok(true));
        assert_eq!(work.work() - before, dummy_work, "{usable}");
    }
}
