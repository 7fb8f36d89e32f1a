//! A lean HTTP/1.1 client for loopback load: one hyper connection per `Client`, kept alive across requests and
//! re-opened after an error. No pooling, no TLS, no redirects: the load generator decides which connection sends
//! what.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How long one request may take before it counts as a timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be opened.
    Connect,
    /// The connection broke while sending or receiving.
    Transport,
    /// No answer within [`REQUEST_TIMEOUT`].
    Timeout,
}

impl Failure {
    /// The label used in reports.
    pub fn label(self) -> &'static str {
        match self {
            Failure::Connect => "connect",
            Failure::Transport => "transport",
            Failure::Timeout => "timeout",
        }
    }
}

/// One keep-alive HTTP/1.1 connection to one address.
pub struct Client {
    addr: SocketAddr,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// How many times a connection was (re)opened.
    pub connects: u64,
}

/// Whether an address is on this machine: the load generator sends traffic nowhere else.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    match addr.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback(),
    }
}

impl Client {
    /// A client for `addr`; it connects on first use. Panics on a non-loopback address (a bug: the caller checks).
    pub fn new(addr: SocketAddr) -> Self {
        assert!(is_loopback(&addr), "the load generator only talks to loopback addresses");
        let host = HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid header value");
        Self { addr, host, sender: None, connects: 0 }
    }

    async fn connect(&mut self) -> Result<(), Failure> {
        let stream = TcpStream::connect(self.addr).await.map_err(|_| Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|_| Failure::Connect)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.sender = Some(sender);
        self.connects += 1;
        Ok(())
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes), Failure> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.send_inner(method, path, body)).await {
            Ok(result) => result,
            Err(_) => {
                // The connection may still carry the late answer: drop it.
                self.sender = None;
                Err(Failure::Timeout)
            }
        }
    }

    async fn send_inner(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes), Failure> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.connect().await?;
        }
        let Some(sender) = self.sender.as_mut() else { return Err(Failure::Connect) };
        let has_body = body.is_some();
        let mut request = Request::builder().method(method).uri(path).header(HOST, self.host.clone());
        if has_body {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(body.unwrap_or_default())).map_err(|_| Failure::Transport)?;
        let outcome = async {
            sender.ready().await.map_err(|_| Failure::Transport)?;
            let response = sender.send_request(request).await.map_err(|_| Failure::Transport)?;
            let status = response.status();
            let bytes = response.into_body().collect().await.map_err(|_| Failure::Transport)?.to_bytes();
            Ok((status, bytes))
        }
        .await;
        if outcome.is_err() {
            self.sender = None;
        }
        outcome
    }
}
