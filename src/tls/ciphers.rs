//! `tls-ciphers` (TLS 1.2, an OpenSSL cipher string) and `tls-ciphersuites` (TLS 1.3, a `:` list) mapped onto
//! the suites rustls has: the AEAD suites with forward secrecy. OpenSSL ignores names it does not know and fails
//! only when a list selects nothing; ferredis answers the same, so a list OpenSSL takes is taken here too, but
//! names OpenSSL knows and rustls lacks (CBC, RSA key exchange, CCM, PSK, ...) select nothing: they are named
//! in a warning, and a client that offers only those cannot connect.

use rustls::crypto::ring;
use rustls::version::TLS13;
use rustls::SupportedCipherSuite;

/// What a list selects: the rustls suites, and the names that OpenSSL would have enabled and rustls lacks.
pub struct Selection {
    pub suites: Vec<SupportedCipherSuite>,
    pub unsupported: Vec<String>,
}

/// `tls-ciphers`: None when OpenSSL would select nothing (Redis then refuses the configuration).
pub fn tls12(list: &str) -> Option<Selection> {
    let rustls: Vec<_> = suites(false);
    if list.trim().is_empty() {
        return Some(everything(&rustls));
    }
    let mut chosen: Vec<SupportedCipherSuite> = Vec::new();
    let mut unsupported = Vec::new();
    for token in list.split([':', ',', ' ']).filter(|t| !t.is_empty()) {
        let (drop, token) = match token.strip_prefix(['-', '!']) {
            Some(rest) => (true, rest),
            None => (false, token.trim_start_matches('+')),
        };
        let all = ALL_ALIASES.iter().any(|a| a.eq_ignore_ascii_case(token));
        let matching: Vec<_> = rustls
            .iter()
            .filter(|s| all || openssl_name(s).eq_ignore_ascii_case(token))
            .collect();
        for s in &matching {
            chosen.retain(|c| c.suite() != s.suite());
            if !drop {
                chosen.push(**s);
            }
        }
        if matching.is_empty() && !drop && openssl_knows(token) {
            unsupported.push(token.to_string());
        }
    }
    (!chosen.is_empty() || !unsupported.is_empty()).then_some(Selection {
        suites: chosen,
        unsupported,
    })
}

/// `tls-ciphersuites`: exact IANA names separated by `:`, as OpenSSL's SSL_CTX_set_ciphersuites reads them.
pub fn tls13(list: &str) -> Option<Selection> {
    let rustls: Vec<_> = suites(true);
    if list.trim().is_empty() {
        return Some(everything(&rustls));
    }
    let mut chosen: Vec<SupportedCipherSuite> = Vec::new();
    let mut unsupported = Vec::new();
    for name in list.split(':').map(str::trim).filter(|t| !t.is_empty()) {
        match rustls.iter().find(|s| tls13_name(s) == name) {
            Some(s) if !chosen.iter().any(|c| c.suite() == s.suite()) => chosen.push(*s),
            Some(_) => {}
            None if OPENSSL_TLS13.contains(&name) => unsupported.push(name.to_string()),
            None => {}
        }
    }
    (!chosen.is_empty() || !unsupported.is_empty()).then_some(Selection {
        suites: chosen,
        unsupported,
    })
}

fn suites(tls13: bool) -> Vec<SupportedCipherSuite> {
    ring::ALL_CIPHER_SUITES
        .iter()
        .filter(|s| (s.version() == &TLS13) == tls13)
        .copied()
        .collect()
}

fn everything(suites: &[SupportedCipherSuite]) -> Selection {
    Selection {
        suites: suites.to_vec(),
        unsupported: Vec::new(),
    }
}

/// Whether OpenSSL reads `token` as a cipher name or an alias (`kRSA`, `ECDHE+AESGCM`, `@STRENGTH`...).
fn openssl_knows(token: &str) -> bool {
    if token.starts_with('@') {
        return false;
    }
    OPENSSL_TLS12.iter().any(|n| n.eq_ignore_ascii_case(token))
        || token
            .split('+')
            .all(|part| OPENSSL_ALIASES.iter().any(|a| a.eq_ignore_ascii_case(part)))
}

/// OpenSSL's name of a TLS 1.2 suite: `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` is `ECDHE-RSA-AES128-GCM-SHA256`.
fn openssl_name(s: &SupportedCipherSuite) -> String {
    let iana = format!("{:?}", s.suite());
    let name = iana
        .trim_start_matches("TLS_")
        .replace("_WITH_", "_")
        .replace("AES_128", "AES128")
        .replace("AES_256", "AES256")
        .replace("_SHA256", "-SHA256")
        .replace("_SHA384", "-SHA384")
        .replace('_', "-");
    name.replace("CHACHA20-POLY1305-SHA256", "CHACHA20-POLY1305")
}

/// The IANA name of a TLS 1.3 suite (rustls spells `TLS13_AES_128_GCM_SHA256`).
fn tls13_name(s: &SupportedCipherSuite) -> String {
    format!("{:?}", s.suite()).replacen("TLS13_", "TLS_", 1)
}

/// Aliases that select every suite rustls has (all of them are AEAD with ECDHE, in OpenSSL's HIGH class).
#[rustfmt::skip]
const ALL_ALIASES: &[&str] = &["DEFAULT", "ALL", "HIGH", "TLSv1.2", "AEAD", "ECDHE", "EECDH", "kECDHE", "kEECDH"];

/// OpenSSL 3.0 cipher-string aliases: each selects something in OpenSSL.
#[rustfmt::skip]
const OPENSSL_ALIASES: &[&str] = &[
    "DEFAULT", "ALL", "HIGH", "TLSv1.2", "AEAD", "ECDHE", "EECDH", "kECDHE", "kEECDH", "COMPLEMENTOFDEFAULT",
    "COMPLEMENTOFALL", "MEDIUM", "LOW", "eNULL", "NULL", "aNULL", "kRSA", "aRSA", "RSA", "kDHE", "kEDH", "DH",
    "DHE", "EDH", "ADH", "kDHr", "kDHd", "aDSS", "DSS", "aECDSA", "ECDSA", "AECDH", "aECDH", "PSK", "kPSK",
    "kECDHEPSK", "kDHEPSK", "kRSAPSK", "aPSK", "SRP", "kSRP", "aSRP", "SSLv3", "TLSv1", "TLSv1.0", "AES", "AES128",
    "AES256", "AESGCM", "AESCCM", "AESCCM8", "ARIA", "ARIA128", "ARIA256", "CAMELLIA", "CAMELLIA128",
    "CAMELLIA256", "CHACHA20", "SHA1", "SHA", "SHA256", "SHA384", "SUITEB128", "SUITEB128ONLY", "SUITEB192",
];

/// TLS 1.3 suites OpenSSL has.
#[rustfmt::skip]
const OPENSSL_TLS13: &[&str] = &[
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
];

/// TLS 1.2 (and older) cipher names OpenSSL 3.0 knows (`openssl ciphers ALL:COMPLEMENTOFALL:@SECLEVEL=0`).
#[rustfmt::skip]
const OPENSSL_TLS12: &[&str] = &[
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "DHE-DSS-AES256-GCM-SHA384",
    "DHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-CCM8", "ECDHE-ECDSA-AES256-CCM", "DHE-RSA-AES256-CCM8",
    "DHE-RSA-AES256-CCM", "ECDHE-ECDSA-ARIA256-GCM-SHA384", "ECDHE-ARIA256-GCM-SHA384",
    "DHE-DSS-ARIA256-GCM-SHA384", "DHE-RSA-ARIA256-GCM-SHA384", "ADH-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "DHE-DSS-AES128-GCM-SHA256",
    "DHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-CCM8", "ECDHE-ECDSA-AES128-CCM", "DHE-RSA-AES128-CCM8",
    "DHE-RSA-AES128-CCM", "ECDHE-ECDSA-ARIA128-GCM-SHA256", "ECDHE-ARIA128-GCM-SHA256",
    "DHE-DSS-ARIA128-GCM-SHA256", "DHE-RSA-ARIA128-GCM-SHA256", "ADH-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES256-SHA256", "DHE-DSS-AES256-SHA256",
    "ECDHE-ECDSA-CAMELLIA256-SHA384", "ECDHE-RSA-CAMELLIA256-SHA384", "DHE-RSA-CAMELLIA256-SHA256",
    "DHE-DSS-CAMELLIA256-SHA256", "ADH-AES256-SHA256", "ADH-CAMELLIA256-SHA256", "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256", "DHE-RSA-AES128-SHA256", "DHE-DSS-AES128-SHA256", "ECDHE-ECDSA-CAMELLIA128-SHA256",
    "ECDHE-RSA-CAMELLIA128-SHA256", "DHE-RSA-CAMELLIA128-SHA256", "DHE-DSS-CAMELLIA128-SHA256",
    "ADH-AES128-SHA256", "ADH-CAMELLIA128-SHA256", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
    "DHE-RSA-AES256-SHA", "DHE-DSS-AES256-SHA", "DHE-RSA-CAMELLIA256-SHA", "DHE-DSS-CAMELLIA256-SHA",
    "AECDH-AES256-SHA", "ADH-AES256-SHA", "ADH-CAMELLIA256-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
    "DHE-RSA-AES128-SHA", "DHE-DSS-AES128-SHA", "DHE-RSA-CAMELLIA128-SHA", "DHE-DSS-CAMELLIA128-SHA",
    "AECDH-AES128-SHA", "ADH-AES128-SHA", "ADH-CAMELLIA128-SHA", "RSA-PSK-AES256-GCM-SHA384",
    "DHE-PSK-AES256-GCM-SHA384", "RSA-PSK-CHACHA20-POLY1305", "DHE-PSK-CHACHA20-POLY1305",
    "ECDHE-PSK-CHACHA20-POLY1305", "DHE-PSK-AES256-CCM8", "DHE-PSK-AES256-CCM", "RSA-PSK-ARIA256-GCM-SHA384",
    "DHE-PSK-ARIA256-GCM-SHA384", "AES256-GCM-SHA384", "AES256-CCM8", "AES256-CCM", "ARIA256-GCM-SHA384",
    "PSK-AES256-GCM-SHA384", "PSK-CHACHA20-POLY1305", "PSK-AES256-CCM8", "PSK-AES256-CCM",
    "PSK-ARIA256-GCM-SHA384", "RSA-PSK-AES128-GCM-SHA256", "DHE-PSK-AES128-GCM-SHA256", "DHE-PSK-AES128-CCM8",
    "DHE-PSK-AES128-CCM", "RSA-PSK-ARIA128-GCM-SHA256", "DHE-PSK-ARIA128-GCM-SHA256", "AES128-GCM-SHA256",
    "AES128-CCM8", "AES128-CCM", "ARIA128-GCM-SHA256", "PSK-AES128-GCM-SHA256", "PSK-AES128-CCM8",
    "PSK-AES128-CCM", "PSK-ARIA128-GCM-SHA256", "AES256-SHA256", "CAMELLIA256-SHA256", "AES128-SHA256",
    "CAMELLIA128-SHA256", "ECDHE-PSK-AES256-CBC-SHA384", "ECDHE-PSK-AES256-CBC-SHA", "SRP-DSS-AES-256-CBC-SHA",
    "SRP-RSA-AES-256-CBC-SHA", "SRP-AES-256-CBC-SHA", "RSA-PSK-AES256-CBC-SHA384", "DHE-PSK-AES256-CBC-SHA384",
    "RSA-PSK-AES256-CBC-SHA", "DHE-PSK-AES256-CBC-SHA", "ECDHE-PSK-CAMELLIA256-SHA384",
    "RSA-PSK-CAMELLIA256-SHA384", "DHE-PSK-CAMELLIA256-SHA384", "AES256-SHA", "CAMELLIA256-SHA",
    "PSK-AES256-CBC-SHA384", "PSK-AES256-CBC-SHA", "PSK-CAMELLIA256-SHA384", "ECDHE-PSK-AES128-CBC-SHA256",
    "ECDHE-PSK-AES128-CBC-SHA", "SRP-DSS-AES-128-CBC-SHA", "SRP-RSA-AES-128-CBC-SHA", "SRP-AES-128-CBC-SHA",
    "RSA-PSK-AES128-CBC-SHA256", "DHE-PSK-AES128-CBC-SHA256", "RSA-PSK-AES128-CBC-SHA", "DHE-PSK-AES128-CBC-SHA",
    "ECDHE-PSK-CAMELLIA128-SHA256", "RSA-PSK-CAMELLIA128-SHA256", "DHE-PSK-CAMELLIA128-SHA256", "AES128-SHA",
    "CAMELLIA128-SHA", "PSK-AES128-CBC-SHA256", "PSK-AES128-CBC-SHA", "PSK-CAMELLIA128-SHA256",
    "ECDHE-ECDSA-NULL-SHA", "ECDHE-RSA-NULL-SHA", "AECDH-NULL-SHA", "NULL-SHA256", "ECDHE-PSK-NULL-SHA384",
    "ECDHE-PSK-NULL-SHA256", "ECDHE-PSK-NULL-SHA", "RSA-PSK-NULL-SHA384", "RSA-PSK-NULL-SHA256",
    "DHE-PSK-NULL-SHA384", "DHE-PSK-NULL-SHA256", "RSA-PSK-NULL-SHA", "DHE-PSK-NULL-SHA", "NULL-SHA", "NULL-MD5",
    "PSK-NULL-SHA384", "PSK-NULL-SHA256", "PSK-NULL-SHA",
];
