//! The one fact an HTTPS probe needs from an X.509 certificate: the end of its validity
//! (`notAfter`, RFC 5280 section 4.1.2.5).
//!
//! A small DER walker of our own rather than an X.509 crate: rustls verifies the certificate
//! during the handshake, so all that is left is to read one field of a certificate already
//! accepted, and to check that a `ca:` file holds something shaped like certificates.
//! Bytes in, values out: no I/O and no clock.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

/// DER that is not a certificate this walker can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    /// The input ends inside an element.
    #[error("truncated at byte {offset}")]
    Truncated {
        /// Where the missing bytes should start.
        offset: usize,
    },
    /// An element has another tag than the structure requires there.
    #[error("expected {expected} at byte {offset}, found tag 0x{found:02x}")]
    UnexpectedTag {
        /// What the structure requires.
        expected: &'static str,
        /// Where the element starts.
        offset: usize,
        /// The tag found.
        found: u8,
    },
    /// A length that DER does not allow (indefinite, or longer than four bytes).
    #[error("invalid length at byte {offset}")]
    InvalidLength {
        /// Where the length starts.
        offset: usize,
    },
    /// Bytes after the certificate.
    #[error("{n_bytes} bytes after the certificate")]
    TrailingBytes {
        /// How many.
        n_bytes: usize,
    },
    /// A validity time that is not `YYMMDDHHMMSSZ` (UTCTime) or `YYYYMMDDHHMMSSZ`
    /// (GeneralizedTime), or not a real instant.
    #[error("invalid {field} {text:?}: expected YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ")]
    InvalidTime {
        /// `notBefore` or `notAfter`.
        field: &'static str,
        /// The time as written.
        text: String,
    },
}

const INTEGER: u8 = 0x02;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;
/// `[0] EXPLICIT Version` in `TBSCertificate`.
const VERSION: u8 = 0xa0;

/// The instant a DER-encoded certificate stops being valid (its `notAfter`).
///
/// Reads `Certificate → tbsCertificate → [0] version (optional), serialNumber, signature,
/// issuer, validity { notBefore, notAfter }`; both times are checked, the rest is skipped.
/// UTCTime years 50 to 99 are 1950 to 1999, and 00 to 49 are 2000 to 2049 (RFC 5280).
///
/// # Errors
///
/// When the bytes are not a DER certificate up to and including its validity.
pub fn not_after(der: &[u8]) -> Result<Timestamp, X509Error> {
    let mut input = Der { bytes: der, offset: 0 };
    let mut certificate = input.expect(SEQUENCE, "a Certificate SEQUENCE")?;
    if !input.bytes.is_empty() {
        return Err(X509Error::TrailingBytes { n_bytes: input.bytes.len() });
    }
    let mut tbs = certificate.expect(SEQUENCE, "a tbsCertificate SEQUENCE")?;
    if tbs.bytes.first() == Some(&VERSION) {
        tbs.element()?;
    }
    tbs.expect(INTEGER, "the serialNumber INTEGER")?;
    tbs.expect(SEQUENCE, "the signature AlgorithmIdentifier SEQUENCE")?;
    tbs.expect(SEQUENCE, "the issuer Name SEQUENCE")?;
    let mut validity = tbs.expect(SEQUENCE, "the validity SEQUENCE")?;
    validity.time("notBefore")?;
    validity.time("notAfter")
}

/// The rest of one DER element's contents, and where they start in the whole input.
struct Der<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Der<'a> {
    /// Takes the next element: its tag, where it starts, and its contents.
    fn element(&mut self) -> Result<(u8, usize, Der<'a>), X509Error> {
        let start = self.offset;
        let truncated = |at: usize| X509Error::Truncated { offset: start + at };
        let tag = *self.bytes.first().ok_or_else(|| truncated(0))?;
        let first = *self.bytes.get(1).ok_or_else(|| truncated(1))?;
        let (length, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n_length_bytes = usize::from(first & 0x7f);
            if n_length_bytes == 0 || n_length_bytes > 4 {
                return Err(X509Error::InvalidLength { offset: start + 1 });
            }
            let length_bytes = self.bytes.get(2..2 + n_length_bytes).ok_or_else(|| truncated(2))?;
            let length =
                length_bytes.iter().fold(0usize, |length, byte| length << 8 | usize::from(*byte));
            (length, 2 + n_length_bytes)
        };
        let end = header + length;
        let contents = self.bytes.get(header..end).ok_or_else(|| truncated(self.bytes.len()))?;
        self.bytes = &self.bytes[end..];
        self.offset = start + end;
        Ok((tag, start, Der { bytes: contents, offset: start + header }))
    }

    /// Takes the next element, which must have `tag`.
    fn expect(&mut self, tag: u8, expected: &'static str) -> Result<Der<'a>, X509Error> {
        let (found, offset, contents) = self.element()?;
        if found != tag {
            return Err(X509Error::UnexpectedTag { expected, offset, found });
        }
        Ok(contents)
    }

    /// Takes a UTCTime or GeneralizedTime.
    fn time(&mut self, field: &'static str) -> Result<Timestamp, X509Error> {
        let (tag, offset, contents) = self.element()?;
        let text = String::from_utf8_lossy(contents.bytes);
        let invalid = || X509Error::InvalidTime { field, text: text.clone().into_owned() };
        let digits = match tag {
            UTC_TIME => text.strip_suffix('Z').filter(|digits| digits.len() == 12),
            GENERALIZED_TIME => text.strip_suffix('Z').filter(|digits| digits.len() == 14),
            _ => {
                return Err(X509Error::UnexpectedTag {
                    expected: "a UTCTime or GeneralizedTime",
                    offset,
                    found: tag,
                });
            }
        }
        .filter(|digits| digits.bytes().all(|byte| byte.is_ascii_digit()))
        .ok_or_else(invalid)?;
        // All ASCII digits, so every slice below is on a character boundary and parses.
        let number = |range: std::ops::Range<usize>| -> i16 {
            digits[range].parse().expect("checked to be ASCII digits")
        };
        let (year, rest) = if tag == UTC_TIME {
            let year = number(0..2);
            (if year >= 50 { 1900 + year } else { 2000 + year }, 2)
        } else {
            (number(0..4), 4)
        };
        let two = |idx: usize| -> i8 {
            i8::try_from(number(rest + 2 * idx..rest + 2 * idx + 2)).expect("two digits fit")
        };
        DateTime::new(year, two(0), two(1), two(2), two(3), two(4), 0)
            .and_then(|datetime| Offset::UTC.to_timestamp(datetime))
            .map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::not_after;

    #[track_caller]
    fn check(der: &[u8], expect: Expect) {
        let actual = match not_after(der) {
            Ok(at) => at.to_string(),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&actual);
    }

    #[track_caller]
    fn pem(text: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(text.as_bytes()).expect("a PEM certificate").to_vec()
    }

    /// One DER element with a short or long length.
    fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match contents.len() {
            n if n < 0x80 => out.push(u8::try_from(n).unwrap()),
            n if n < 0x100 => out.extend([0x81, u8::try_from(n).unwrap()]),
            n => out.extend([0x82, u8::try_from(n >> 8).unwrap(), u8::try_from(n & 0xff).unwrap()]),
        }
        out.extend_from_slice(contents);
        out
    }

    /// A certificate skeleton with the given validity, version 1 (no `[0]`) when `version` is
    /// false.
    fn certificate(version: bool, validity: &[u8]) -> Vec<u8> {
        let mut tbs = Vec::new();
        if version {
            tbs.extend(tlv(0xa0, &tlv(0x02, &[2])));
        }
        tbs.extend(tlv(0x02, &[0x01, 0x23]));
        tbs.extend(tlv(0x30, &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));
        tbs.extend(tlv(0x30, &tlv(0x31, &tlv(0x30, &[]))));
        tbs.extend(tlv(0x30, validity));
        tbs.extend(tlv(0x30, &[0; 200]));
        let mut body = tlv(0x30, &tbs);
        body.extend(tlv(0x30, &[]));
        body.extend(tlv(0x03, &[0]));
        tlv(0x30, &body)
    }

    fn utc(text: &str) -> Vec<u8> {
        tlv(0x17, text.as_bytes())
    }

    fn generalized(text: &str) -> Vec<u8> {
        tlv(0x18, text.as_bytes())
    }

    #[test]
    fn a_real_root_certificate_with_utc_time() {
        // Let's Encrypt's ISRG Root X2, as shipped in Mozilla's and Debian's stores.
        let der = pem(include_str!("../../tests/data/tls/isrg-root-x2.pem"));
        check(&der, expect!["2040-09-17T16:00:00Z"]);
    }

    #[test]
    fn a_real_certificate_with_generalized_time() {
        // Made by `openssl req -x509 -days 12500`: notAfter after 2049 is a GeneralizedTime.
        let der = pem(include_str!("../../tests/data/tls/accord-test-ca.pem"));
        check(&der, expect!["2061-02-11T03:30:17Z"]);
    }

    #[test]
    fn utc_time_years_50_to_99_are_the_twentieth_century() {
        let validity = |after: &str| [utc("000101000000Z"), utc(after)].concat();
        check(&certificate(true, &validity("991231235959Z")), expect!["1999-12-31T23:59:59Z"]);
        check(&certificate(true, &validity("500101000000Z")), expect!["1950-01-01T00:00:00Z"]);
        check(&certificate(true, &validity("491231235959Z")), expect!["2049-12-31T23:59:59Z"]);
    }

    #[test]
    fn version_1_certificates_have_no_version_field() {
        let validity = [utc("200101000000Z"), generalized("20500101000000Z")].concat();
        check(&certificate(false, &validity), expect!["2050-01-01T00:00:00Z"]);
    }

    #[test]
    fn malformed_certificates_are_errors() {
        let good = [utc("200101000000Z"), utc("300101000000Z")].concat();
        let der = certificate(true, &good);
        check(&der[..der.len() - 1], expect!["error: truncated at byte 274"]);
        check(&[der.clone(), vec![0]].concat(), expect!["error: 1 bytes after the certificate"]);
        check(&[], expect!["error: truncated at byte 0"]);
        check(&[0x30, 0x80, 0, 0], expect!["error: invalid length at byte 1"]);
        check(
            &tlv(0x31, &[]),
            expect!["error: expected a Certificate SEQUENCE at byte 0, found tag 0x31"],
        );
        check(
            &certificate(true, &[utc("200101000000Z"), tlv(0x04, b"x")].concat()),
            expect!["error: expected a UTCTime or GeneralizedTime at byte 51, found tag 0x04"],
        );
        check(
            &certificate(true, &[utc("200101000000Z"), utc("301301000000Z")].concat()),
            expect![[
                r#"error: invalid notAfter "301301000000Z": expected YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ"#
            ]],
        );
        check(
            &certificate(true, &[utc("2001010000Z"), utc("300101000000Z")].concat()),
            expect![[
                r#"error: invalid notBefore "2001010000Z": expected YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ"#
            ]],
        );
        check(
            &certificate(
                true,
                &[utc("200101000000Z"), generalized("20300101000000+0100")].concat(),
            ),
            expect![[
                r#"error: invalid notAfter "20300101000000+0100": expected YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ"#
            ]],
        );
    }
}
