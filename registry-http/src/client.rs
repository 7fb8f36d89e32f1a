//! A small HTTP/1.1 client for the commands that talk to a running registry (this project's or any
//! Confluent-compatible one): `mcp --url`, `migrate`, `compat --registry`. One keep-alive connection, reopened
//! when the server closes it; TLS with rustls (ring) trusting the PEM certificates named, and Basic, Bearer or
//! API-key auth.

use std::path::Path;
use std::sync::Arc;

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

/// A server's answer: status, content type and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
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

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

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
    /// A client of the server at `url`. An `https://` URL needs the certificate to trust in `ca` (a PEM file
    /// holding it or its chain). Credentials in the URL (`https://user:password@host`) are Basic auth unless
    /// `credentials` names others.
    pub fn new(url: &str, credentials: Credentials, ca: Option<&Path>) -> Result<Self, String> {
        let uri: axum::http::Uri = url.parse().map_err(|e| format!("invalid URL {url}: {e}"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(format!("{url}: use http:// or https://")),
        };
        let host = uri.host().ok_or_else(|| format!("{url} names no host"))?;
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
        let tls = match (https, ca) {
            (false, _) => None,
            (true, None) => return Err(format!("{url} is https: name the certificate to trust (--ca)")),
            (true, Some(ca)) => Some(connector(ca)?),
        };
        let shown = match uri.authority() {
            Some(authority) => url.replacen(authority.as_str(), &format!("{host}:{port}"), 1),
            None => url.to_string(),
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
    pub async fn get(&self, path: &str) -> Result<Answer, String> {
        self.send(Method::GET, path, None, &[]).await
    }

    /// A request with a JSON body.
    pub async fn send_json(&self, method: Method, path: &str, body: &serde_json::Value) -> Result<Answer, String> {
        self.send(method, path, Some(Bytes::from(body.to_string())), &[("content-type", "application/json")]).await
    }

    /// A request: `path` after the base URL's path, an optional body, extra headers. Tries once more on a fresh
    /// connection when a kept-alive one turns out closed.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut connection = self.connection.lock().await;
        for attempt in 0..2 {
            let mut sender = match connection.take() {
                Some(sender) if !sender.is_closed() => sender,
                _ => self.connect().await?,
            };
            if sender.ready().await.is_err() {
                continue;
            }
            let request = self.request(method.clone(), path, body.clone(), headers)?;
            match sender.send_request(request).await {
                Ok(response) => {
                    let answer = collect(response).await?;
                    *connection = Some(sender);
                    return Ok(answer);
                }
                // A kept-alive connection the server had closed: once more on a new one.
                Err(e) if attempt == 0 && (e.is_canceled() || e.is_closed() || e.is_incomplete_message()) => continue,
                Err(e) => return Err(format!("{method} {}{path} failed: {e}", self.url)),
            }
        }
        Err(format!("{method} {}{path} failed: the connection closed", self.url))
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        headers: &[(&str, &str)],
    ) -> Result<Request<Full<Bytes>>, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_path))
            .header("host", format!("{}:{}", self.host, self.port));
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

    async fn connect(&self) -> Result<Sender, String> {
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot reach {}: {e}", self.url))?;
        let _ = stream.set_nodelay(true);
        match &self.tls {
            None => handshake(hyper_util::rt::TokioIo::new(stream)).await,
            Some(tls) => {
                let name = tokio_rustls::rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| format!("invalid host {}: {e}", self.host))?;
                let stream = tls.connect(name, stream).await.map_err(|e| format!("TLS with {}: {e}", self.url))?;
                handshake(hyper_util::rt::TokioIo::new(stream)).await
            }
        }
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
    let content_type = response.headers().get("content-type").and_then(|t| t.to_str().ok()).map(str::to_string);
    let body = response.into_body().collect().await.map_err(|e| format!("reading the answer: {e}"))?.to_bytes();
    Ok(Answer { status, content_type, body })
}

/// A TLS connector trusting the certificates of the PEM file `ca` (ring, as the server).
fn connector(ca: &Path) -> Result<tokio_rustls::TlsConnector, String> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read a certificate from {}: {e}", ca.display()))?;
    for cert in certs {
        roots.add(cert).map_err(|e| format!("cannot trust a certificate of {}: {e}", ca.display()))?;
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// A subject (or context) as a path segment: everything but unreserved characters and `:` percent-encoded.
pub fn segment(subject: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b':');
    percent_encoding::utf8_percent_encode(subject, SET).to_string()
}
