//! Serving the app over TCP with the limits a server needs against slow or hostile clients: how long it waits
//! for a request's headers (an idle keep-alive connection included), how long a request's body may stall, and
//! how many connections it holds at once. A stalled client costs a socket until its timeout, and nothing else.
//! With [`Tls`], every connection is TLS (rustls with the ring provider), so API keys never cross the network in
//! clear; a TLS handshake is bounded by the header timeout.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower::Service;

use crate::Server;

/// How the server bounds what a connection can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long it waits for a request's headers, from the moment it is ready for them: a new connection, or a
    /// keep-alive connection after its last answer (so this is also the keep-alive idle timeout).
    pub header_timeout: Duration,
    /// The longest a request's body may go without sending anything.
    pub body_timeout: Duration,
    /// Connections held at once; one past it is closed at once.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self { header_timeout: Duration::from_secs(30), body_timeout: Duration::from_secs(30), max_connections: 10_000 }
    }
}

/// What the server presents to TLS clients: a certificate chain and its private key, read from two PEM files,
/// and read again by [`Tls::reload`] (on SIGHUP) so a renewed certificate is served without a restart.
#[derive(Clone)]
pub struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    current: Arc<Current>,
    files: Arc<(std::path::PathBuf, std::path::PathBuf)>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// The certificate and key every new handshake is given.
#[derive(Debug)]
struct Current(std::sync::RwLock<Arc<rustls::sign::CertifiedKey>>);

impl rustls::server::ResolvesServerCert for Current {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("cert", &self.files.0).field("key", &self.files.1).finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads a PEM certificate chain (the server's certificate first) and a PEM private key (PKCS#8, PKCS#1 or
    /// SEC1), and checks that they belong together. TLS 1.2 and 1.3, HTTP/1.1.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, String> {
        // The ring provider: no C toolchain to build, as the rest of the server. (It has no post-quantum key
        // exchange, hence the deprecation; X25519 and the NIST curves it has are what clients use today.)
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = Arc::new(Current(std::sync::RwLock::new(Arc::new(certified(cert, key, &provider)?))));
        let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            current,
            files: Arc::new((cert.to_path_buf(), key.to_path_buf())),
            provider,
        })
    }

    /// Reads the certificate and key files again; new handshakes get them. Files that cannot be used leave the
    /// certificate in use as it is.
    pub fn reload(&self) -> Result<(), String> {
        let fresh = certified(&self.files.0, &self.files.1, &self.provider)?;
        *self.current.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }
}

/// The certificate chain in `cert` with the private key in `key`, checked to belong together.
fn certified(
    cert: &Path,
    key: &Path,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<rustls::sign::CertifiedKey, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read a certificate from {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", cert.display()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read a private key from {}: {e}", key.display()))?;
    rustls::sign::CertifiedKey::from_der(certs, private, provider)
        .map_err(|e| format!("cannot use the certificate {} with the key {}: {e}", cert.display(), key.display()))
}

/// Serves `app` on `listener` within `limits` (over TLS with `tls`) until `shutdown` resolves; then stops
/// accepting, lets each connection finish the request it is in (up to 30 seconds), and returns.
pub async fn serve(
    listener: TcpListener,
    app: Server,
    limits: ServeLimits,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A connection that failed before it was accepted (reset, out of descriptors): the listener is fine.
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            ::metrics::counter!("http_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let (app, closed, tls) = (app.clone(), closed.clone(), tls.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => serve_connection(stream, app, limits, closed).await,
                // A client that does not finish its handshake in time is closed, as one that sends no headers is.
                Some(tls) => match tokio::time::timeout(limits.header_timeout, tls.acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => serve_connection(stream, app, limits, closed).await,
                    Ok(Err(error)) => {
                        ::metrics::counter!("http_tls_handshake_failures_total").increment(1);
                        tracing::debug!(%error, "a TLS handshake failed");
                    }
                    Err(_) => ::metrics::counter!("http_tls_handshake_failures_total").increment(1),
                },
            }
        });
    }
    let _ = closing.send(true);
    // Every connection gives its slot back when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(30), slots.acquire_many(all)).await;
    Ok(())
}

/// Serves HTTP/1.1 requests on one connection until the client closes it, a timeout closes it, or the server
/// shuts down (then the request in progress finishes first).
async fn serve_connection<S>(stream: S, app: Server, limits: ServeLimits, mut closed: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let body_timeout = limits.body_timeout;
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut app = app.clone();
        let request = request.map(|body| Body::new(TimeoutBody::new(body, body_timeout)));
        async move { app.call(request).await }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = closed.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

pin_project_lite::pin_project! {
    /// A request body that fails once it has sent nothing for `timeout`.
    struct TimeoutBody {
        #[pin]
        inner: Incoming,
        #[pin]
        stall: tokio::time::Sleep,
        timeout: Duration,
    }
}

impl TimeoutBody {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        Self { inner, stall: tokio::time::sleep(timeout), timeout }
    }
}

/// The error of a body that stalled.
#[derive(Debug, thiserror::Error)]
#[error("the request body sent nothing for {0:?}")]
struct Stalled(Duration);

impl HttpBody for TimeoutBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let mut this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + *this.timeout;
                this.stall.as_mut().reset(deadline);
                Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
            }
            Poll::Pending => match this.stall.poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Stalled(*this.timeout).into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
