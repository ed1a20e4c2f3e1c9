//! What one login's password work costs with `WithBcrypt` (feature `bcrypt`), the figures in
//! `login::password::WithBcrypt`'s docs: each kind of verification timed in thread CPU time,
//! interleaved round by round (so that other load on the machine touches every kind alike),
//! reported as medians and as ratios to plain Argon2id measured in the same run.
//!
//! `cargo bench -p login --features bcrypt --bench passwords` (bcrypt, blowfish and argon2 are
//! optimised in every profile).

mod common;

use login::password::{Argon2id, PasswordScheme, Passwords, WithBcrypt};

const ROUNDS: usize = 7;

/// One kind of verification: its name and one run of it.
type Kind<'a> = (&'static str, Box<dyn FnMut() + 'a>);

fn passwords(bcrypt_cost: u32) -> Passwords {
    Passwords::new(WithBcrypt::new(Argon2id::default(), bcrypt_cost).unwrap()).unwrap()
}

fn main() {
    let argon = Argon2id::default();
    let argon_hash = argon.hash(b"pw").unwrap();
    let (b10, b12) = (
        bcrypt::hash("pw", 10).unwrap(),
        bcrypt::hash("pw", 12).unwrap(),
    );
    let (p10, p12) = (passwords(10), passwords(12));
    let argon_user = p12.hash_blocking("pw").unwrap();
    let mut kinds: Vec<Kind<'_>> = vec![
        (
            "Argon2id m=19456 t=2 p=1 (the baseline)",
            Box::new(|| {
                argon.verify(b"pw", &argon_hash);
            }),
        ),
        (
            "bcrypt cost 10",
            Box::new(|| drop(bcrypt::verify("pw", &b10))),
        ),
        (
            "bcrypt cost 12",
            Box::new(|| drop(bcrypt::verify("pw", &b12))),
        ),
        (
            "WithBcrypt(10): unknown user",
            Box::new(|| drop(p10.verify_blocking("pw", None))),
        ),
        (
            "WithBcrypt(10): bcrypt user",
            Box::new(|| drop(p10.verify_blocking("pw", Some(&b10)))),
        ),
        (
            "WithBcrypt(12): unknown user",
            Box::new(|| drop(p12.verify_blocking("pw", None))),
        ),
        (
            "WithBcrypt(12): bcrypt user",
            Box::new(|| drop(p12.verify_blocking("pw", Some(&b12)))),
        ),
        (
            "WithBcrypt(12): Argon2id user",
            Box::new(|| drop(p12.verify_blocking("pw", Some(&argon_user)))),
        ),
    ];
    let mut times = vec![Vec::<f64>::new(); kinds.len()];
    for _ in 0..ROUNDS {
        for ((_, run), times) in kinds.iter_mut().zip(&mut times) {
            times.push(common::time_block(run.as_mut(), 1));
        }
    }
    let medians: Vec<f64> = times.iter_mut().map(|t| common::median(t)).collect();
    println!(
        "{:<42} {:>12} {:>10}",
        "one verification (thread CPU time)", "median", "/ Argon2id"
    );
    for ((what, _), median) in kinds.iter().zip(&medians) {
        println!(
            "{what:<42} {:>9.1} ms {:>9.2}x",
            median / 1e6,
            median / medians[0]
        );
    }
}
