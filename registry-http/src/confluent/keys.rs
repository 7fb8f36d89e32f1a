//! The key registry's routes, `/dek-registry/v1/keks/...`, as Confluent's `DekRegistryResource` serves them: KEKs
//! and the DEKs wrapped with them, for the clients' field-level encryption. Deletes and undeletes answer 204 with
//! no body; a body of the wrong shape is 400; an unknown `algorithm` is 404, as Jersey answers an unparsable
//! parameter.

use std::collections::BTreeMap;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use registry_core::VersionSelector;
use registry_store::{Dek, DekAlgorithm, Kek, KekUpdate, NewDek, NewKek};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ApiResult, on_pool, version};
use crate::extract::{BodyBytes, Path, Query, Sr};
use crate::{ApiError, SharedState};

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/dek-registry/v1/keks", get(kek_names).post(create_kek))
        .route("/dek-registry/v1/keks/{name}", get(get_kek).put(update_kek).delete(delete_kek))
        .route("/dek-registry/v1/keks/{name}/undelete", post(undelete_kek))
        .route("/dek-registry/v1/keks/{name}/test", post(test_kek))
        .route("/dek-registry/v1/keks/{name}/deks", get(dek_subjects).post(create_dek_from_body))
        .route("/dek-registry/v1/keks/{name}/deks/{subject}", get(first_dek).post(create_dek).delete(delete_deks))
        .route("/dek-registry/v1/keks/{name}/deks/{subject}/undelete", post(undelete_deks))
        .route("/dek-registry/v1/keks/{name}/deks/{subject}/versions", get(dek_versions))
        .route("/dek-registry/v1/keks/{name}/deks/{subject}/versions/{version}", get(get_dek).delete(delete_deks))
        .route("/dek-registry/v1/keks/{name}/deks/{subject}/versions/{version}/undelete", post(undelete_deks))
}

/// The query parameters of the key registry's routes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFlags {
    deleted: Option<String>,
    permanent: Option<String>,
    algorithm: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

impl KeyFlags {
    /// A boolean parameter as Confluent reads one: `true` in any case is true, anything else false.
    fn is(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn deleted(&self) -> bool {
        Self::is(&self.deleted)
    }

    fn permanent(&self) -> bool {
        Self::is(&self.permanent)
    }

    /// The algorithm named (default AES256_GCM); another name is not found, as Confluent answers it.
    fn algorithm(&self) -> ApiResult<DekAlgorithm> {
        match self.algorithm.as_deref() {
            None => Ok(DekAlgorithm::default()),
            Some(name) => name.parse().map_err(|name| {
                ApiError::new(StatusCode::NOT_FOUND, 404, format!("HTTP 404 Not Found: unknown algorithm '{name}'"))
            }),
        }
    }

    /// `items` from `offset`, at most `limit` of them (none, or one not above 0: all).
    fn page<T>(&self, items: Vec<T>) -> ApiResult<Vec<T>> {
        let number = |value: &Option<String>, name: &str| -> ApiResult<Option<i64>> {
            value
                .as_deref()
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        ApiError::new(StatusCode::NOT_FOUND, 404, format!("HTTP 404 Not Found: {name} '{v}'"))
                    })
                })
                .transpose()
        };
        let offset = number(&self.offset, "offset")?.unwrap_or(0);
        let offset = usize::try_from(offset).map_err(|_| ApiError::bad_request("offset must not be negative"))?;
        let limit = number(&self.limit, "limit")?.filter(|l| *l > 0).map_or(usize::MAX, |l| l as usize);
        Ok(items.into_iter().skip(offset).take(limit).collect())
    }
}

/// A request body: JSON of the expected shape, else 400 (Jackson's mapping errors are 400 to Confluent).
fn body<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// `POST /dek-registry/v1/keks` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateKek {
    name: Option<String>,
    kms_type: Option<String>,
    kms_key_id: Option<String>,
    kms_props: Option<BTreeMap<String, String>>,
    doc: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    shared: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    deleted: Option<bool>,
}

/// `PUT /dek-registry/v1/keks/{name}` body: each field left out is kept, `null` clears it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateKek {
    #[serde(default, deserialize_with = "present")]
    kms_props: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "present")]
    doc: Option<Option<String>>,
    #[serde(default, deserialize_with = "lenient_bool")]
    shared: Option<bool>,
}

/// `POST .../deks` bodies.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDek {
    subject: Option<String>,
    #[serde(default, deserialize_with = "super::dto::number_or_numeric_string")]
    version: Option<i64>,
    algorithm: Option<DekAlgorithm>,
    encrypted_key_material: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    deleted: Option<bool>,
}

/// A member given, `null` or not (`Some(None)` for `null`); a member left out is `None` through `default`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A boolean as Jackson reads one: `true`/`false`, or a string holding one.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(value)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(D::Error::custom(format!("expected a boolean, found {other}"))),
    }
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A missing required field of a key.
fn missing(field: &'static str) -> ApiError {
    registry_store::RegistryError::InvalidKey { field, why: None }.into()
}

async fn kek_names(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Query(flags): Query<KeyFlags>,
    uri: axum::http::Uri,
) -> ApiResult<Sr<Vec<String>>> {
    // `subjectPrefix` may repeat, which `Query` cannot gather.
    let query = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes());
    let prefixes: Vec<String> =
        query.filter(|(name, _)| name == "subjectPrefix").map(|(_, value)| value.into_owned()).collect();
    let deleted = flags.deleted();
    let names = on_pool(&state.registry, move |r| r.kek_names(&prefixes, deleted)).await?;
    Ok(Sr(flags.page(names)?))
}

async fn create_kek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    BodyBytes(bytes): BodyBytes,
) -> ApiResult<Sr<Kek>> {
    let request: CreateKek = body(&bytes)?;
    let name = request.name.ok_or_else(|| missing("name"))?;
    let kms_key_id = request.kms_key_id.filter(|id| !id.is_empty()).ok_or_else(|| missing("kmsKeyId"))?;
    let kms_type = request.kms_type.ok_or_else(|| missing("kmsType"))?;
    let new = NewKek {
        name,
        kms_type,
        kms_key_id,
        kms_props: request.kms_props.unwrap_or_default(),
        doc: request.doc,
        shared: request.shared.unwrap_or(false),
        deleted: request.deleted.unwrap_or(false),
    };
    Ok(Sr(on_pool(&state.registry, move |r| r.create_kek(new)).await?))
}

async fn get_kek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Sr<Kek>> {
    let deleted = flags.deleted();
    Ok(Sr(on_pool(&state.registry, move |r| r.kek_with(&name, deleted)).await?))
}

async fn update_kek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(name): Path<String>,
    BodyBytes(bytes): BodyBytes,
) -> ApiResult<Sr<Kek>> {
    let request: UpdateKek = body(&bytes)?;
    let update = KekUpdate { kms_props: request.kms_props, doc: request.doc, shared: request.shared };
    Ok(Sr(on_pool(&state.registry, move |r| r.update_kek(&name, update)).await?))
}

async fn delete_kek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Response> {
    let permanent = flags.permanent();
    on_pool(&state.registry, move |r| r.delete_kek(&name, permanent)).await?;
    Ok(no_content())
}

async fn undelete_kek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    on_pool(&state.registry, move |r| r.undelete_kek(&name)).await?;
    Ok(no_content())
}

/// `POST .../test`: a test of a shared KEK's KMS access, which this registry never has; every KEK here is not
/// shared, which is Confluent's answer for one that is not.
async fn test_kek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    on_pool(&state.registry, move |r| r.kek(&name)).await?;
    Err(missing("shared"))
}

async fn dek_subjects(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Sr<Vec<String>>> {
    let deleted = flags.deleted();
    let subjects = on_pool(&state.registry, move |r| r.dek_subjects(&name, deleted)).await?;
    Ok(Sr(flags.page(subjects)?))
}

/// Creates a DEK from a request body, its subject `subject` (from the path) or the body's own.
async fn create_from(state: SharedState, kek: String, subject: Option<String>, bytes: &[u8]) -> ApiResult<Sr<Dek>> {
    let request: CreateDek = body(bytes)?;
    let subject = subject.or(request.subject).ok_or_else(|| missing("subject"))?;
    let version = match request.version {
        None => None,
        Some(number) => match version(&number.to_string())? {
            VersionSelector::Number(v) => Some(v),
            VersionSelector::Latest => return Err(missing("version")),
        },
    };
    let new = NewDek {
        subject,
        version,
        algorithm: request.algorithm,
        encrypted_key_material: request.encrypted_key_material,
        deleted: request.deleted.unwrap_or(false),
    };
    Ok(Sr(on_pool(&state.registry, move |r| r.create_dek(&kek, new)).await?))
}

async fn create_dek_from_body(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(name): Path<String>,
    BodyBytes(bytes): BodyBytes,
) -> ApiResult<Sr<Dek>> {
    create_from(state, name, None, &bytes).await
}

async fn create_dek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path((name, subject)): Path<(String, String)>,
    BodyBytes(bytes): BodyBytes,
) -> ApiResult<Sr<Dek>> {
    create_from(state, name, Some(subject), &bytes).await
}

/// Reads one DEK.
async fn read_dek(
    state: SharedState,
    kek: String,
    subject: String,
    version: VersionSelector,
    flags: &KeyFlags,
) -> ApiResult<Sr<Dek>> {
    let (algorithm, deleted) = (flags.algorithm()?, flags.deleted());
    Ok(Sr(on_pool(&state.registry, move |r| r.dek(&kek, &subject, version, algorithm, deleted)).await?))
}

/// `GET .../deks/{subject}`: version 1, as Confluent answers it (the latest is `/versions/latest`).
async fn first_dek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path((name, subject)): Path<(String, String)>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Sr<Dek>> {
    read_dek(state, name, subject, VersionSelector::Number(registry_core::Version::FIRST), &flags).await
}

async fn get_dek(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path((name, subject, number)): Path<(String, String, String)>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Sr<Dek>> {
    let selector = version(&number)?;
    read_dek(state, name, subject, selector, &flags).await
}

async fn dek_versions(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path((name, subject)): Path<(String, String)>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Sr<Vec<u32>>> {
    let (algorithm, deleted) = (flags.algorithm()?, flags.deleted());
    let versions = on_pool(&state.registry, move |r| r.dek_versions(&name, &subject, algorithm, deleted)).await?;
    Ok(Sr(flags.page(versions)?))
}

/// Deletes one version of a subject's DEKs, or all of them (`None`).
async fn remove(
    state: SharedState,
    kek: String,
    subject: String,
    version: Option<VersionSelector>,
    flags: &KeyFlags,
) -> ApiResult<Response> {
    let (algorithm, permanent) = (flags.algorithm()?, flags.permanent());
    on_pool(&state.registry, move |r| r.delete_deks(&kek, &subject, version, algorithm, permanent)).await?;
    Ok(no_content())
}

/// Brings back one version of a subject's DEKs, or all of them (`None`).
async fn restore(
    state: SharedState,
    kek: String,
    subject: String,
    version: Option<VersionSelector>,
    flags: &KeyFlags,
) -> ApiResult<Response> {
    let algorithm = flags.algorithm()?;
    on_pool(&state.registry, move |r| r.undelete_deks(&kek, &subject, version, algorithm)).await?;
    Ok(no_content())
}

/// The KEK, subject and, on the routes that name one, version of a DEK route.
#[derive(Debug, Deserialize)]
struct DekPath {
    name: String,
    subject: String,
    version: Option<String>,
}

impl DekPath {
    /// The version named, if the route names one.
    fn selector(&self) -> ApiResult<Option<VersionSelector>> {
        self.version.as_deref().map(version).transpose()
    }
}

/// `DELETE .../deks/{subject}` (every version) and `.../versions/{version}` (one).
async fn delete_deks(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(path): Path<DekPath>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Response> {
    let selector = path.selector()?;
    remove(state, path.name, path.subject, selector, &flags).await
}

/// `POST .../deks/{subject}/undelete` (every version) and `.../versions/{version}/undelete` (one).
async fn undelete_deks(
    axum::extract::State(state): axum::extract::State<SharedState>,
    Path(path): Path<DekPath>,
    Query(flags): Query<KeyFlags>,
) -> ApiResult<Response> {
    let selector = path.selector()?;
    restore(state, path.name, path.subject, selector, &flags).await
}
