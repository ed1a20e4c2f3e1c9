//! Recovery codes: generated in a set, stored as hashes, redeemed once each.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::MfaError;

/// How many codes a set has.
const CODES: usize = 10;
/// Characters per code (5 bits each: 50 bits of randomness).
const CHARS: usize = 10;
/// Crockford's base32 alphabet, in lowercase: digits and letters without `i`, `l`, `o` and
/// `u`, so no two characters look alike (`0` has no `o` to be taken for, `1` no `l` or `i`).
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Recovery codes: the way into an account whose owner lost their authenticator. A set is
/// ten codes such as `k3f9q-7zm2x`, each good for one login.
///
/// Not a value: the namespace of [`generate`](Self::generate) and [`redeem`](Self::redeem).
///
/// - **Show once, store hashes.** [`generate`](Self::generate) returns the codes, to show the
///   user once (to print or keep in a password manager), and their [`RecoveryHash`]es, the
///   only thing to store.
/// - **Single use is the caller's job.** [`redeem`](Self::redeem) returns the index of the
///   hash the code matched; delete that hash from storage (in the same transaction that
///   lets the user in, or with a delete that reports whether it deleted anything, so that
///   two requests with the same code cannot both pass). A hash left in place keeps its code
///   valid.
/// - **Regenerating** is calling `generate()` again and replacing the whole stored set with
///   the new hashes: the old codes then match nothing. Offer it after a recovery code is
///   used, when few are left, and when the second factor is set up again.
///
/// ```
/// use login::mfa::{MfaError, RecoveryCodes, RecoveryHash};
///
/// let (codes, hashes) = RecoveryCodes::generate(); // show `codes` once
/// // Stored as text (or as 32 bytes each):
/// let mut stored: Vec<String> = hashes.iter().map(|h| h.to_string()).collect();
///
/// // The user types one; case, the dash and surrounding spaces do not matter.
/// let typed = format!("  {}  ", codes[3].to_uppercase().replace('-', ""));
/// let set: Vec<RecoveryHash> = stored.iter().map(|s| s.parse().unwrap()).collect();
/// let index = RecoveryCodes::redeem(&typed, &set)?;
/// assert_eq!(index, 3);
/// stored.remove(index); // the caller makes it single-use
///
/// let set: Vec<RecoveryHash> = stored.iter().map(|s| s.parse().unwrap()).collect();
/// assert_eq!(RecoveryCodes::redeem(&typed, &set), Err(MfaError::InvalidCode));
/// # Ok::<(), MfaError>(())
/// ```
#[derive(Debug)]
pub enum RecoveryCodes {}

impl RecoveryCodes {
    /// A new set: ten distinct codes, `xxxxx-xxxxx` each (ten characters of a lowercase
    /// alphabet without look-alikes, 50 random bits), and their hashes in the same order.
    /// Show the codes once and store only the hashes.
    pub fn generate() -> (Vec<String>, Vec<RecoveryHash>) {
        let mut codes: Vec<String> = Vec::with_capacity(CODES);
        while codes.len() < CODES {
            let bytes = Zeroizing::new(crate::secret::random_bytes::<CHARS>());
            let mut code = String::with_capacity(CHARS + 1);
            for (i, b) in bytes.iter().enumerate() {
                if i == CHARS / 2 {
                    code.push('-');
                }
                // 256 is a multiple of 32: every character is equally likely.
                code.push(char::from(ALPHABET[usize::from(b & 31)]));
            }
            // Two equal codes in a set are a one-in-10^13 event; draw again rather than
            // hand out a set with fewer distinct codes.
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        let hashes = codes
            .iter()
            .map(|code| {
                RecoveryHash::of(&normalize(code).expect("a generated code is well-formed"))
            })
            .collect();
        (codes, hashes)
    }

    /// Finds `code` among the stored hashes and returns the index of the one it matches:
    /// **delete that hash** — a code is single-use only because the caller removes it.
    ///
    /// The code is read case-insensitively, with or without the dash in the middle, and
    /// with surrounding whitespace trimmed. Every stored hash is compared, in constant
    /// time, whichever matches (no early exit).
    ///
    /// # Errors
    ///
    /// - [`MfaError::MalformedCode`]: anything but ten characters of the alphabet, or five,
    ///   a dash and five (refused before any hashing).
    /// - [`MfaError::InvalidCode`]: well-formed, but none of `stored` (never issued, already
    ///   redeemed and deleted, or of a set since replaced).
    pub fn redeem(code: &str, stored: &[RecoveryHash]) -> Result<usize, MfaError> {
        let normalized = normalize(code)?;
        let hash = RecoveryHash::of(&normalized);
        let mut found = 0usize;
        let mut index = 0usize;
        for (i, candidate) in stored.iter().enumerate() {
            let equal = usize::from(constant_time_eq::constant_time_eq_32(&hash.0, &candidate.0));
            // All ones when equal, zero otherwise: the index is selected without a branch.
            let mask = equal.wrapping_neg();
            index = (index & !mask) | (i & mask);
            found |= equal;
        }
        if found == 1 {
            Ok(index)
        } else {
            Err(MfaError::InvalidCode)
        }
    }
}

/// The code's ten characters, lowercase, without the dash; `MalformedCode` for anything
/// else.
fn normalize(code: &str) -> Result<Zeroizing<[u8; CHARS]>, MfaError> {
    let code = code.trim().as_bytes();
    let half = CHARS / 2;
    let (first, second) = match code.len() {
        n if n == CHARS => code.split_at(half),
        n if n == CHARS + 1 && code[half] == b'-' => (&code[..half], &code[half + 1..]),
        _ => return Err(MfaError::MalformedCode),
    };
    let mut out = Zeroizing::new([0u8; CHARS]);
    for (slot, &c) in out.iter_mut().zip(first.iter().chain(second)) {
        let c = c.to_ascii_lowercase();
        if !ALPHABET.contains(&c) {
            return Err(MfaError::MalformedCode);
        }
        *slot = c;
    }
    Ok(out)
}

/// The SHA-256 of a recovery code (its ten characters, lowercase, without the dash): what
/// is stored in place of the code.
///
/// Stored as text, its [`Display`](fmt::Display) form (64 lowercase hexadecimal digits,
/// read back by [`FromStr`]), or as 32 bytes ([`as_bytes`](Self::as_bytes),
/// [`from_bytes`](Self::from_bytes)). `Debug` shows its first four bytes only.
///
/// A fast hash, not a password hash: a code's 50 random bits make guessing online hopeless
/// (throttled), and keep a leaked hash from being read at a glance, but a determined offline
/// search of one is within reach. Guard the stored hashes like the TOTP secrets beside them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecoveryHash([u8; 32]);

impl RecoveryHash {
    fn of(normalized: &[u8; CHARS]) -> Self {
        RecoveryHash(Sha256::digest(normalized).into())
    }

    /// The hash of these 32 bytes, as [`as_bytes`](Self::as_bytes) returned them.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        RecoveryHash(bytes)
    }

    /// The hash's 32 bytes, to store in a binary column.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for RecoveryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for RecoveryHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryHash(")?;
        self.0[..4].iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        f.write_str("…)")
    }
}

impl FromStr for RecoveryHash {
    type Err = MfaError;

    /// Reads the [`Display`](fmt::Display) form: 64 hexadecimal digits (either case).
    fn from_str(s: &str) -> Result<Self, MfaError> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return Err(MfaError::MalformedHash);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(s.chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16).ok_or(MfaError::MalformedHash);
            *byte = ((digit(pair[0])? << 4) | digit(pair[1])?) as u8;
        }
        Ok(RecoveryHash(bytes))
    }
}
