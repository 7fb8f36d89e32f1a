//! Search: subjects found by their names and by what their schemas declare (record, message, field and property
//! names) or document, ranked exact name > name prefix > name part > documentation text.
//!
//! The index lives in memory, one entry per subject (every version's terms, each id's computed once: ids never
//! change meaning). Every write marks what it changed stale (`Caches::take_search_stale`, from the same change
//! that keeps the caches coherent, another instance's included), and a search reads those subjects again before it
//! answers; the first search reads them all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use registry_core::{SchemaId, SchemaType, SearchTerm, Subject, TermKind, Version};

use super::{Deleted, Registry};
use crate::cache::Stale;
use crate::records::VersionState;
use crate::store::Result;

/// The most results one page holds.
pub const MAX_SEARCH_PAGE: usize = 100;

/// The score of a name equal to the query.
const EXACT: u32 = 100;
/// The score of a name that starts with the query.
const PREFIX: u32 = 50;
/// The score of a name that holds the query.
const PART: u32 = 20;
/// The score of documentation that holds the query.
const DOC: u32 = 10;
/// The most matches an answer lists per result.
const MAX_MATCHES: usize = 10;

/// What to search for.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// The text: matched case-insensitively against names (whole, prefix, part) and documentation (part).
    pub text: String,
    /// Only schemas of this format.
    pub schema_type: Option<SchemaType>,
    /// Only versions in this state; without one, current versions (ACTIVE or DEPRECATED).
    pub state: Option<VersionState>,
    /// Results to skip.
    pub offset: usize,
    /// Results to answer, at most [`MAX_SEARCH_PAGE`].
    pub limit: usize,
}

/// Where a result matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchMatch {
    /// `subject`, `name` or `doc`.
    pub kind: &'static str,
    /// Where in the schema (a JSON pointer, a Protobuf full name); `None` for the subject's name.
    pub path: Option<String>,
    /// The text that matched.
    pub text: String,
}

/// One subject found: its newest version that matches, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    /// The subject.
    pub subject: Subject,
    /// The version.
    pub version: Version,
    /// Its schema's id, as the subject's context names it.
    pub id: SchemaId,
    /// Its format.
    pub schema_type: SchemaType,
    /// Its lifecycle state.
    pub state: VersionState,
    /// How well it matched (higher is better).
    pub score: u32,
    /// What matched.
    pub matches: Vec<SearchMatch>,
}

/// A page of results, and how many there are in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchResults {
    /// The page, best first.
    pub hits: Vec<SearchHit>,
    /// Every result the query has.
    pub total: usize,
}

/// The search index.
#[derive(Default)]
pub(crate) struct Index {
    /// Subject -> its versions, newest first.
    subjects: BTreeMap<Subject, Vec<Indexed>>,
    /// Stored id -> its format and terms.
    terms: HashMap<SchemaId, Arc<(SchemaType, Vec<SearchTerm>)>>,
}

/// One version as the index holds it.
struct Indexed {
    version: Version,
    id: SchemaId,
    state: VersionState,
    terms: Arc<(SchemaType, Vec<SearchTerm>)>,
}

/// What [`Registry::browse`] lists: subjects by name prefix, of one format if asked, paged.
#[derive(Clone, Debug, Default)]
pub struct BrowseQuery {
    /// The start of the subjects' names (`""` for all; a context's `:.ctx:` for its subjects).
    pub prefix: String,
    /// Only subjects whose newest version is of this format.
    pub schema_type: Option<SchemaType>,
    /// Subjects whose versions are all soft-deleted too.
    pub deleted: bool,
    /// Subjects to skip.
    pub offset: usize,
    /// Subjects to answer, at most [`MAX_BROWSE_PAGE`].
    pub limit: usize,
}

/// The most subjects one [`Registry::browse`] page holds.
pub const MAX_BROWSE_PAGE: usize = 500;

/// A subject as a listing shows it: its newest version (the newest live one, if any) and how many it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectSummary {
    /// The subject.
    pub subject: Subject,
    /// The format of its newest version.
    pub schema_type: SchemaType,
    /// Its versions (soft-deleted ones only when the query asks for them).
    pub versions: usize,
    /// Its newest version.
    pub latest: Version,
    /// That version's semantic version.
    pub semver: crate::SemVer,
    /// That version's schema id, as the subject's context names it.
    pub id: SchemaId,
    /// That version's lifecycle state.
    pub state: VersionState,
    /// Whether every version is soft-deleted.
    pub deleted: bool,
}

/// A page of [`Registry::browse`], and how many subjects the query has in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowsePage {
    /// The page, by name.
    pub subjects: Vec<SubjectSummary>,
    /// Every subject the query has.
    pub total: usize,
}

impl Registry {
    /// The subjects `query` finds, best first: by subject name and by the names and documentation of their
    /// schemas. Each subject is found by its newest version that matches (one in the state asked for, else a
    /// current one), and answered once.
    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults> {
        let needle = query.text.trim().to_lowercase();
        let mut index = self.inner.search.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(&mut index)?;
        let mut hits = Vec::new();
        for (subject, versions) in &index.subjects {
            let wanted = versions.iter().filter(|v| match query.state {
                Some(state) => v.state == state,
                None => matches!(v.state, VersionState::Active | VersionState::Deprecated),
            });
            let wanted = wanted.filter(|v| query.schema_type.is_none_or(|t| t == v.terms.0));
            for indexed in wanted {
                let (score, matches) = score(&needle, subject, &indexed.terms.1);
                if score > 0 {
                    hits.push(SearchHit {
                        subject: subject.clone(),
                        version: indexed.version,
                        id: indexed.id,
                        schema_type: indexed.terms.0,
                        state: indexed.state,
                        score,
                        matches,
                    });
                    break;
                }
            }
        }
        drop(index);
        hits.sort_by(|a, b| {
            b.score.cmp(&a.score).then(b.matches.len().cmp(&a.matches.len())).then(a.subject.cmp(&b.subject))
        });
        let total = hits.len();
        let limit = query.limit.clamp(1, MAX_SEARCH_PAGE);
        let mut page: Vec<SearchHit> = hits.into_iter().skip(query.offset).take(limit).collect();
        for hit in &mut page {
            hit.id = self.public_id(hit.id)?;
        }
        Ok(SearchResults { hits: page, total })
    }

    /// The subjects whose names start with `query.prefix`, by name, a page at a time, each with its newest
    /// version. Without a format, the names come from one scan of the prefix's version keys (as `GET /subjects`
    /// reads them), then only the page's subjects are read; with one, the search index answers (built on its first
    /// use, then kept current as writes mark what they change). A subject deleted between the two reads is left
    /// out of the page.
    pub fn browse(&self, query: &BrowseQuery) -> Result<BrowsePage> {
        let deleted = if query.deleted { Deleted::Include } else { Deleted::Exclude };
        let names: Vec<Subject> = match query.schema_type {
            None => self.subjects(&query.prefix, deleted)?,
            Some(wanted) => {
                let mut index = self.inner.search.lock().unwrap_or_else(|e| e.into_inner());
                self.refresh(&mut index)?;
                let prefix = query.prefix.as_str();
                index
                    .subjects
                    .iter()
                    .skip_while(|(subject, _)| subject.as_str() < prefix)
                    .take_while(|(subject, _)| subject.as_str().starts_with(&query.prefix))
                    .filter(|(_, versions)| {
                        let live = versions.iter().find(|v| v.state != VersionState::Archived);
                        live.or(versions.first().filter(|_| query.deleted)).is_some_and(|v| v.terms.0 == wanted)
                    })
                    .map(|(subject, _)| subject.clone())
                    .collect()
            }
        };
        let total = names.len();
        let limit = query.limit.clamp(1, MAX_BROWSE_PAGE);
        let mut subjects = Vec::new();
        for subject in names.into_iter().skip(query.offset).take(limit) {
            // Deleted since its name was read: not listed.
            let versions = match self.version_list(&subject, deleted) {
                Ok(versions) => versions,
                Err(crate::RegistryError::SubjectNotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let Some(newest) = versions.iter().rev().find(|v| !v.deleted).or(versions.last()) else { continue };
            subjects.push(SubjectSummary {
                schema_type: self.schema_by_id(newest.id)?.schema_type,
                versions: versions.len(),
                latest: newest.version,
                semver: newest.semver,
                id: self.public_id(newest.id)?,
                state: newest.state,
                deleted: versions.iter().all(|v| v.deleted),
                subject,
            });
        }
        Ok(BrowsePage { subjects, total })
    }

    /// Reads again what changed since the index last answered.
    fn refresh(&self, index: &mut Index) -> Result<()> {
        let subjects: Vec<Subject> = match self.caches().take_search_stale() {
            Stale::All => {
                index.subjects.clear();
                self.subjects("", Deleted::Include)?
            }
            Stale::Subjects(subjects) => subjects.into_iter().collect(),
        };
        for subject in subjects {
            let versions = match self.version_list(&subject, Deleted::Include) {
                Ok(versions) => versions,
                Err(crate::RegistryError::SubjectNotFound(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
            let mut indexed = Vec::with_capacity(versions.len());
            for info in versions.iter().rev() {
                let terms = match index.terms.get(&info.id) {
                    Some(terms) => terms.clone(),
                    None => {
                        let parsed = self.parsed_by_id(info.id)?;
                        let terms = Arc::new((parsed.schema_type(), parsed.search_terms()));
                        index.terms.insert(info.id, terms.clone());
                        terms
                    }
                };
                indexed.push(Indexed { version: info.version, id: info.id, state: info.state, terms });
            }
            if indexed.is_empty() {
                index.subjects.remove(&subject);
            } else {
                index.subjects.insert(subject, indexed);
            }
        }
        Ok(())
    }
}

/// How well `needle` (lower case) matches a subject and its version's terms, and where.
fn score(needle: &str, subject: &Subject, terms: &[SearchTerm]) -> (u32, Vec<SearchMatch>) {
    if needle.is_empty() {
        return (0, Vec::new());
    }
    let mut best = 0;
    let mut matches = Vec::new();
    let name_score = |name: &str| {
        let name = name.to_lowercase();
        if name == needle {
            EXACT
        } else if name.starts_with(needle) {
            PREFIX
        } else if name.contains(needle) {
            PART
        } else {
            0
        }
    };
    let subject_score = name_score(subject.as_str()).max(name_score(subject.name_in_context()));
    if subject_score > 0 {
        best = subject_score;
        matches.push(SearchMatch { kind: "subject", path: None, text: subject.as_str().to_string() });
    }
    for term in terms {
        let score = match term.kind {
            TermKind::Name => name_score(&term.text),
            TermKind::Doc if term.text.to_lowercase().contains(needle) => DOC,
            TermKind::Doc => 0,
        };
        if score > 0 {
            best = best.max(score);
            if matches.len() < MAX_MATCHES {
                let kind = if term.kind == TermKind::Name { "name" } else { "doc" };
                matches.push(SearchMatch { kind, path: Some(term.path.clone()), text: term.text.clone() });
            }
        }
    }
    (best, matches)
}
