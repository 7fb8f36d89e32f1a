//! A small HTTP/1.1 client for the commands that talk to a running registry (this project's or any
//! Confluent-compatible one): `mcp --url`, `migrate`, `compat --registry`. One keep-alive connection, reopened
//! when the server closes it; TLS with rustls (ring) trusting the PEM certificates named, and Basic, Bearer or
//! API-key auth.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use tokio::sync::Mutex;

/// How a client proves who it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials.
    #[default]
    None,
    /// `Authorization: Basic`, from `user:password`.
    Basic(String),
    /// `Authorization: Bearer`.
    Bearer(String),
    /// `X-API-Key`.
    ApiKey(String),
}

impl Credentials {
    /// The header that carries them, if any.
    fn header(&self) -> Option<(&'static str, String)> {
        use base64::Engine;
        match self {
            Self::None => None,
            Self::Basic(user_password) => Some((
                "authorization",
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password)),
            )),
            Self::Bearer(token) => Some(("authorization", format!("Bearer {token}"))),
            Self::ApiKey(key) => Some(("x-api-key", key.clone())),
        }
    }
}

/// A request that got no answer: why, and whether trying again may help (the server could not be reached, the
/// connection broke, no answer came in time) or not (TLS refused, a request that cannot be built).
#[derive(Debug, Clone)]
pub struct ClientError {
    /// What went wrong, for a message.
    pub message: String,
    /// Whether the same request may succeed later.
    pub transient: bool,
}

impl ClientError {
    fn transient(message: String) -> Self {
        Self { message, transient: true }
    }

    fn lasting(message: String) -> Self {
        Self { message, transient: false }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ClientError> for String {
    fn from(e: ClientError) -> Self {
        e.message
    }
}

/// A server's answer: status, content type and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
    /// The `Retry-After` header, when it is a number of seconds.
    pub retry_after: Option<u64>,
}

impl Answer {
    /// The body as JSON; an error names the status and the start of the body.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("the answer ({}) is not JSON: {e}: {}", self.status, self.text()))
    }

    /// The body as text (lossy), trimmed and cut at 500 characters, for messages.
    pub fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(500) {
            Some((at, _)) => format!("{}...", &text[..at]),
            None => text.to_string(),
        }
    }

    /// The pause a `Retry-After` header asks for, in seconds (the form servers of registries send).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after.map(Duration::from_secs)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Which certificates an `https://` server may present.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// One signed by a public certificate authority (Mozilla's list, compiled in).
    Public,
    /// One the PEM file's certificates vouch for (the server's own, or its authority's).
    Pem(&'a Path),
    /// Any: only for asking this machine's own listener whether it is up (`schema-registry health`), where no
    /// secret is sent and the certificate names a host other than the loopback address asked.
    AnyForLoopbackProbe,
}

impl<'a> Trust<'a> {
    /// `Pem` when a file is named, else `Public`.
    pub fn from_ca(ca: Option<&'a Path>) -> Self {
        ca.map_or(Self::Public, Self::Pem)
    }
}

/// How long one request may take, connection included, before it fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server at a base URL (`http://host:port/prefix` or `https://...`).
pub struct Remote {
    url: String,
    host: String,
    port: u16,
    base_path: String,
    tls: Option<tokio_rustls::TlsConnector>,
    credentials: Credentials,
    connection: Mutex<Option<Sender>>,
}

impl Remote {
    /// A client of the server at `url`, trusting, over https, the certificates `ca` names (a PEM file) or else the
    /// public authorities. Credentials in the URL (`https://user:password@host`) are Basic auth unless
    /// `credentials` names others; they never appear in messages.
    pub fn new(url: &str, credentials: Credentials, ca: Option<&Path>) -> Result<Self, String> {
        Self::with_trust(url, credentials, Trust::from_ca(ca))
    }

    /// A client of the server at `url`, trusting what `trust` says over https.
    pub fn with_trust(url: &str, credentials: Credentials, trust: Trust<'_>) -> Result<Self, String> {
        let uri: axum::http::Uri = url.parse().map_err(|e| format!("invalid URL {}: {e}", without_user_info(url)))?;
        let shown = without_user_info(url);
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(format!("{shown}: use http:// or https://")),
        };
        let host = uri.host().ok_or_else(|| format!("{shown} names no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut credentials = credentials;
        if let Some(authority) = uri.authority()
            && let Some((user_info, _)) = authority.as_str().rsplit_once('@')
            && credentials == Credentials::None
        {
            let decoded = percent_encoding::percent_decode_str(user_info).decode_utf8_lossy().into_owned();
            credentials = Credentials::Basic(decoded);
        }
        let tls = if https { Some(connector(trust)?) } else { None };
        let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let shown = match uri.authority() {
            Some(given) => url.replacen(given.as_str(), &authority, 1),
            None => shown,
        };
        Ok(Self {
            url: shown.trim_end_matches('/').to_string(),
            host,
            port,
            base_path: uri.path().trim_end_matches('/').to_string(),
            tls,
            credentials,
            connection: Mutex::new(None),
        })
    }

    /// The server's URL as given, without credentials, for messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET path` (after the base URL's path; with its query).
    pub async fn get(&self, path: &str) -> Result<Answer, ClientError> {
        self.send(Method::GET, path, None, &[]).await
    }

    /// A request with a JSON body.
    pub async fn send_json(&self, method: Method, path: &str, body: &serde_json::Value) -> Result<Answer, ClientError> {
        self.send(method, path, Some(Bytes::from(body.to_string())), &[("content-type", "application/json")]).await
    }

    /// A request: `path` after the base URL's path, an optional body, extra headers; at most a minute. A
    /// kept-alive connection found closed before the request went out is replaced by a new one; a request that
    /// went out is never sent again (a write may have been made).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, ClientError> {
        let request = self.request(method.clone(), path, body, headers).map_err(ClientError::lasting)?;
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request)).await {
            Ok(answer) => answer.map_err(|e| ClientError {
                message: format!("{method} {}{path} failed: {}", self.url, e.message),
                transient: e.transient,
            }),
            Err(_) => {
                // The connection may still carry the late answer: never reuse it.
                *self.connection.lock().await = None;
                Err(ClientError::transient(format!(
                    "{method} {}{path}: no answer within {} s",
                    self.url,
                    REQUEST_TIMEOUT.as_secs()
                )))
            }
        }
    }

    async fn exchange(&self, mut request: Request<Full<Bytes>>) -> Result<Answer, ClientError> {
        let mut connection = self.connection.lock().await;
        let mut fresh = false;
        loop {
            let mut sender = match connection.take() {
                Some(sender) if !sender.is_closed() => sender,
                _ => {
                    fresh = true;
                    self.connect().await?
                }
            };
            if sender.ready().await.is_err() {
                if fresh {
                    return Err(ClientError::transient("the connection closed at once".to_string()));
                }
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let answer = collect(response).await.map_err(ClientError::transient)?;
                    *connection = Some(sender);
                    return Ok(answer);
                }
                Err(mut e) => match e.take_message() {
                    // Not sent: the kept-alive connection had closed. Once more on a new one.
                    Some(unsent) if !fresh => request = unsent,
                    _ => return Err(ClientError::transient(e.into_error().to_string())),
                },
            }
        }
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        headers: &[(&str, &str)],
    ) -> Result<Request<Full<Bytes>>, String> {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_path))
            .header("host", format!("{host}:{}", self.port));
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("accept")) {
            request = request.header("accept", "application/json");
        }
        if let Some((name, value)) = self.credentials.header() {
            request = request.header(name, value);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Full::new(body.unwrap_or_default())).map_err(|e| format!("cannot build the request: {e}"))
    }

    async fn connect(&self) -> Result<Sender, ClientError> {
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| ClientError::transient(format!("cannot reach {}: {e}", self.url)))?;
        let _ = stream.set_nodelay(true);
        match &self.tls {
            None => handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(ClientError::transient),
            Some(tls) => {
                let name = tokio_rustls::rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| ClientError::lasting(format!("invalid host {}: {e}", self.host)))?;
                let stream = tls
                    .connect(name, stream)
                    .await
                    .map_err(|e| ClientError::lasting(format!("TLS with {}: {e}", self.url)))?;
                handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(ClientError::transient)
            }
        }
    }
}

/// `url` without the `user:password@` of its authority, for messages.
fn without_user_info(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

async fn handshake<S>(io: S) -> Result<Sender, String>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn collect(response: Response<hyper::body::Incoming>) -> Result<Answer, String> {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|t| t.to_str().ok()).map(str::to_string);
    let (content_type, retry_after) =
        (header("content-type"), header("retry-after").and_then(|s| s.trim().parse().ok()));
    let body = response.into_body().collect().await.map_err(|e| format!("reading the answer: {e}"))?.to_bytes();
    Ok(Answer { status, content_type, body, retry_after })
}

/// A TLS connector (ring, as the server) trusting what `trust` says.
fn connector(trust: Trust<'_>) -> Result<tokio_rustls::TlsConnector, String> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    let config = match trust {
        Trust::Public => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Pem(ca) => {
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read a certificate from {}: {e}", ca.display()))?;
            for cert in certs {
                roots.add(cert).map_err(|e| format!("cannot trust a certificate of {}: {e}", ca.display()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::AnyForLoopbackProbe => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Accepts any server certificate whose handshake signatures are sound: [`Trust::AnyForLoopbackProbe`].
#[derive(Debug)]
struct AnyCertificate(Arc<tokio_rustls::rustls::crypto::CryptoProvider>);

impl tokio_rustls::rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        _: &[tokio_rustls::rustls::pki_types::CertificateDer<'_>],
        _: &tokio_rustls::rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: tokio_rustls::rustls::pki_types::UnixTime,
    ) -> Result<tokio_rustls::rustls::client::danger::ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(tokio_rustls::rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        dss: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<tokio_rustls::rustls::client::danger::HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &tokio_rustls::rustls::pki_types::CertificateDer<'_>,
        dss: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<tokio_rustls::rustls::client::danger::HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<tokio_rustls::rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A subject (or context) as a path segment: everything but unreserved characters and `:` percent-encoded.
pub fn segment(subject: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b':');
    percent_encoding::utf8_percent_encode(subject, SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_become_basic_auth_and_never_show() {
        let remote = Remote::new("https://user:s%40cret@registry.example:8443/base/", Credentials::None, None).unwrap();
        assert_eq!(remote.url(), "https://registry.example:8443/base");
        assert_eq!(remote.credentials, Credentials::Basic("user:s@cret".into()));
        assert_eq!(remote.base_path, "/base");
        let Err(e) = Remote::new("ftp://user:secret@host", Credentials::None, None) else { panic!() };
        assert!(e.contains("use http:// or https://") && !e.contains("secret"), "{e}");
        assert_eq!(without_user_info("http://a:b@h:1/p@q"), "http://h:1/p@q");
        let named = Remote::new("http://user:pw@h", Credentials::Bearer("t".into()), None).unwrap();
        assert_eq!(named.credentials, Credentials::Bearer("t".into()), "credentials named win over the URL's");
    }

    #[test]
    fn an_ipv6_host_is_bracketed_in_the_host_header_and_messages() {
        let remote = Remote::new("http://[::1]:8081", Credentials::None, None).unwrap();
        assert_eq!(remote.url(), "http://[::1]:8081");
        let request = remote.request(Method::GET, "/health", None, &[]).unwrap();
        assert_eq!(request.headers()["host"], "[::1]:8081");
        assert_eq!(request.uri(), "/health");
    }
}
