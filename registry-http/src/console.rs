//! The web console at `/ui`: a page and its script and style sheet, compiled into the binary (no CDN, no build
//! step, nothing fetched at run time). The page holds no data: its script asks the REST APIs for everything it
//! shows, with the key the person enters (kept in the browser tab's session storage only), so the console sees
//! what that key may see and does what its role may do. Every path under `/ui/` answers the page, whose script
//! draws the view the path names: each view has a link of its own.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::SharedState;

/// The page.
const INDEX: &str = include_str!("../console/index.html");
/// Its script.
const SCRIPT: &str = include_str!("../console/console.js");
/// Its style sheet.
const STYLE: &str = include_str!("../console/console.css");

/// What the console's answers allow: its own script, style and the APIs of this origin, nothing else.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                      connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The console's routes, gzip-compressed for clients that take it.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/ui", get(page))
        .route("/ui/assets/console.js", get(script))
        .route("/ui/assets/console.css", get(style))
        .route("/ui/{*view}", get(page))
        .layer(tower_http::compression::CompressionLayer::new())
}

async fn page(headers: HeaderMap) -> Response {
    asset(&headers, INDEX, "text/html; charset=utf-8")
}

async fn script(headers: HeaderMap) -> Response {
    asset(&headers, SCRIPT, "text/javascript; charset=utf-8")
}

async fn style(headers: HeaderMap) -> Response {
    asset(&headers, STYLE, "text/css; charset=utf-8")
}

/// An asset's validator: a digest of its text, the same for as long as the binary is, computed once. Weak: the
/// gzipped and the plain answer carry the same one.
fn etag(body: &'static str) -> HeaderValue {
    use sha2::Digest;
    static TAGS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<usize, HeaderValue>>> =
        std::sync::LazyLock::new(Default::default);
    let mut tags = TAGS.lock().unwrap_or_else(|e| e.into_inner());
    tags.entry(body.as_ptr() as usize)
        .or_insert_with(|| {
            let digest = sha2::Sha256::digest(body.as_bytes());
            let hex = registry_core::hex(&digest[..12]);
            HeaderValue::from_str(&format!("W/\"{hex}\"")).expect("hex is a valid header value")
        })
        .clone()
}

/// An asset with its type, the console's content policy, and caching by revalidation: a browser asks again each
/// time (a new binary serves new assets at once) and gets 304 while it holds this one.
fn asset(request: &HeaderMap, body: &'static str, content_type: &'static str) -> Response {
    let tag = etag(body);
    let fresh = request.get(header::IF_NONE_MATCH).is_some_and(|held| {
        // Weak comparison, as If-None-Match asks: `W/` on either side is ignored.
        let bare = tag.to_str().unwrap_or_default().trim_start_matches("W/");
        held.to_str().is_ok_and(|held| held.split(',').any(|t| t.trim().trim_start_matches("W/") == bare))
    });
    let mut response =
        if fresh { StatusCode::NOT_MODIFIED.into_response() } else { (StatusCode::OK, body).into_response() };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, tag);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use registry_store::{Registry, RegistryOptions};
    use tower::ServiceExt;

    fn app() -> axum::Router {
        crate::app(crate::AppState::new(Registry::in_memory(RegistryOptions::default()).unwrap()))
    }

    async fn get(path: &str, headers: &[(header::HeaderName, &str)]) -> axum::response::Response {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        app().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
    }

    /// The script goes gzipped to a client that takes it, and a browser holding it gets 304 until the binary
    /// changes.
    #[tokio::test]
    async fn assets_are_compressed_and_revalidated() {
        let plain = get("/ui/assets/console.js", &[]).await;
        assert_eq!(plain.status(), StatusCode::OK);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let tag = plain.headers()[header::ETAG].to_str().unwrap().to_string();
        let gzipped = get("/ui/assets/console.js", &[(header::ACCEPT_ENCODING, "gzip")]).await;
        assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
        let body = axum::body::to_bytes(gzipped.into_body(), usize::MAX).await.unwrap();
        assert!(body.len() < super::SCRIPT.len() / 2, "{} of {}", body.len(), super::SCRIPT.len());
        let held = get("/ui/assets/console.js", &[(header::IF_NONE_MATCH, &tag)]).await;
        assert_eq!(held.status(), StatusCode::NOT_MODIFIED);
        let stale = get("/ui/assets/console.js", &[(header::IF_NONE_MATCH, "\"0123\"")]).await;
        assert_eq!(stale.status(), StatusCode::OK);
        let page = get("/ui/subjects/orders-value", &[]).await;
        assert_ne!(page.headers()[header::ETAG], tag.as_str(), "each asset has its own tag");
        let policy = page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe"), "{policy}");
    }
}
