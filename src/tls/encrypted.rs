//! `tls-key-file-pass`: a private key file encrypted with a password (PKCS#8, PBES2, as OpenSSL 3 writes).

use pkcs8::der::pem::PemLabel;
use pkcs8::der::Decode;
use pkcs8::EncryptedPrivateKeyInfo;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The decrypted key of an `ENCRYPTED PRIVATE KEY` PEM file.
pub fn decrypt_key(pem: &[u8], password: &str) -> Result<PrivateKeyDer<'static>, String> {
    if password.is_empty() {
        return Err("the key is encrypted and tls-key-file-pass is empty".into());
    }
    let text = std::str::from_utf8(pem).map_err(|e| e.to_string())?;
    let (label, der) =
        pkcs8::der::pem::decode_vec(text.trim().as_bytes()).map_err(|e| e.to_string())?;
    EncryptedPrivateKeyInfo::validate_pem_label(label)
        .map_err(|_| format!("unsupported encrypted key format ({label})"))?;
    let info = EncryptedPrivateKeyInfo::from_der(&der).map_err(|e| e.to_string())?;
    let plain = info.decrypt(password).map_err(|e| e.to_string())?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}
