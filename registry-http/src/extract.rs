//! Extractors and responders for the wire formats: JSON bodies under the accepted content types, query and
//! path parameters with JSON errors, and responses in Confluent's content type.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Confluent's response content type.
pub(crate) static CONTENT_TYPE_V1: HeaderValue = HeaderValue::from_static("application/vnd.schemaregistry.v1+json");

/// Request content types accepted for JSON bodies.
const ACCEPTED: [&str; 4] = [
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
];

/// A JSON request body: content type checked, size bounded, errors as JSON.
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let BodyBytes(bytes) = BodyBytes::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A request body's bytes, unparsed, with the content type and size checks of [`JsonBody`]: for a handler that
/// can answer from the bytes alone before parsing them ([`parse_json`]).
pub(crate) struct BodyBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        accepted_content_type(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(unreadable_body)?;
        Ok(BodyBytes(bytes))
    }
}

/// A body that cannot be read: 413 past the limit, else 400 (the client went away). The server's registration
/// shortcut (`front.rs`) answers the same.
pub(crate) fn unreadable_body(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, 413, "request body is larger than the server's limit")
    } else {
        ApiError::bad_request(format!("cannot read the request body: {}", e.body_text()))
    }
}

/// Reads a whole body of at most `limit` bytes, answering as [`unreadable_body`] does when it cannot: 413 past the
/// limit, else 400.
pub(crate) async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, 413, "request body is larger than the server's limit"))
        }
        Err(e) => Err(ApiError::bad_request(format!("cannot read the request body: {e}"))),
    }
}

/// Refuses (415) a body whose content type is not one of the JSON types Confluent's clients send; none is fine.
pub(crate) fn accepted_content_type(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let essence = content_type.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if ACCEPTED.contains(&essence.as_str()) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        415,
        format!(
            "unsupported content type '{essence}': send application/vnd.schemaregistry.v1+json or application/json"
        ),
    ))
}

/// Parses a JSON request body: 400 for malformed JSON, 422 for JSON of the wrong shape.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::unprocessable(format!("invalid request body: {e}"))
        } else {
            ApiError::bad_request(format!("malformed JSON in the request body: {e}"))
        }
    })
}

/// Query parameters, with a JSON 400 for values that do not parse.
pub(crate) struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::bad_request(format!("invalid query parameter: {}", e.body_text())))
    }
}

/// Path parameters, with a JSON 400 when they do not parse.
pub(crate) struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))
    }
}

/// A JSON answer in Confluent's content type.
pub(crate) struct Sr<T>(pub T);

impl<T: Serialize> IntoResponse for Sr<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE_V1.clone())], body).into_response(),
            Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, 50001, format!("cannot encode the answer: {e}"))
                .into_response(),
        }
    }
}

/// A JSON answer with a status.
pub(crate) struct SrStatus<T>(pub StatusCode, pub T);

impl<T: Serialize> IntoResponse for SrStatus<T> {
    fn into_response(self) -> Response {
        let mut response = Sr(self.1).into_response();
        if response.status().is_success() {
            *response.status_mut() = self.0;
        }
        response
    }
}

/// A ready body (a schema as registered, or a pre-rendered answer), in Confluent's content type.
pub(crate) struct RawSchema(pub Bytes);

impl IntoResponse for RawSchema {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, CONTENT_TYPE_V1.clone())], self.0).into_response()
    }
}

/// `true`/`false` query flags as Confluent spells them.
pub(crate) fn flag(value: &Option<String>) -> Result<bool, ApiError> {
    match value.as_deref() {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!("invalid boolean '{v}': use true or false"))),
    }
}

/// The length a request's `Content-Length` declares, when it is past `limit`.
pub(crate) fn declared_oversize(headers: &axum::http::HeaderMap, limit: usize) -> Option<u64> {
    let declared = headers.get(axum::http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    (declared > limit as u64).then_some(declared)
}

/// Answers 413 at once to a request whose declared `Content-Length` is past the body limit, before any of its body
/// is read: a client declaring 100 MB and sending slowly is not waited for.
pub(crate) async fn refuse_declared_oversize(
    axum::extract::State(state): axum::extract::State<crate::SharedState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match declared_oversize(request.headers(), state.max_body_bytes) {
        Some(length) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            413,
            format!(
                "request body is larger than the server's limit: {length} bytes declared, {} at most",
                state.max_body_bytes
            ),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}
