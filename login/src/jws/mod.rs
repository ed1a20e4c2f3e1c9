//! A lean reader of a compact JWS header for the verification path: the algorithm and the
//! `kid`, read from the header as decoded on the stack, without jsonwebtoken's `Header` (whose
//! flattened `extras` map makes serde buffer the whole header and allocate every string).
//!
//! It answers only when the answer is certain: [`lean_header`] returns a header only when
//! jsonwebtoken's `decode_header` would accept the header with this very `alg` and `kid`, and
//! the `crit`/`b64` rules (`b64`, when present, `true`; `crit` exactly `["b64"]` with `b64`
//! present) would pass. For anything else — a header it does not fully understand, an escape
//! in a string, a duplicated name, a number, a nested object, a header longer than
//! [`MAX_LEAN_HEADER`], invalid base64 — it returns `None`, and the caller asks jsonwebtoken,
//! so every refusal and its message are jsonwebtoken's. The differential tests below check
//! this against jsonwebtoken over generated headers.

use base64::Engine as _;
use jsonwebtoken::Algorithm;

/// The longest encoded header (in base64url characters) read by the lean reader.
pub(crate) const MAX_LEAN_HEADER: usize = 512;

/// The decoded header's buffer: the bytes of at most [`MAX_LEAN_HEADER`] base64url characters.
pub(crate) type HeaderBuf = [u8; MAX_LEAN_HEADER / 4 * 3];

/// What the verification path needs of a header jsonwebtoken would accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeanHeader<'a> {
    /// The algorithm the token names (`alg`).
    pub(crate) alg: Algorithm,
    /// The key the token names (`kid`), if any.
    pub(crate) kid: Option<&'a str>,
}

/// The header of a token whose header part is `encoded` (base64url, no padding), when the
/// lean reader is certain of jsonwebtoken's answer and that answer is acceptance; `None`
/// otherwise (ask jsonwebtoken).
pub(crate) fn lean_header<'b>(encoded: &str, buf: &'b mut HeaderBuf) -> Option<LeanHeader<'b>> {
    if encoded.len() > MAX_LEAN_HEADER {
        return None;
    }
    let len = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode_slice(encoded, buf)
        .ok()?;
    Reader {
        bytes: &buf[..len],
        at: 0,
    }
    .header()
}

/// The header's names jsonwebtoken's `Header` has a field for, besides `alg`, `kid` and
/// `crit`, whose value is a string (or `null`).
const STRING_FIELDS: [&[u8]; 10] = [
    b"typ",
    b"cty",
    b"jku",
    b"x5u",
    b"x5t",
    b"x5t#S256",
    b"url",
    b"nonce",
    b"enc",
    b"zip",
];

/// A JSON value of the shapes the lean reader understands.
enum Value<'a> {
    /// A string's bytes (printable ASCII).
    Str(&'a [u8]),
    Bool(bool),
    Null,
    /// An array of strings: whether it is exactly `["b64"]`.
    Strings {
        only_b64: bool,
    },
}

/// How many names a header may have for the lean reader (each checked against the others).
const MAX_NAMES: usize = 16;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// The whole header: one JSON object, surrounded by JSON whitespace only.
    fn header(mut self) -> Option<LeanHeader<'a>> {
        let mut alg = None;
        let mut kid = None;
        let mut b64 = None;
        let mut crit = None;
        let mut names: [&[u8]; MAX_NAMES] = [&[]; MAX_NAMES];
        let mut count = 0;
        self.space();
        self.eat(b'{')?;
        self.items(b'}', |this| {
            let name = this.string()?;
            // Any name twice is left to jsonwebtoken (an error for its fields, the last one
            // winning for the others).
            if count == MAX_NAMES || names[..count].contains(&name) {
                return None;
            }
            names[count] = name;
            count += 1;
            this.space();
            this.eat(b':')?;
            this.space();
            match (name, this.value()?) {
                (b"alg", Value::Str(name)) => alg = Some(algorithm(name)?),
                // Printable ASCII only, so always UTF-8.
                (b"kid", Value::Str(name)) => kid = Some(std::str::from_utf8(name).ok()?),
                (b"kid", Value::Null) => {}
                (b"crit", Value::Strings { only_b64 }) => crit = Some(only_b64),
                (b"crit", Value::Null) => {}
                (b"b64", Value::Bool(value)) => b64 = Some(value),
                (b"alg" | b"kid" | b"crit" | b"b64" | b"jwk" | b"x5c", _) => return None,
                (name, Value::Str(_) | Value::Null) if STRING_FIELDS.contains(&name) => {}
                (name, _) if STRING_FIELDS.contains(&name) => return None,
                // Any other name goes to jsonwebtoken's `extras`, whatever its value.
                _ => {}
            }
            Some(())
        })?;
        self.space();
        if self.at != self.bytes.len() {
            return None;
        }
        // jsonwebtoken's rules (its `Header::from_encoded`): `b64` is `true` when present, and
        // `crit`, when present, is exactly `["b64"]` with `b64` present.
        match (b64, crit) {
            (Some(false), _) => None,
            (None, Some(_)) | (_, Some(false)) => None,
            _ => Some(LeanHeader { alg: alg?, kid }),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// JSON whitespace, as serde_json skips it.
    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.eat_if(byte).then_some(())
    }

    fn eat_if(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    /// The rest of a JSON object or array after its opening bracket: `item` for each
    /// element, separated by commas, up to `close` (no trailing comma), whitespace around.
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.space();
        if self.eat_if(close) {
            return Some(());
        }
        loop {
            item(self)?;
            self.space();
            if !self.eat_if(b',') {
                return self.eat(close);
            }
            self.space();
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A string of printable ASCII without escapes (anything else is left to jsonwebtoken),
    /// as bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.at;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => return None,
                0x20..=0x7E => self.at += 1,
                _ => return None,
            }
        }
        let text = &self.bytes[start..self.at];
        self.at += 1;
        Some(text)
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Value::Str),
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            b'[' => {
                self.at += 1;
                let mut items = 0;
                let mut only_b64 = true;
                self.items(b']', |this| {
                    only_b64 &= this.string()? == b"b64";
                    items += 1;
                    Some(())
                })?;
                Some(Value::Strings {
                    only_b64: only_b64 && items == 1,
                })
            }
            _ => None,
        }
    }
}

/// The algorithm named exactly `name`, as jsonwebtoken's `Algorithm` deserializes it.
fn algorithm(name: &[u8]) -> Option<Algorithm> {
    use Algorithm::*;
    Some(match name {
        b"HS256" => HS256,
        b"HS384" => HS384,
        b"HS512" => HS512,
        b"ES256" => ES256,
        b"ES384" => ES384,
        b"RS256" => RS256,
        b"RS384" => RS384,
        b"RS512" => RS512,
        b"PS256" => PS256,
        b"PS384" => PS384,
        b"PS512" => PS512,
        b"EdDSA" => EdDSA,
        _ => return None,
    })
}

/// The differential tests against jsonwebtoken, and their generated headers (also used by the
/// manager's differential tests of the whole verification).
#[cfg(test)]
pub(crate) mod tests;
