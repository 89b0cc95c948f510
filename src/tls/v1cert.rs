//! X.509 version 1 client certificates (no extensions), which OpenSSL accepts and webpki refuses to parse:
//! Redis's own test certificate `redis.crt` is one, and a replica presents it as its client certificate when it
//! has no `tls-client-cert-file`. When webpki cannot parse a client certificate, this checks it the way a chain of
//! one works: a v1 certificate whose issuer is one of the configured CAs, signed by that CA's key, valid now.
//! Its handshake signature is then checked with its own public key. Anything else is refused as webpki refused it.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

/// The webpki verifier, with the fallback for v1 certificates.
#[derive(Debug)]
pub struct WithV1 {
    pub inner: Arc<dyn ClientCertVerifier>,
    /// The CA certificates (DER) a v1 certificate may be signed by.
    pub cas: Vec<Vec<u8>>,
    pub algorithms: WebPkiSupportedAlgorithms,
}

/// The parts of a certificate the check needs, as slices of its DER.
struct Cert<'a> {
    tbs: &'a [u8],
    version: u8,
    issuer: &'a [u8],
    not_before: (u8, &'a [u8]),
    not_after: (u8, &'a [u8]),
    subject: &'a [u8],
    key_alg: &'a [u8],
    key: &'a [u8],
    sig_alg: &'a [u8],
    signature: &'a [u8],
}

/// One DER element at the start of some bytes: (tag, contents, the whole element, the rest).
type Element<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

fn element(data: &[u8]) -> Option<Element<'_>> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let header = data.len() - rest.len();
    Some((tag, &rest[..len], &data[..header + len], &rest[len..]))
}

/// A BIT STRING's bytes (whole bytes only).
fn bits(contents: &[u8]) -> Option<&[u8]> {
    match contents.split_first() {
        Some((0, bytes)) => Some(bytes),
        _ => None,
    }
}

fn parse(der: &[u8]) -> Option<Cert<'_>> {
    let (0x30, cert, _, _) = element(der)? else {
        return None;
    };
    let (0x30, tbs_contents, tbs, rest) = element(cert)? else {
        return None;
    };
    let (0x30, sig_alg, _, rest) = element(rest)? else {
        return None;
    };
    let (0x03, signature, _, _) = element(rest)? else {
        return None;
    };
    let mut fields = tbs_contents;
    let mut version = 0;
    if fields.first() == Some(&0xa0) {
        let (_, explicit, _, rest) = element(fields)?;
        let (0x02, v, _, _) = element(explicit)? else {
            return None;
        };
        version = *v.last()?;
        fields = rest;
    }
    let (_serial, _, _, rest) = element(fields)?;
    let (_sig, _, _, rest) = element(rest)?;
    let (0x30, _, issuer, rest) = element(rest)? else {
        return None;
    };
    let (0x30, validity, _, rest) = element(rest)? else {
        return None;
    };
    let (0x30, _, subject, rest) = element(rest)? else {
        return None;
    };
    let (0x30, spki, _, _) = element(rest)? else {
        return None;
    };
    let (nb_tag, not_before, _, after) = element(validity)?;
    let (na_tag, not_after, _, _) = element(after)?;
    let (0x30, key_alg, _, rest) = element(spki)? else {
        return None;
    };
    let (0x03, key, _, _) = element(rest)? else {
        return None;
    };
    Some(Cert {
        tbs,
        version,
        issuer,
        not_before: (nb_tag, not_before),
        not_after: (na_tag, not_after),
        subject,
        key_alg,
        key: bits(key)?,
        sig_alg,
        signature: bits(signature)?,
    })
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as Unix seconds.
fn unix_time((tag, text): (u8, &[u8])) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 if text.len() == 12 => {
            let yy: i64 = text[..2].parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        0x18 if text.len() == 14 => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let num = |i: usize| rest.get(i..i + 2)?.parse::<i64>().ok();
    let (month, day, h, m, s) = (num(0)?, num(2)?, num(4)?, num(6)?, num(8)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    u64::try_from(days * 86400 + h * 3600 + m * 60 + s).ok()
}

impl WithV1 {
    /// A v1 certificate signed by one of the CAs and valid at `now`.
    fn check_v1(&self, der: &[u8], now: UnixTime) -> bool {
        let Some(cert) = parse(der).filter(|c| c.version == 0) else {
            return false;
        };
        let now = now.as_secs();
        let valid = unix_time(cert.not_before).is_some_and(|t| t <= now)
            && unix_time(cert.not_after).is_some_and(|t| now <= t);
        valid
            && self.cas.iter().filter_map(|ca| parse(ca)).any(|ca| {
                ca.subject == cert.issuer
                    && self.algorithms.all.iter().any(|alg| {
                        *alg.public_key_alg_id() == *ca.key_alg
                            && *alg.signature_alg_id() == *cert.sig_alg
                            && alg
                                .verify_signature(ca.key, cert.tbs, cert.signature)
                                .is_ok()
                    })
            })
    }

    /// A handshake signature by a v1 certificate's key (None: not a v1 certificate, webpki checks it). TLS 1.3
    /// as webpki: no PKCS#1 v1.5 schemes, and only the scheme's first algorithm (its curve).
    fn v1_signature(
        &self,
        message: &[u8],
        der: &[u8],
        dss: &DigitallySignedStruct,
        tls13: bool,
    ) -> Option<Result<HandshakeSignatureValid, Error>> {
        let cert = parse(der).filter(|c| c.version == 0)?;
        let pkcs1 = matches!(
            dss.scheme,
            SignatureScheme::RSA_PKCS1_SHA256
                | SignatureScheme::RSA_PKCS1_SHA384
                | SignatureScheme::RSA_PKCS1_SHA512
        );
        if tls13 && pkcs1 {
            return Some(Err(Error::InvalidCertificate(
                rustls::CertificateError::BadSignature,
            )));
        }
        let algs = self
            .algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algs)| *algs)
            .unwrap_or_default();
        let algs = if tls13 {
            &algs[..algs.len().min(1)]
        } else {
            algs
        };
        let ok = algs.iter().any(|alg| {
            *alg.public_key_alg_id() == *cert.key_alg
                && alg
                    .verify_signature(cert.key, message, dss.signature())
                    .is_ok()
        });
        Some(match ok {
            true => Ok(HandshakeSignatureValid::assertion()),
            false => Err(Error::InvalidCertificate(
                rustls::CertificateError::BadSignature,
            )),
        })
    }
}

impl ClientCertVerifier for WithV1 {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        match self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
        {
            Err(e) if self.check_v1(end_entity, now) => {
                log::debug!("TLS: client certificate accepted as X.509 v1 ({e})");
                Ok(ClientCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.v1_signature(message, cert, dss, false)
            .unwrap_or_else(|| self.inner.verify_tls12_signature(message, cert, dss))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.v1_signature(message, cert, dss, true)
            .unwrap_or_else(|| self.inner.verify_tls13_signature(message, cert, dss))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_unix_seconds() {
        assert_eq!(unix_time((0x17, b"700101000000Z")), Some(0));
        assert_eq!(unix_time((0x17, b"000301000000Z")), Some(951_868_800));
        assert_eq!(unix_time((0x18, b"20261202151800Z")), Some(1_796_224_680));
        assert_eq!(unix_time((0x17, b"2612021518Z")), None);
        assert_eq!(unix_time((0x04, b"700101000000Z")), None);
    }

    #[test]
    fn elements_with_long_lengths_and_truncation() {
        let mut long = vec![0x04, 0x81, 200];
        long.extend(std::iter::repeat_n(7u8, 200));
        long.push(0x05);
        let (tag, contents, whole, rest) = element(&long).unwrap();
        assert_eq!(
            (tag, contents.len(), whole.len(), rest),
            (4, 200, 203, &[5u8][..])
        );
        assert!(element(&long[..100]).is_none());
        assert!(element(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(parse(b"\x30\x03\x02\x01\x00").is_none());
    }
}
