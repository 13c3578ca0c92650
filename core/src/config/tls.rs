//! The TLS side of a connection to the API server: trust roots, client
//! certificate and the verification switch, checked before ureq sees them.
//!
//! ureq ignores unparsable roots and panics on a key that does not match its
//! certificate, so everything is validated here first and reported as a
//! [`Error::Config`] naming where the PEM came from.

use std::fmt;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::error::{Error, Result};

/// PEM bytes and a description of where they came from, for error messages.
#[derive(Clone)]
pub(crate) struct Pem {
    bytes: Arc<[u8]>,
    origin: String,
}

impl Pem {
    /// Wraps PEM bytes; `origin` names the file and field they came from.
    pub(crate) fn new(bytes: impl Into<Arc<[u8]>>, origin: impl Into<String>) -> Pem {
        Pem {
            bytes: bytes.into(),
            origin: origin.into(),
        }
    }

    /// The raw PEM bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Everything that decides how the TLS handshake with the API server goes.
#[derive(Clone, Default)]
pub(crate) struct Tls {
    /// The only trusted roots when set; Mozilla's roots otherwise.
    pub(crate) ca: Option<Pem>,
    /// Client certificate chain and its private key.
    pub(crate) client: Option<(Pem, Pem)>,
    /// Skip server certificate verification (only when the config says so).
    pub(crate) insecure: bool,
}

impl Tls {
    /// Parses and cross-checks all PEM material, so bad input fails early.
    pub(crate) fn check(&self) -> Result<()> {
        self.to_ureq().map(drop)
    }

    /// The ureq TLS settings, or a config error naming the bad PEM.
    pub(crate) fn to_ureq(&self) -> Result<TlsConfig> {
        if let (true, Some(ca)) = (self.insecure, &self.ca) {
            // client-go refuses this combination too: which one was meant?
            return Err(Error::config(format!(
                "{}: a certificate authority cannot be combined with insecure-skip-tls-verify",
                ca.origin
            )));
        }
        let mut builder = TlsConfig::builder().disable_verification(self.insecure);
        if let Some(ca) = &self.ca {
            let roots = root_certs(ca)?;
            builder = builder.root_certs(RootCerts::new_with_certs(&roots));
        }
        if let Some((cert, key)) = &self.client {
            builder = builder.client_cert(Some(client_cert(cert, key)?));
        }
        Ok(builder.build())
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("ca", &self.ca.as_ref().map(|ca| &ca.origin))
            .field(
                "client_cert",
                &self.client.as_ref().map(|(cert, _)| &cert.origin),
            )
            .field("client_key", &self.client.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// Every certificate in a CA bundle, each checked to be a usable trust anchor.
fn root_certs(ca: &Pem) -> Result<Vec<Certificate<'static>>> {
    let ders = certificates(ca)?;
    let mut store = rustls::RootCertStore::empty();
    for (i, der) in ders.iter().enumerate() {
        store.add(der.clone()).map_err(|e| {
            let message = format!(
                "{}: certificate {} is not a valid CA certificate: {e}",
                ca.origin,
                i + 1
            );
            Error::config_with(message, e)
        })?;
    }
    Ok(ders
        .iter()
        .map(|der| Certificate::from_der(der).to_owned())
        .collect())
}

/// A client certificate chain with its key, checked to belong together.
fn client_cert(cert: &Pem, key: &Pem) -> Result<ClientCert> {
    let chain = certificates(cert)?;
    let key_der = PrivateKeyDer::from_pem_slice(key.bytes()).map_err(|e| {
        // The pem error never contains key material, only its kind.
        let what = match e {
            rustls_pki_types::pem::Error::NoItemsFound => "contains no PEM private key".to_owned(),
            other => format!(
                "is not a valid PEM private key ({})",
                pem_error_kind(&other)
            ),
        };
        Error::config(format!("{}: {what}", key.origin))
    })?;
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(chain.clone(), key_der.clone_key(), &provider).map_err(
        |e| {
            let message = match &e {
                rustls::Error::InconsistentKeys(_) => {
                    format!(
                        "{} and {} cannot be used together: {e}",
                        cert.origin, key.origin
                    )
                }
                // rustls reads only X.509 v3 certificates (those with
                // extensions); `openssl x509 -req` without `-extfile`
                // issues v1 ones, which kubectl accepts but rustls cannot.
                _ if format!("{e:?}").contains("UnsupportedCertVersion") => format!(
                    "{} is an X.509 v1 certificate; TLS client authentication here needs X.509 v3 \
                     (reissue it with extensions, e.g. extendedKeyUsage=clientAuth)",
                    cert.origin
                ),
                _ => format!(
                    "{} cannot be used as a client certificate: {e}",
                    cert.origin
                ),
            };
            Error::config_with(message, e)
        },
    )?;
    let chain: Vec<Certificate<'static>> = chain
        .iter()
        .map(|der| Certificate::from_der(der).to_owned())
        .collect();
    // ureq does not export its key-kind type, so let it parse the PEM that
    // was just validated; it uses the same parser and takes the same key.
    let key = PrivateKey::from_pem(key.bytes())
        .map_err(|_| Error::config(format!("{}: unsupported private key format", key.origin)))?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

/// All certificates in a PEM bundle; at least one.
fn certificates(pem: &Pem) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::config(format!(
                "{}: is not valid PEM ({})",
                pem.origin,
                pem_error_kind(&e)
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::config(format!(
            "{}: contains no PEM certificate",
            pem.origin
        )));
    }
    Ok(certs)
}

/// A description of a PEM error that never quotes the input.
fn pem_error_kind(e: &rustls_pki_types::pem::Error) -> &'static str {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => "a BEGIN line has no matching END line",
        E::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        E::Base64Decode(_) => "the body is not valid base64",
        E::NoItemsFound => "no PEM section found",
        _ => "unreadable PEM",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &[u8] = include_bytes!("../../tests/fixtures/ca.crt");
    const CLIENT_CERT: &[u8] = include_bytes!("../../tests/fixtures/client.crt");
    const CLIENT_KEY: &[u8] = include_bytes!("../../tests/fixtures/client.key");
    const OTHER_KEY: &[u8] = include_bytes!("../../tests/fixtures/other.key");

    fn pem(bytes: &[u8], origin: &str) -> Pem {
        Pem::new(bytes, origin)
    }

    fn message(err: Error) -> String {
        match err {
            Error::Config { message, .. } => message,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    #[test]
    fn ca_and_matching_client_cert_are_accepted() {
        let tls = Tls {
            ca: Some(pem(CA, "ca")),
            client: Some((pem(CLIENT_CERT, "cert"), pem(CLIENT_KEY, "key"))),
            insecure: false,
        };
        let config = tls.to_ureq().expect("valid PEM must be accepted");
        assert!(matches!(config.root_certs(), RootCerts::Specific(roots) if roots.len() == 1));
        assert!(config.client_cert().is_some());
        assert!(!config.disable_verification());
    }

    #[test]
    fn no_ca_means_webpki_roots_and_verification_on() {
        let config = Tls::default().to_ureq().unwrap();
        assert!(matches!(config.root_certs(), RootCerts::WebPki));
        assert!(!config.disable_verification());
    }

    #[test]
    fn insecure_disables_verification() {
        let tls = Tls {
            insecure: true,
            ..Tls::default()
        };
        assert!(tls.to_ureq().unwrap().disable_verification());
    }

    #[test]
    fn insecure_with_ca_is_rejected() {
        let tls = Tls {
            ca: Some(pem(
                CA,
                "kubeconfig /k: clusters[0].cluster.certificate-authority-data",
            )),
            client: None,
            insecure: true,
        };
        let msg = message(tls.check().unwrap_err());
        assert!(msg.contains("insecure-skip-tls-verify"), "{msg}");
    }

    #[test]
    fn garbage_ca_names_its_origin() {
        let tls = Tls {
            ca: Some(pem(
                b"not pem at all",
                "kubeconfig /k: clusters[0].cluster.certificate-authority-data",
            )),
            ..Tls::default()
        };
        let msg = message(tls.check().unwrap_err());
        assert_eq!(
            msg,
            "kubeconfig /k: clusters[0].cluster.certificate-authority-data: contains no PEM certificate"
        );
    }

    #[test]
    fn truncated_pem_is_rejected() {
        let cut = &CA[..CA.len() - 30];
        let tls = Tls {
            ca: Some(pem(cut, "ca.crt")),
            ..Tls::default()
        };
        let msg = message(tls.check().unwrap_err());
        assert!(msg.starts_with("ca.crt: is not valid PEM"), "{msg}");
    }

    #[test]
    fn pem_wrapping_garbage_der_is_not_a_ca() {
        let fake = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let tls = Tls {
            ca: Some(pem(fake, "ca.crt")),
            ..Tls::default()
        };
        let msg = message(tls.check().unwrap_err());
        assert!(
            msg.starts_with("ca.crt: certificate 1 is not a valid CA certificate"),
            "{msg}"
        );
    }

    #[test]
    fn mismatched_key_is_rejected_without_quoting_it() {
        let tls = Tls {
            client: Some((pem(CLIENT_CERT, "cert.pem"), pem(OTHER_KEY, "key.pem"))),
            ..Tls::default()
        };
        let msg = message(tls.check().unwrap_err());
        assert!(
            msg.starts_with("cert.pem and key.pem cannot be used together"),
            "{msg}"
        );
        assert!(!msg.contains("PRIVATE KEY"), "{msg}");
    }

    #[test]
    fn missing_key_is_rejected() {
        let tls = Tls {
            client: Some((pem(CLIENT_CERT, "cert.pem"), pem(CLIENT_CERT, "key.pem"))),
            ..Tls::default()
        };
        assert_eq!(
            message(tls.check().unwrap_err()),
            "key.pem: contains no PEM private key"
        );
    }

    #[test]
    fn debug_never_shows_key_material() {
        let tls = Tls {
            client: Some((pem(CLIENT_CERT, "cert.pem"), pem(CLIENT_KEY, "key.pem"))),
            ..Tls::default()
        };
        let debug = format!("{tls:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
    }
}
