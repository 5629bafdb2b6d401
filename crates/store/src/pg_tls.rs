//! TLS to PostgreSQL, as libpq reads the URL: `sslmode` = `disable`, `prefer` (the default:
//! encrypted when the server offers it), `require` (encrypted, the certificate not checked,
//! unless `sslrootcert` is given: then as `verify-ca`), `verify-ca` (signed by `sslrootcert`)
//! or `verify-full` (that, and issued for the host). Unlike libpq, a server certificate that
//! is itself marked as a CA is refused by the verifying modes (webpki's rule).

use std::sync::Arc;

use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// What the URL asks of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The URL the driver gets (our TLS parameters taken out, `sslmode` as it understands it),
/// the mode, and the CA file for the verifying modes.
pub(crate) fn parse(url: &str) -> Result<(String, SslMode, Option<String>), StoreError> {
    // The query starts after the credentials: a password may hold a `?`.
    let host_start = url.rfind('@').map_or_else(|| url.find("://").map_or(0, |scheme| scheme + 3), |at| at + 1);
    let (base, query) = match url[host_start..].find('?') {
        Some(offset) => (&url[..host_start + offset], &url[host_start + offset + 1..]),
        None => (url, ""),
    };
    let (mut mode, mut root) = (SslMode::Prefer, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                mode = match value {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(StoreError::Invalid(format!(
                            "sslmode must be disable, prefer, require, verify-ca or verify-full, got {other:?}"
                        )));
                    }
                }
            }
            "sslrootcert" => root = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let driver_mode = match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        _ => "require",
    };
    kept.push(match driver_mode {
        "disable" => "sslmode=disable",
        "prefer" => "sslmode=prefer",
        _ => "sslmode=require",
    });
    if mode == SslMode::Require && root.is_some() {
        // As libpq: `require` with a root certificate checks the chain (verify-ca).
        mode = SslMode::VerifyCa;
    }
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root.is_none() {
        return Err(StoreError::Invalid(
            "sslmode=verify-ca and verify-full need sslrootcert=<path of the CA certificate (PEM)>".into(),
        ));
    }
    Ok((format!("{base}?{}", kept.join("&")), mode, root))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(byte) = text.get(index + 1..index + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The connector for `mode`.
pub(crate) fn connector(mode: &SslMode, root: Option<&str>) -> Result<MakeRustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| StoreError::Database(format!("TLS set-up: {error}")))?;
    let config = match (mode, root) {
        (SslMode::VerifyCa | SslMode::VerifyFull, Some(root)) => {
            let mut roots = rustls::RootCertStore::empty();
            let certificates = CertificateDer::pem_file_iter(root)
                .map_err(|error| StoreError::Invalid(format!("sslrootcert {root}: {error}")))?;
            for certificate in certificates {
                let certificate =
                    certificate.map_err(|error| StoreError::Invalid(format!("sslrootcert {root}: {error}")))?;
                roots.add(certificate).map_err(|error| StoreError::Invalid(format!("sslrootcert {root}: {error}")))?;
            }
            let verifier =
                rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|error| StoreError::Invalid(format!("sslrootcert {root}: {error}")))?;
            let verifier: Arc<dyn ServerCertVerifier> =
                if *mode == SslMode::VerifyCa { Arc::new(AnyName(verifier)) } else { verifier };
            builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
        }
        // `prefer` and `require` encrypt without checking the certificate, as libpq does.
        _ => builder.dangerous().with_custom_certificate_verifier(Arc::new(Unchecked(provider))).with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// `verify-ca`: the chain must lead to the root; the name on the certificate is not checked.
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require`: any certificate, but the handshake's signatures are checked.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_gets_the_url_without_our_tls_parameters() {
        let (url, mode, root) =
            parse("postgres://u:p@h/db?options=-c%20x&sslmode=verify-full&sslrootcert=%2Fca.pem").unwrap();
        assert_eq!(url, "postgres://u:p@h/db?options=-c%20x&sslmode=require");
        assert_eq!((mode, root.as_deref()), (SslMode::VerifyFull, Some("/ca.pem")));
        let (url, mode, _) = parse("postgres://h/db").unwrap();
        assert_eq!((url.as_str(), mode), ("postgres://h/db?sslmode=prefer", SslMode::Prefer));
        let (url, mode, _) = parse("postgres://u:pa?ss@h/db?sslmode=require").unwrap();
        assert_eq!(
            (url.as_str(), mode),
            ("postgres://u:pa?ss@h/db?sslmode=require", SslMode::Require),
            "a ? in the password"
        );
        let (url, _, _) = parse("postgres://u:pa?ss@h/db").unwrap();
        assert_eq!(url, "postgres://u:pa?ss@h/db?sslmode=prefer");
        let (_, mode, _) = parse("postgres://h/db?sslmode=require&sslrootcert=ca.pem").unwrap();
        assert_eq!(mode, SslMode::VerifyCa, "require with a root checks the chain, as libpq");
        assert!(parse("postgres://h/db?sslmode=verify-ca").unwrap_err().to_string().contains("sslrootcert"));
        assert!(parse("postgres://h/db?sslmode=sometimes").unwrap_err().to_string().contains("sslmode must be"));
    }

    /// Whether the store's connection to `url` is encrypted, as the server sees it.
    fn encrypted(url: &str) -> Result<bool, StoreError> {
        use crate::db::Db;
        let mut db = crate::postgres::PostgresDb::connect(url)?;
        let rows = db
            .query_text("SELECT CAST(ssl AS TEXT) FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
            .map_err(|error| StoreError::Database(format!("{error:?}")))?;
        Ok(rows.first().and_then(|row| row.first().cloned().flatten()).as_deref() == Some("true"))
    }

    /// Against the test server (PostgreSQL as Debian installs it: TLS on, with its
    /// self-signed "snakeoil" certificate for `localhost`).
    #[test]
    fn connections_are_encrypted_as_the_url_asks() {
        let Some(url) = flowstate_test_support::postgres_schema("tls") else { return };
        assert!(!encrypted(&format!("{url}&sslmode=disable")).unwrap(), "disable: plain");
        let server_offers_tls = encrypted(&format!("{url}&sslmode=prefer")).unwrap();
        if !server_offers_tls {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: the test server does not offer TLS ***\n");
            return;
        }
        assert!(encrypted(&url).unwrap(), "prefer is the default");
        assert!(encrypted(&format!("{url}&sslmode=require")).unwrap());

        let snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
        if std::path::Path::new(snakeoil).exists() {
            let localhost = url.replace("127.0.0.1", "localhost");
            assert!(encrypted(&format!("{localhost}&sslmode=verify-full&sslrootcert={snakeoil}")).unwrap());
            assert!(encrypted(&format!("{url}&sslmode=verify-ca&sslrootcert={snakeoil}")).unwrap(), "any name");
            let error = encrypted(&format!("{url}&sslmode=verify-full&sslrootcert={snakeoil}")).unwrap_err();
            assert!(
                error.to_string().contains("connecting to PostgreSQL"),
                "127.0.0.1 is not the certificate's name: {error}"
            );
        }
        // A CA that did not sign the server's certificate.
        let other_ca = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("other-ca.pem");
        std::fs::write(&path, other_ca.cert.pem()).unwrap();
        let error = encrypted(&format!("{url}&sslmode=verify-ca&sslrootcert={}", path.display())).unwrap_err();
        assert!(error.to_string().contains("connecting to PostgreSQL"), "{error}");
    }
}
