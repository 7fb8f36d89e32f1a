//! Where a schema is: the two sides, their documents, a location in them ([`Loc`]), and following a `$ref`
//! to the schema it names, in the same document or in a referenced one. Nothing here compares schemas.

use serde_json::{Map, Value};

use super::Diff;
use super::nodes::{Facet, facets};
use crate::format::json::BASE_URI;

/// Longest chain of `$ref` to `$ref` followed before giving up.
const MAX_REF_HOPS: usize = 32;
/// Most schema nodes searched for an anchor.
const MAX_ANCHOR_SEARCH: usize = 10_000;

/// Which schema a location is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Side {
    Writer,
    Reader,
}

/// A schema document and the documents its references name.
pub(super) struct Docs<'a> {
    pub(super) root: &'a Value,
    pub(super) references: &'a [(String, Value)],
}

impl<'a> Docs<'a> {
    /// Document 0 is the root, document `i + 1` the reference `i`.
    fn get(&self, doc: usize) -> Option<&'a Value> {
        match doc {
            0 => Some(self.root),
            i => self.references.get(i - 1).map(|(_, v)| v),
        }
    }
}

/// A schema (or a facet of one) in one of the two documents.
#[derive(Clone, Copy, Debug)]
pub(super) struct Loc<'a> {
    pub(super) side: Side,
    pub(super) doc: usize,
    pub(super) value: &'a Value,
    pub(super) facet: Facet,
}

impl<'a> Loc<'a> {
    pub(super) fn root(side: Side, value: &'a Value) -> Self {
        Loc { side, doc: 0, value, facet: Facet::Whole }
    }

    /// A subschema in the same document.
    pub(super) fn child(self, value: &'a Value) -> Self {
        Loc { value, facet: Facet::Whole, ..self }
    }

    pub(super) fn with_facet(self, facet: Facet) -> Self {
        Loc { facet, ..self }
    }

    pub(super) fn key(self) -> (usize, Facet) {
        (self.value as *const Value as usize, self.facet)
    }

    pub(super) fn object(self) -> Option<&'a Map<String, Value>> {
        self.value.as_object()
    }

    pub(super) fn get(self, keyword: &str) -> Option<&'a Value> {
        self.object().and_then(|m| m.get(keyword))
    }
}

impl<'a> Diff<'a> {
    fn docs(&self, side: Side) -> &Docs<'a> {
        match side {
            Side::Writer => &self.writer,
            Side::Reader => &self.reader,
        }
    }

    /// Follows `$ref`s until a schema that is more than a reference.
    pub(super) fn normalize(&self, mut loc: Loc<'a>) -> Loc<'a> {
        for _ in 0..MAX_REF_HOPS {
            let is_ref = match loc.facet {
                Facet::Ref => true,
                Facet::Whole => facets(loc.value) == [Facet::Ref],
                _ => false,
            };
            if !is_ref {
                return loc;
            }
            match self.resolve(loc) {
                Some(target) => loc = target,
                None => return loc.with_facet(Facet::Ref),
            }
        }
        loc.with_facet(Facet::Ref)
    }

    /// The schema a `$ref` points at: in the same document, or in a reference named by the URI.
    fn resolve(&self, loc: Loc<'a>) -> Option<Loc<'a>> {
        let reference = loc.get("$ref")?.as_str()?;
        let (base, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if base.is_empty() { loc.doc } else { self.find_document(loc.side, base)? };
        let root = self.docs(loc.side).get(doc)?;
        let target = if fragment.is_empty() {
            root
        } else if fragment.starts_with('/') {
            root.pointer(&fragment.replace("%25", "%"))?
        } else {
            find_anchor(root, fragment)?
        };
        Some(Loc { side: loc.side, doc, value: target, facet: Facet::Whole })
    }

    fn find_document(&self, side: Side, base: &str) -> Option<usize> {
        let docs = self.docs(side);
        let local = base.strip_prefix(BASE_URI).unwrap_or(base).trim_start_matches("./");
        if let Some(i) = docs.references.iter().position(|(name, _)| {
            let name = name.trim_start_matches("./");
            name == local || (base.contains("://") && base.ends_with(&format!("/{}", name.trim_start_matches('/'))))
        }) {
            return Some(i + 1);
        }
        let id_of = |v: &Value| v.get("$id").or_else(|| v.get("id")).and_then(Value::as_str).map(str::to_string);
        if id_of(docs.root).is_some_and(|id| id.trim_end_matches('#') == base) {
            return Some(0);
        }
        docs.references
            .iter()
            .position(|(_, v)| id_of(v).is_some_and(|id| id.trim_end_matches('#') == base))
            .map(|i| i + 1)
    }
}

/// The subschema an anchor (`$anchor`, or a fragment-only `$id`/`id`) names, searched breadth-first, bounded.
fn find_anchor<'v>(root: &'v Value, anchor: &str) -> Option<&'v Value> {
    let hash = format!("#{anchor}");
    let mut queue = std::collections::VecDeque::from([root]);
    let mut seen = 0;
    while let Some(value) = queue.pop_front() {
        seen += 1;
        if seen > MAX_ANCHOR_SEARCH {
            return None;
        }
        match value {
            Value::Object(map) => {
                let named = map.get("$anchor").and_then(Value::as_str) == Some(anchor)
                    || map.get("$id").and_then(Value::as_str) == Some(&hash)
                    || map.get("id").and_then(Value::as_str) == Some(&hash);
                if named {
                    return Some(value);
                }
                queue.extend(map.values());
            }
            Value::Array(items) => queue.extend(items.iter()),
            _ => {}
        }
    }
    None
}
