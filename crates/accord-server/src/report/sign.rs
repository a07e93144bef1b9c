//! Report signatures: an Ed25519 signature over a report's SHA-256, log position and as-of
//! instant, kept beside the report as `FILE.sig` (JSON), and its verification.
//!
//! The key is the 32-byte seed, base64, from the configuration (`report_signing_key` or
//! `report_signing_key_file`); its public half is served at
//! `/.well-known/accord/report-signing-key`, so a customer pins the provider's key once and
//! checks every report with `accord report verify FILE --key KEY`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde_json::{Value, json};

use super::sha256_hex;

/// The format name of a signature file.
pub(crate) const FORMAT: &str = "accord-report-signature/v1";

/// A report signing key.
pub(crate) struct SigningKey {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: only the public key.
        f.debug_struct("SigningKey").field("public", &self.public_base64()).finish()
    }
}

impl SigningKey {
    /// The key from its base64 seed (32 bytes).
    ///
    /// # Errors
    ///
    /// Text that is not base64 of 32 bytes.
    pub(crate) fn from_base64(text: &str) -> Result<SigningKey, String> {
        let seed = STANDARD
            .decode(text.trim())
            .map_err(|_| "the report signing key is not base64".to_owned())?;
        if seed.len() != 32 {
            return Err(format!(
                "the report signing key is {} bytes; an Ed25519 seed is 32 (make one with `accord report keygen`)",
                seed.len()
            ));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|_| "the report signing key was rejected".to_owned())?;
        Ok(SigningKey { pair })
    }

    /// A new random key's seed, base64.
    ///
    /// # Errors
    ///
    /// The operating system's random source failing.
    pub(crate) fn generate_seed() -> anyhow::Result<String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| anyhow::anyhow!("random source: {error}"))?;
        Ok(STANDARD.encode(seed))
    }

    /// The public key, base64.
    pub(crate) fn public_base64(&self) -> String {
        STANDARD.encode(self.pair.public_key().as_ref())
    }

    /// The signature file of a report's bytes.
    pub(crate) fn sign(&self, file_name: &str, bytes: &[u8], position: u64, as_of: &str) -> String {
        let sha256 = sha256_hex(bytes);
        let signature = self.pair.sign(statement(&sha256, position, as_of).as_bytes());
        let value = json!({
            "format": FORMAT,
            "file": file_name,
            "sha256": sha256,
            "logPosition": position,
            "asOf": as_of,
            "algorithm": "Ed25519",
            "publicKey": self.public_base64(),
            "keyFingerprint": fingerprint(self.pair.public_key().as_ref()),
            "signature": STANDARD.encode(signature.as_ref()),
        });
        let mut text = serde_json::to_string_pretty(&value).expect("invariant: JSON values print");
        text.push('\n');
        text
    }
}

/// What is signed: the content hash bound to the evidence the report names.
fn statement(sha256: &str, position: u64, as_of: &str) -> String {
    format!("{FORMAT}\nsha256 {sha256}\nlog position {position}\nas of {as_of}\n")
}

/// A public key's short name: the first 16 hex digits of its SHA-256.
pub(crate) fn fingerprint(public_key: &[u8]) -> String {
    sha256_hex(public_key)[..16].to_owned()
}

/// A verified signature.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The report's SHA-256.
    pub(crate) sha256: String,
    /// The log position it names.
    pub(crate) position: u64,
    /// The as-of instant it names.
    pub(crate) as_of: String,
    /// The signing key's fingerprint.
    pub(crate) fingerprint: String,
    /// Whether the key was the one the caller pinned (`false`: only the key in the file).
    pub(crate) pinned: bool,
}

/// Checks `signature` (a signature file's text) against a report's `bytes`, with the
/// `trusted` public key (base64) when given, else the key the file names.
///
/// # Errors
///
/// What does not hold, in words: a changed report, another key, a bad signature.
pub(crate) fn verify(
    bytes: &[u8],
    signature: &str,
    trusted: Option<&str>,
) -> Result<Verified, String> {
    let value: Value =
        serde_json::from_str(signature).map_err(|error| format!("signature file: {error}"))?;
    let text = |field: &str| {
        value
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("signature file: {field}: missing"))
    };
    if text("format")? != FORMAT {
        return Err(format!("signature file: format: expected {FORMAT}"));
    }
    let sha256 = sha256_hex(bytes);
    let signed_sha256 = text("sha256")?;
    if sha256 != signed_sha256 {
        return Err(format!(
            "the report changed: its SHA-256 is {sha256}, the signature is for {signed_sha256}"
        ));
    }
    let position = value
        .get("logPosition")
        .and_then(Value::as_u64)
        .ok_or("signature file: logPosition: missing")?;
    let as_of = text("asOf")?;
    let in_file = text("publicKey")?;
    let key_text = trusted.map_or(in_file.as_str(), str::trim);
    if trusted.is_some_and(|trusted| trusted.trim() != in_file) {
        return Err(format!(
            "signed by another key ({}), not the one given",
            STANDARD.decode(&in_file).map_or_else(|_| in_file.clone(), |key| fingerprint(&key))
        ));
    }
    let key = STANDARD.decode(key_text).map_err(|_| "the public key is not base64".to_owned())?;
    let signature_bytes = STANDARD
        .decode(text("signature")?)
        .map_err(|_| "signature file: signature: not base64".to_owned())?;
    UnparsedPublicKey::new(&ED25519, &key)
        .verify(statement(&sha256, position, &as_of).as_bytes(), &signature_bytes)
        .map_err(|_| "the signature does not match the report".to_owned())?;
    Ok(Verified {
        sha256,
        position,
        as_of,
        fingerprint: fingerprint(&key),
        pinned: trusted.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_catches_a_changed_byte_and_another_key() {
        let key = SigningKey::from_base64(&SigningKey::generate_seed().unwrap()).unwrap();
        let other = SigningKey::from_base64(&SigningKey::generate_seed().unwrap()).unwrap();
        let report = b"%PDF-1.7 a report".to_vec();
        let signature = key.sign("r.pdf", &report, 42, "2026-11-01T00:00:00Z");
        let verified = verify(&report, &signature, Some(&key.public_base64())).unwrap();
        assert_eq!((verified.position, verified.pinned), (42, true));
        let mut changed = report.clone();
        changed[3] ^= 1;
        assert!(verify(&changed, &signature, None).unwrap_err().contains("the report changed"));
        assert!(verify(&report, &signature, Some(&other.public_base64())).is_err());
        // A forged position breaks the signature.
        let forged = signature.replace("\"logPosition\": 42", "\"logPosition\": 41");
        assert_ne!(forged, signature);
        assert!(verify(&report, &forged, None).unwrap_err().contains("does not match"));
        assert!(SigningKey::from_base64("c2hvcnQ=").unwrap_err().contains("32"));
    }
}
