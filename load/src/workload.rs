//! The operations the load generator sends and the state behind them: which ids exist, which version each subject
//! is at, prebuilt bodies. Turns "one operation, one random draw" into a concrete request; does no I/O itself.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bytes::Bytes;
use hyper::Method;
use serde_json::json;

use super::corpus::SubjectSpec;
use super::rng::Rng;

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// `GET /schemas/ids/{id}`.
    GetById,
    /// `POST /api/v1/validate/{id}` with `{"data": ...}` that the schema accepts.
    Validate,
    /// `POST /subjects/{s}/versions` with a new compatible version (one more optional field, or a revision of a
    /// schema at its size; see the corpus).
    RegisterNew,
    /// `POST /subjects/{s}/versions` with a schema the subject already has.
    RegisterExisting,
    /// `POST /compatibility/subjects/{s}/versions/latest` with a compatible candidate.
    Compatibility,
    /// `GET /subjects/{s}/versions/latest`.
    GetLatest,
    /// `GET /ceiling` against the ceiling server.
    Ceiling,
    /// `GET /` of the registry itself: its own trivial route, the `hot` preset's ceiling.
    ServerRoot,
}

impl Op {
    /// The operations against the registry, in report order.
    pub const REGISTRY: [Op; 6] =
        [Op::GetById, Op::GetLatest, Op::Validate, Op::RegisterExisting, Op::RegisterNew, Op::Compatibility];

    /// The name used in reports and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Op::GetById => "get-by-id",
            Op::Validate => "validate",
            Op::RegisterNew => "register-new",
            Op::RegisterExisting => "register-existing",
            Op::Compatibility => "compatibility",
            Op::GetLatest => "get-latest",
            Op::Ceiling => "ceiling-get",
            Op::ServerRoot => "server-root",
        }
    }

    /// The registry operation named `label` (as in reports).
    pub fn from_label(label: &str) -> Option<Op> {
        Op::REGISTRY.into_iter().find(|op| op.label() == label)
    }

    /// Whether the operation writes.
    pub fn is_write(self) -> bool {
        matches!(self, Op::RegisterNew | Op::RegisterExisting)
    }
}

/// A weighted choice of operations.
#[derive(Debug, Clone)]
pub struct Mix {
    entries: Vec<(Op, u32)>,
    total: u32,
}

impl Mix {
    /// A mix from `(operation, weight)` pairs; zero weights are dropped.
    pub fn new(entries: &[(Op, u32)]) -> Self {
        let entries: Vec<(Op, u32)> = entries.iter().copied().filter(|(_, w)| *w > 0).collect();
        let total = entries.iter().map(|(_, w)| w).sum();
        Self { entries, total }
    }

    /// One operation alone.
    pub fn only(op: Op) -> Self {
        Self::new(&[(op, 1)])
    }

    /// Draws one operation.
    pub fn draw(&self, rng: &mut Rng) -> Op {
        let mut x = rng.below(u64::from(self.total)) as u32;
        for (op, weight) in &self.entries {
            if x < *weight {
                return *op;
            }
            x -= weight;
        }
        self.entries.last().map(|(op, _)| *op).unwrap_or(Op::Ceiling)
    }

    /// The mix as `op=percent` pairs, for reports.
    pub fn describe(&self) -> String {
        self.entries
            .iter()
            .map(|(op, w)| format!("{} {:.0}%", op.label(), f64::from(*w) * 100.0 / f64::from(self.total.max(1))))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A schema id the preload registered, with what it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct RegisteredId {
    /// The subject's index in the corpus.
    pub subject: usize,
    /// The version's optional-field count.
    pub optional: u32,
    /// The global id.
    pub id: u64,
}

struct SubjectState {
    /// Versions after the first in the newest version known to be registered (the step
    /// [`SubjectSpec::register_body`] renders).
    latest_step: AtomicU32,
    /// Someone is registering a new version of this subject right now.
    writing: AtomicBool,
}

/// Everything the request generator draws from.
pub struct Workload {
    subjects: Vec<SubjectSpec>,
    states: Vec<SubjectState>,
    ids: Vec<RegisteredId>,
    existing_bodies: Vec<Vec<Bytes>>,
    validate_bodies: Vec<Bytes>,
    /// Whether the server has `POST /api/v1/validate/{id}`; when not, validate draws are skipped.
    pub validate_supported: bool,
    /// The index in `ids` every read, validation and repeated registration uses, as a benchmark repeating one
    /// request does (the `hot` preset); `None` draws from all.
    pinned: Option<usize>,
}

/// One concrete request, and on a new registration, the claim on its subject.
pub struct Planned<'a> {
    /// The method.
    pub method: Method,
    /// The path and query.
    pub path: String,
    /// The body, if any.
    pub body: Option<Bytes>,
    write: Option<WriteClaim<'a>>,
}

struct WriteClaim<'a> {
    workload: &'a Workload,
    subject: usize,
    step: u32,
    claimed: bool,
}

impl Drop for WriteClaim<'_> {
    fn drop(&mut self) {
        if self.claimed {
            self.workload.states[self.subject].writing.store(false, Ordering::Release);
        }
    }
}

impl Planned<'_> {
    /// Records the outcome: a successful new registration moves its subject's latest version on.
    pub fn finish(self, success: bool) {
        if let (Some(claim), true) = (&self.write, success) {
            claim.workload.states[claim.subject].latest_step.fetch_max(claim.step, Ordering::AcqRel);
        }
    }
}

impl Workload {
    /// A workload over a preloaded corpus.
    pub fn new(subjects: Vec<SubjectSpec>, ids: Vec<RegisteredId>, validate_supported: bool) -> Self {
        let states = subjects
            .iter()
            .map(|s| SubjectState {
                latest_step: AtomicU32::new(s.corpus_versions - 1),
                writing: AtomicBool::new(false),
            })
            .collect();
        let existing_bodies = subjects
            .iter()
            .map(|s| (0..s.corpus_versions).map(|o| Bytes::from(s.register_body(o))).collect())
            .collect();
        let validate_bodies = ids
            .iter()
            .map(|r| Bytes::from(json!({ "data": subjects[r.subject].data(r.optional) }).to_string()))
            .collect();
        Self { subjects, states, ids, existing_bodies, validate_bodies, validate_supported, pinned: None }
    }

    /// The same workload with every read, validation and repeated registration on the preloaded id at `index` and
    /// its subject; new registrations still go to every subject.
    pub fn pinned_to(mut self, index: usize) -> Self {
        self.pinned = Some(index.min(self.ids.len().saturating_sub(1)));
        self
    }

    /// The same workload validating a document of about `bytes` against the preloaded id at `index`.
    pub fn with_document_of(mut self, index: usize, bytes: usize) -> Self {
        if let Some(id) = self.ids.get(index) {
            let data = self.subjects[id.subject].data_of_size(id.optional, bytes);
            self.validate_bodies[index] = Bytes::from(json!({ "data": data }).to_string());
        }
        self
    }

    /// The index in the preloaded ids every read repeats, if pinned.
    pub fn pinned(&self) -> Option<usize> {
        self.pinned
    }

    /// The preloaded id the `hot` preset repeats: the JSON Schema version with the most fields, the longest
    /// document among those.
    pub fn hot_index(&self) -> Option<usize> {
        (0..self.ids.len()).filter(|&i| self.subjects[self.ids[i].subject].format.schema_type() == "JSON").max_by_key(
            |&i| {
                let id = &self.ids[i];
                (self.subjects[id.subject].field_count(id.optional), self.validate_bodies[i].len())
            },
        )
    }

    /// A workload with no corpus, for the ceiling server.
    pub fn empty() -> Self {
        Self::new(Vec::new(), Vec::new(), false)
    }

    /// The corpus.
    pub fn subjects(&self) -> &[SubjectSpec] {
        &self.subjects
    }

    /// The preloaded ids.
    pub fn ids(&self) -> &[RegisteredId] {
        &self.ids
    }

    /// A `{"data": ...}` body for the preloaded id at `index`.
    pub fn validate_body(&self, index: usize) -> Bytes {
        self.validate_bodies[index].clone()
    }

    /// Builds the request for `op`, or `None` when it is to be skipped (validate without the route, or nothing
    /// preloaded to draw from).
    pub fn plan(&self, op: Op, rng: &mut Rng) -> Option<Planned<'_>> {
        let simple = |method: Method, path: String, body: Option<Bytes>| Planned { method, path, body, write: None };
        match op {
            Op::Ceiling => return Some(simple(Method::GET, "/ceiling".to_string(), None)),
            Op::ServerRoot => return Some(simple(Method::GET, "/".to_string(), None)),
            _ => {}
        }
        if self.subjects.is_empty() || self.ids.is_empty() {
            return None;
        }
        let pinned = self.pinned.map(|index| &self.ids[index]);
        match op {
            Op::GetById => {
                let id = pinned.unwrap_or_else(|| rng.pick(&self.ids)).id;
                Some(simple(Method::GET, format!("/schemas/ids/{id}"), None))
            }
            Op::Validate => {
                if !self.validate_supported {
                    return None;
                }
                let index = self.pinned.unwrap_or_else(|| rng.index(self.ids.len()));
                let path = format!("/api/v1/validate/{}", self.ids[index].id);
                Some(simple(Method::POST, path, Some(self.validate_bodies[index].clone())))
            }
            Op::GetLatest => {
                let subject = match pinned {
                    Some(id) => &self.subjects[id.subject],
                    None => rng.pick(&self.subjects),
                };
                Some(simple(Method::GET, format!("/subjects/{}/versions/latest", subject.name), None))
            }
            Op::RegisterExisting => {
                let (index, body) = match pinned {
                    Some(id) => (id.subject, self.existing_bodies[id.subject][id.optional as usize].clone()),
                    None => {
                        let index = rng.index(self.subjects.len());
                        (index, rng.pick(&self.existing_bodies[index]).clone())
                    }
                };
                Some(simple(Method::POST, format!("/subjects/{}/versions", self.subjects[index].name), Some(body)))
            }
            Op::Compatibility => {
                let index = rng.index(self.subjects.len());
                let subject = &self.subjects[index];
                let next = self.states[index].latest_step.load(Ordering::Acquire) + 1;
                let path = format!("/compatibility/subjects/{}/versions/latest", subject.name);
                Some(simple(Method::POST, path, Some(Bytes::from(subject.register_body(next)))))
            }
            Op::RegisterNew => {
                // Claim a subject nobody else is extending, so versions arrive in order; after a few tries go
                // ahead unclaimed (at worst the same new schema is sent twice, which the registry dedups).
                let mut index = rng.index(self.subjects.len());
                let mut claimed = false;
                for _ in 0..16 {
                    if self.states[index]
                        .writing
                        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        claimed = true;
                        break;
                    }
                    index = rng.index(self.subjects.len());
                }
                let subject = &self.subjects[index];
                let step = self.states[index].latest_step.load(Ordering::Acquire) + 1;
                Some(Planned {
                    method: Method::POST,
                    path: format!("/subjects/{}/versions", subject.name),
                    body: Some(Bytes::from(subject.register_body(step))),
                    write: Some(WriteClaim { workload: self, subject: index, step, claimed }),
                })
            }
            Op::Ceiling | Op::ServerRoot => None,
        }
    }
}
