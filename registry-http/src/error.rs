//! `ApiError`: every failure as an HTTP status and a JSON body `{"error_code", "message", "request_id"}`,
//! with Confluent's codes. The one place where library errors become responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use registry_core::compat::InvalidLevel;
use registry_core::{SchemaError, SubjectError, VersionError};
use registry_store::{InvalidMode, InvalidSemVer, InvalidState, RegistryError};
use serde_json::json;

use crate::extract::CONTENT_TYPE_V1;

/// An error answer: status, Confluent error code and message.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Confluent's code (e.g. 40401), or the status itself where Confluent has none.
    pub code: u32,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// 400 with code 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 400, message)
    }

    /// 422 with code 422: a body that parses but does not fit.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, 422, message)
    }

    /// 404 with code 40403.
    pub fn schema_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, 40403, format!("Schema {id} not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error_code": self.code,
            "message": self.message,
            "request_id": crate::context::current_request_id(),
        });
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(axum::http::header::CONTENT_TYPE, CONTENT_TYPE_V1.clone());
        response
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        use RegistryError as E;
        // Every variant is named, so a new one reaches only the last arm: `RegistryError` is `#[non_exhaustive]`,
        // so the compiler cannot flag it here and `tests/error_codes.rs` does.
        let (status, code) = match &e {
            E::SubjectNotFound(_) => (StatusCode::NOT_FOUND, 40401),
            E::VersionNotFound { .. } | E::SemVerNotFound { .. } => (StatusCode::NOT_FOUND, 40402),
            E::SchemaNotFound(_) | E::SchemaNotInSubject(_) | E::GuidNotFound(_) => (StatusCode::NOT_FOUND, 40403),
            E::SubjectSoftDeleted(_) => (StatusCode::NOT_FOUND, 40404),
            E::SubjectNotSoftDeleted(_) => (StatusCode::NOT_FOUND, 40405),
            E::VersionSoftDeleted { .. } => (StatusCode::NOT_FOUND, 40406),
            E::VersionNotSoftDeleted { .. } => (StatusCode::NOT_FOUND, 40407),
            E::InvalidSubject { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42208),
            E::SubjectLevelNotConfigured(_) => (StatusCode::NOT_FOUND, 40408),
            E::SubjectModeNotConfigured(_) => (StatusCode::NOT_FOUND, 40409),
            E::Incompatible { .. } => (StatusCode::CONFLICT, 409),
            E::InvalidSchema(SchemaError::TooLarge { .. }) => (StatusCode::UNPROCESSABLE_ENTITY, 42209),
            E::InvalidSchema(SchemaError::InvalidRuleSet(_)) => (StatusCode::UNPROCESSABLE_ENTITY, 42210),
            E::InvalidSchema(_) | E::VersionNotNext { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            E::InvalidSettings(registry_store::InvalidSettings::RuleSet(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, 42210)
            }
            E::InvalidSettings(_) => (StatusCode::BAD_REQUEST, 400),
            E::CompatibilityUnavailable(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            E::CannotValidate(_) => (StatusCode::UNPROCESSABLE_ENTITY, 422),
            E::SemVerNotIncreasing { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            // The refusals `RegistryError::is_not_permitted` names; the test holds the two lists together.
            E::ReadOnly(_)
            | E::RegistryReadOnly
            | E::NotImportMode(_)
            | E::ImportNotEmpty
            | E::IdMismatch { .. }
            | E::IdTaken(_)
            | E::VersionExists { .. }
            | E::VersionsExhausted(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42205),
            E::ReferenceExists { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42206),
            E::ContextNotEmpty(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42211),
            E::StateTransition { .. } => (StatusCode::CONFLICT, 40910),
            E::Storage(e) if e.is_unavailable() => (StatusCode::SERVICE_UNAVAILABLE, 50003),
            E::SubjectMoving(_) => (StatusCode::SERVICE_UNAVAILABLE, 50003),
            E::KeyNotFound(_) => (StatusCode::NOT_FOUND, 40470),
            E::KeyNotSoftDeleted(_) => (StatusCode::NOT_FOUND, 40471),
            E::KekMustBeUndeleted(_) => (StatusCode::NOT_FOUND, 40472),
            E::KeyExists(_) => (StatusCode::CONFLICT, 40971),
            E::TooManyKeys(_) => (StatusCode::CONFLICT, 40972),
            E::InvalidKey { .. } => (StatusCode::UNPROCESSABLE_ENTITY, 42271),
            E::KeyReferenced(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42272),
            E::Storage(_)
            | E::Corrupt(_)
            | E::UnsupportedFormat { .. }
            | E::IdsExhausted
            | E::Closing
            | E::TargetNotEmpty
            | E::InvalidStore(_)
            | E::InUse(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
            // A variant newer than this match; `tests/error_codes.rs` fails until it has a row of its own.
            _ => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "store error");
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %e, "store unavailable");
        }
        let message = match &e {
            // Confluent's message is the rule's problem alone.
            E::InvalidSchema(SchemaError::InvalidRuleSet(rule))
            | E::InvalidSettings(registry_store::InvalidSettings::RuleSet(rule)) => rule.message.clone(),
            e => e.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<SchemaError> for ApiError {
    fn from(e: SchemaError) -> Self {
        RegistryError::InvalidSchema(e).into()
    }
}

impl From<SubjectError> for ApiError {
    fn from(e: SubjectError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42208, format!("Invalid subject: {e}"))
    }
}

impl From<VersionError> for ApiError {
    fn from(e: VersionError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42202, e.to_string())
    }
}

impl From<InvalidLevel> for ApiError {
    fn from(e: InvalidLevel) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42203, e.to_string())
    }
}

impl From<InvalidMode> for ApiError {
    fn from(e: InvalidMode) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42204, e.to_string())
    }
}

/// A lifecycle state name that is not one: 422, as an invalid mode is.
impl From<InvalidState> for ApiError {
    fn from(e: InvalidState) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42212, e.to_string())
    }
}

impl From<InvalidSemVer> for ApiError {
    fn from(e: InvalidSemVer) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42202, e.to_string())
    }
}

/// Unknown routes: 404 with a JSON body.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, 404, format!("HTTP 404 Not Found: no route for {}", uri.path()))
}

/// Known routes with another method: 405 with a JSON body.
pub(crate) async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, 405, format!("HTTP 405 Method Not Allowed: {method} {}", uri.path()))
}
