//! The signing key: an RSA-2048 key and its self-signed certificate, made once per process.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use rsa::signature::{SignatureEncoding as _, Signer as _};
use sha2::{Digest as _, Sha256};

use super::Error;

/// The common name of the generated certificate.
const SUBJECT: &str = "/CN=imgsvc-testkit-token-signer";

/// An RSA key the token server signs with, and the certificate the registry trusts.
///
/// The registry is configured with [`cert_pem`](Self::cert_pem) as its
/// `auth.token.rootcertbundle`; a token names the key either by [`kid`](Self::kid) or by
/// carrying the certificate itself (`x5c`).
pub struct SigningKey {
    signer: rsa::pkcs1v15::SigningKey<Sha256>,
    cert_pem: String,
    cert_der: Vec<u8>,
    spki_der: Vec<u8>,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Construction
impl SigningKey {
    /// The key shared by every token server of this process, generated on first use.
    ///
    /// RSA key generation takes a noticeable fraction of a second, so it happens once; a failed
    /// attempt is not cached and the next call tries again.
    pub fn shared() -> Result<Arc<SigningKey>, Error> {
        static SHARED: Mutex<Option<Arc<SigningKey>>> = Mutex::new(None);
        let mut slot = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = slot.as_ref() {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(Self::generate()?);
        *slot = Some(Arc::clone(&key));
        Ok(key)
    }

    /// Generates a fresh key and self-signed certificate with the `openssl` command line tool.
    pub fn generate() -> Result<SigningKey, Error> {
        let dir = tempfile::tempdir().map_err(|source| Error::Io {
            what: "create a temporary directory for",
            path: "the token signing key".into(),
            source,
        })?;
        let key_path = dir.path().join("token.key");
        let cert_path = dir.path().join("token.crt");
        let mut cmd = Command::new("openssl");
        cmd.args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256"])
            .args(["-days", "3650", "-subj", SUBJECT, "-keyout"])
            .arg(&key_path)
            .arg("-out")
            .arg(&cert_path);
        let output = cmd
            .output()
            .map_err(|source| Error::OpensslMissing { source })?;
        if !output.status.success() {
            return Err(Error::Openssl {
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        let key_pem = read(&key_path)?;
        let cert_pem = read(&cert_path)?;
        Self::from_pem(&key_pem, &cert_pem)
    }

    /// A key from a PEM private key (PKCS#8 or PKCS#1) and the PEM certificate of its public key.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<SigningKey, Error> {
        let private = rsa::PrivateKey::from_pkcs8_pem(key_pem)
            .or_else(|_| rsa::PrivateKey::from_pkcs1_pem(key_pem))
            .map_err(|e| Error::Key {
                reason: e.to_string(),
            })?;
        let spki_der = private
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| Error::Key {
                reason: e.to_string(),
            })?
            .into_vec();
        let cert_der = pem_body(cert_pem, "CERTIFICATE")?;
        Ok(SigningKey {
            signer: rsa::pkcs1v15::SigningKey::new(private),
            cert_pem: cert_pem.to_owned(),
            cert_der,
            kid: libtrust_key_id(&spki_der),
            spki_der,
        })
    }
}

/// Access
impl SigningKey {
    /// The certificate in PEM, for the registry's `rootcertbundle`.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The certificate in DER, as a JOSE `x5c` header carries it (base64, not base64url).
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The DER `SubjectPublicKeyInfo` of the public key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The key id the registry derives from its trusted certificates (see [`libtrust_key_id`]).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 over SHA-256 (JWS `RS256`).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.signer
            .try_sign(message)
            .map(|signature| signature.to_vec())
            .map_err(|e| Error::Key {
                reason: e.to_string(),
            })
    }
}

/// The key id distribution 2.8 computes for a trusted key (docker/libtrust's `KeyID`).
///
/// It is the SHA-256 of the DER `SubjectPublicKeyInfo`, truncated to 30 bytes, in RFC 4648
/// base32 (48 characters, no padding), written as 12 groups of 4 joined by `:`. The registry
/// looks up a token's `kid` header in a map keyed by exactly this string.
pub fn libtrust_key_id(spki_der: &[u8]) -> String {
    let hash = Sha256::digest(spki_der);
    let encoded = base32(hash.get(..30).unwrap_or(&hash));
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 4);
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(':');
        }
        out.push(c);
    }
    out
}

/// RFC 4648 base32 without padding.
fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in data {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The DER bytes of the first PEM block labelled `label`.
fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, Error> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or_else(|| Error::Key {
            reason: format!("no {label} block in PEM input"),
        })?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| Error::Key {
            reason: format!("{label} PEM block: {e}"),
        })
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: "read",
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(input.as_bytes()), expected, "base32({input:?})");
        }
    }

    #[test]
    fn key_id_has_twelve_groups_of_four() {
        let kid = libtrust_key_id(b"anything");
        let groups: Vec<&str> = kid.split(':').collect();
        assert_eq!(groups.len(), 12, "{kid}");
        assert!(groups.iter().all(|g| g.len() == 4), "{kid}");
    }

    #[test]
    fn public_key_der_is_what_openssl_extracts_from_the_certificate() {
        let key = SigningKey::shared().expect("openssl is installed (see .ci/run)");
        let dir = tempfile::tempdir().expect("temp dir");
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, key.cert_pem()).expect("write cert");
        let pubkey = Command::new("openssl")
            .args(["x509", "-pubkey", "-noout", "-in"])
            .arg(&cert)
            .output()
            .expect("openssl x509 runs");
        assert!(pubkey.status.success());
        let der = pem_body(&String::from_utf8_lossy(&pubkey.stdout), "PUBLIC KEY")
            .expect("PUBLIC KEY block");
        assert_eq!(der, key.public_key_der());
    }
}
