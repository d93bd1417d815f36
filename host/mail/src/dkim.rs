//! DKIM signing (RFC 6376) with the merchant's key, RSA-SHA256.

use std::sync::Arc;

use base64::Engine;
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

use crate::MailError;

/// Headers signed when present. Listing some the message may lack costs
/// nothing; the set covers what identifies the message and the sender and
/// the headers receivers' rules look at (`List-Unsubscribe` must be signed
/// for the large mailbox providers' bulk-sender rules).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

const MIN_KEY_BITS: usize = 1024;

/// A domain's DKIM key: loaded and checked once, shared by every message.
/// `Debug` shows the domain and selector, never the key.
#[derive(Clone)]
pub struct DkimKey {
    domain: String,
    selector: String,
    public_key: Vec<u8>,
    signer: Arc<DkimSigner<RsaKey<Sha256>, Done>>,
}

impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKey").field("domain", &self.domain).field("selector", &self.selector).finish()
    }
}

impl DkimKey {
    /// Load an RSA private key in PEM (PKCS#8 `PRIVATE KEY` or PKCS#1
    /// `RSA PRIVATE KEY`; 1024 bits at least, 2048 advised) for
    /// `selector._domainkey.domain`.
    pub fn new(domain: &str, selector: &str, private_key_pem: &str) -> Result<DkimKey, MailError> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let refuse = |reason: &str| MailError::DkimKey { domain: domain.clone(), reason: reason.to_owned() };
        if !is_dns_name(&domain) {
            return Err(refuse("the domain is not a DNS name"));
        }
        if !is_dns_name(selector) {
            return Err(refuse("the selector must be DNS labels (letters, digits, `-`, dots between)"));
        }
        let der = PrivateKeyDer::from_pem_slice(private_key_pem.as_bytes())
            .map_err(|e| refuse(&format!("no private key in the PEM text ({e})")))?;
        let key =
            RsaKey::<Sha256>::from_key_der(der).map_err(|e| refuse(&format!("it is not an RSA private key ({e})")))?;
        let public = RsaPublicKey::from_pkcs1_der(&key.public_key())
            .map_err(|e| refuse(&format!("its public key cannot be read ({e})")))?;
        // RFC 8301: verifiers ignore signatures from shorter keys.
        if public.size() * 8 < MIN_KEY_BITS {
            return Err(refuse(&format!("it has {} bits; at least {MIN_KEY_BITS} are needed", public.size() * 8)));
        }
        // SubjectPublicKeyInfo, as `openssl rsa -pubout` prints it: RFC 6376 names
        // the bare RSAPublicKey mail-auth returns, but OpenDKIM-based receivers only
        // read this form, and every verifier reads it.
        let public_key = public
            .to_public_key_der()
            .map_err(|e| refuse(&format!("its public key cannot be encoded ({e})")))?
            .into_vec();
        let signer = DkimSigner::from_key(key)
            .domain(domain.clone())
            .selector(selector.to_owned())
            .headers(SIGNED_HEADERS.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        Ok(DkimKey { domain, selector: selector.to_owned(), public_key, signer: Arc::new(signer) })
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The TXT record to publish at [`DkimKey::dns_name`]:
    /// `v=DKIM1; k=rsa; p=<the public key>`.
    pub fn dns_record(&self) -> String {
        format!("v=DKIM1; k=rsa; p={}", base64::engine::general_purpose::STANDARD.encode(&self.public_key))
    }

    /// `selector._domainkey.domain`, where receivers look the key up.
    pub fn dns_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// Refuse to sign for another domain: a signature whose `d=` is not the
    /// From domain does not align for DMARC, so it would only look like one.
    pub(crate) fn check_domain(&self, sender_domain: &str) -> Result<(), MailError> {
        if sender_domain.eq_ignore_ascii_case(&self.domain) {
            Ok(())
        } else {
            Err(MailError::DkimDomainMismatch {
                sender_domain: sender_domain.to_owned(),
                key_domain: self.domain.clone(),
            })
        }
    }

    /// The message with a `DKIM-Signature` header in front.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, MailError> {
        let signature = self.signer.sign(message).map_err(|e| MailError::DkimSign(e.to_string()))?;
        let header = signature.to_header();
        let mut signed = Vec::with_capacity(header.len() + message.len());
        signed.extend_from_slice(header.as_bytes());
        signed.extend_from_slice(message);
        Ok(signed)
    }
}

fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}
