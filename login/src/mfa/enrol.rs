//! Enrolment: the otpauth URI an authenticator app reads, and its QR code.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use qrcode::QrCode;
use qrcode::render::svg;

use super::{MfaError, TOTP_DIGITS, TOTP_STEP_SECS, TotpSecret};

/// What stays literal in the label and the issuer: RFC 3986's unreserved characters. Every
/// other byte is percent-encoded (a space as `%20`, `@` as `%40`), as `encodeURIComponent`
/// does.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The smallest width and height of the QR code's SVG, in pixels (the modules are whole
/// pixels, so it comes out somewhat larger).
const QR_MIN_PX: u32 = 200;

impl TotpSecret {
    /// The `otpauth://` URI that enrols this secret in an authenticator app (the Key URI
    /// Format of Google Authenticator, which the other apps read too):
    ///
    /// `otpauth://totp/{issuer}:{account}?secret={base32}&issuer={issuer}&algorithm=SHA1&digits=6&period=30`
    ///
    /// with the issuer and account name percent-encoded (`Acme Co` as `Acme%20Co`,
    /// `jane@example.com` as `jane%40example.com`). The app shows the issuer and account
    /// name, so pick what the user recognises: your service's name and their login.
    ///
    /// The URI contains the secret: show it (or its [QR code](super::qr_svg)) to the user
    /// enrolling, over HTTPS, and neither log nor store it.
    ///
    /// # Errors
    ///
    /// [`MfaError::InvalidIssuer`] or [`MfaError::InvalidAccount`] for an empty one or one
    /// containing `:`, which the format forbids (it separates the two in the label).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, MfaError> {
        if issuer.is_empty() || issuer.contains(':') {
            return Err(MfaError::InvalidIssuer);
        }
        if account.is_empty() || account.contains(':') {
            return Err(MfaError::InvalidAccount);
        }
        let issuer = utf8_percent_encode(issuer, COMPONENT);
        let account = utf8_percent_encode(account, COMPONENT);
        Ok(format!(
            "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
            secret = self.to_base32(),
        ))
    }
}

/// A QR code of `uri` (an [`otpauth_uri`](TotpSecret::otpauth_uri)) as a standalone SVG
/// document: black modules on white, with the quiet zone scanners need around it, at least
/// 200 × 200 px. Put it in the enrolment page as it is (`<img src="data:image/svg+xml,…">`
/// or inline), with [`to_base32`](TotpSecret::to_base32) beside it for typing.
///
/// # Errors
///
/// [`MfaError::TooLongForQr`] when the text is longer than a QR code holds (about 2 300
/// bytes at the error correction used, level M; an otpauth URI is far shorter unless its
/// issuer or account name is huge).
pub fn qr_svg(uri: &str) -> Result<String, MfaError> {
    let code = QrCode::new(uri.as_bytes()).map_err(|_| MfaError::TooLongForQr)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(QR_MIN_PX, QR_MIN_PX)
        .build())
}
