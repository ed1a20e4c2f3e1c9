//! Times jsonwebtoken encode/decode under the enabled crypto backend (see BACKEND.md):
//!
//! ```text
//! cargo run --release -p login --example backend_bench
//! cargo run --release -p login --example backend_bench --no-default-features --features macros,aws_lc_rs
//! ```

use jsonwebtoken::*;
use std::time::Instant;
fn bench(name: &str, n: u32, mut f: impl FnMut()) {
    for _ in 0..n / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / n as f64 * 1e6);
    }
    println!("{name}: {best:.2} us/op");
}
fn main() {
    let claims = serde_json::json!({"sub":"johndoe@mail.com","exp":4102444800u64,"iat":1700000000,"jti":"abcdefghijklmnopqrstuv","scopes":["read","write"]});
    let secret = b"0123456789abcdef0123456789abcdef";
    let ek = EncodingKey::from_secret(secret).unwrap();
    let dk = DecodingKey::from_secret(secret).unwrap();
    let h = Header::new(Algorithm::HS256);
    let tok = encode(&h, &claims, &ek).unwrap();
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    bench("HS256 encode", 100_000, || {
        std::hint::black_box(encode(&h, &claims, &ek).unwrap());
    });
    bench("HS256 decode", 100_000, || {
        std::hint::black_box(decode::<serde_json::Value>(&tok, &dk, &v).unwrap());
    });
    let es_priv = include_bytes!("../tests/keys/p256.pem");
    let es_pub = include_bytes!("../tests/keys/p256.pub.pem");
    let ek = EncodingKey::from_ec_pem(es_priv).unwrap();
    let dk = DecodingKey::from_ec_pem(es_pub).unwrap();
    let h = Header::new(Algorithm::ES256);
    let tok = encode(&h, &claims, &ek).unwrap();
    let mut v = Validation::new(Algorithm::ES256);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    bench("ES256 sign", 2_000, || {
        std::hint::black_box(encode(&h, &claims, &ek).unwrap());
    });
    bench("ES256 verify", 2_000, || {
        std::hint::black_box(decode::<serde_json::Value>(&tok, &dk, &v).unwrap());
    });
    let rs_priv = include_bytes!("../tests/keys/rsa2048.pem");
    let rs_pub = include_bytes!("../tests/keys/rsa2048.pub.pem");
    let ek = EncodingKey::from_rsa_pem(rs_priv).unwrap();
    let dk = DecodingKey::from_rsa_pem(rs_pub).unwrap();
    let h = Header::new(Algorithm::RS256);
    let tok = encode(&h, &claims, &ek).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    bench("RS256 sign", 200, || {
        std::hint::black_box(encode(&h, &claims, &ek).unwrap());
    });
    bench("RS256 verify", 5_000, || {
        std::hint::black_box(decode::<serde_json::Value>(&tok, &dk, &v).unwrap());
    });
}
