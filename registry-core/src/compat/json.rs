//! JSON Schema compatibility: the reference registry's `JsonSchemaDiff` rules, comparing the writer schema
//! (Confluent's "original") with the reader schema (its "update"), and reporting only the differences that
//! make the reader reject data the writer accepted.
//!
//! Schemas are read the way the reference registry's loader reads them: a schema object splits into facets
//! (`enum`, `const`, each combinator, `not`, `$ref`, one facet per `type`, or per keyword group when there is
//! no `type`); several facets form an implicit `allOf`. The walk is bounded by a depth limit and a step
//! budget, and `$ref` cycles are cut by remembering the pairs being compared. It never panics.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{Violation, ViolationKind};
use crate::format::holds_key;
use crate::format::json::{BASE_URI, JsonSchema, is_reference_key};

/// Deepest nesting of schema comparisons before the walk stops and reports.
const MAX_DEPTH: usize = 64;
/// Most schema pairs compared in one check; combinators compare every pairing, so this bounds the work.
const MAX_STEPS: usize = 100_000;
/// Longest chain of `$ref` to `$ref` followed before giving up.
const MAX_REF_HOPS: usize = 32;
/// Most schema nodes searched for an anchor.
const MAX_ANCHOR_SEARCH: usize = 10_000;

pub(super) fn can_read(reader: &JsonSchema, writer: &JsonSchema) -> Vec<Violation> {
    diff(reader, writer, true)
}

/// `can_read`, with or without the shortcut for identical subschemas (off only to test that it changes nothing).
fn diff(reader: &JsonSchema, writer: &JsonSchema, shortcut: bool) -> Vec<Violation> {
    let mut diff = Diff {
        writer: Docs { root: writer.value(), references: writer.references() },
        reader: Docs { root: reader.value(), references: reader.references() },
        in_progress: HashSet::new(),
        memo: HashMap::new(),
        steps: 0,
        shortcut,
    };
    let original = Loc::root(Side::Writer, writer.value());
    let update = Loc::root(Side::Reader, reader.value());
    let mut out = Vec::new();
    diff.compare(&mut out, &mut Path::default(), Some(original), Some(update), 0);
    out
}

/// Which schema a location is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Side {
    Writer,
    Reader,
}

/// A schema document and the documents its references name.
struct Docs<'a> {
    root: &'a Value,
    references: &'a [(String, Value)],
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

/// The JSON types a `type` keyword names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Ty {
    Null,
    Boolean,
    String,
    Number,
    Integer,
    Object,
    Array,
}

impl Ty {
    fn parse(name: &str) -> Option<Ty> {
        Some(match name {
            "null" => Ty::Null,
            "boolean" => Ty::Boolean,
            "string" => Ty::String,
            "number" => Ty::Number,
            "integer" => Ty::Integer,
            "object" => Ty::Object,
            "array" => Ty::Array,
            _ => return None,
        })
    }
}

/// One part of a schema object, as the reference loader splits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Facet {
    /// The whole schema value.
    Whole,
    Enum,
    Const,
    AllOf,
    AnyOf,
    OneOf,
    Not,
    Ref,
    /// `type` with several names: an implicit `anyOf` of one facet per type.
    TypeUnion,
    /// One type, named by `type` or implied by the keywords present.
    Typed(Ty),
}

/// A schema (or a facet of one) in one of the two documents.
#[derive(Clone, Copy, Debug)]
struct Loc<'a> {
    side: Side,
    doc: usize,
    value: &'a Value,
    facet: Facet,
}

impl<'a> Loc<'a> {
    fn root(side: Side, value: &'a Value) -> Self {
        Loc { side, doc: 0, value, facet: Facet::Whole }
    }

    /// A subschema in the same document.
    fn child(self, value: &'a Value) -> Self {
        Loc { value, facet: Facet::Whole, ..self }
    }

    fn with_facet(self, facet: Facet) -> Self {
        Loc { facet, ..self }
    }

    fn key(self) -> (usize, Facet) {
        (self.value as *const Value as usize, self.facet)
    }

    fn object(self) -> Option<&'a Map<String, Value>> {
        self.value.as_object()
    }

    fn get(self, keyword: &str) -> Option<&'a Value> {
        self.object().and_then(|m| m.get(keyword))
    }
}

/// The combinators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Criterion {
    All,
    Any,
    One,
}

impl Criterion {
    fn keyword(self) -> &'static str {
        match self {
            Criterion::All => "allOf",
            Criterion::Any => "anyOf",
            Criterion::One => "oneOf",
        }
    }
}

/// What a schema is, once split into facets.
#[derive(Debug)]
enum Node<'a> {
    /// Accepts everything: `true`, `{}`, or annotations only.
    Empty,
    /// Accepts nothing.
    False,
    Null,
    Boolean,
    String,
    Number {
        integer: bool,
    },
    Object,
    Array,
    Enum {
        values: Vec<&'a Value>,
        keyword: &'static str,
    },
    Combined {
        criterion: Criterion,
        subs: Vec<Loc<'a>>,
        synthetic: bool,
    },
    Not(Loc<'a>),
    /// A `$ref` that resolves to nothing this registry holds.
    Unresolved(&'a str),
}

impl Node<'_> {
    /// The reference loader's schema class: two schemas of different classes are a type change.
    fn class(&self) -> u8 {
        match self {
            Node::Empty => 0,
            Node::False => 1,
            Node::Null => 2,
            Node::Boolean => 3,
            Node::String => 4,
            Node::Number { .. } => 5,
            Node::Object => 6,
            Node::Array => 7,
            Node::Enum { .. } => 8,
            Node::Combined { .. } => 9,
            Node::Not(_) => 10,
            Node::Unresolved(_) => 11,
        }
    }

    fn describe(&self) -> String {
        match self {
            Node::Empty => "any value".into(),
            Node::False => "no value".into(),
            Node::Null => "null".into(),
            Node::Boolean => "boolean".into(),
            Node::String => "string".into(),
            Node::Number { integer: true } => "integer".into(),
            Node::Number { integer: false } => "number".into(),
            Node::Object => "object".into(),
            Node::Array => "array".into(),
            Node::Enum { keyword, .. } => format!("an `{keyword}`"),
            Node::Combined { criterion, synthetic: true, .. } if *criterion == Criterion::Any => {
                "a union of types".into()
            }
            Node::Combined { synthetic: true, .. } => "a combination of constraints".into(),
            Node::Combined { criterion, .. } => format!("an `{}`", criterion.keyword()),
            Node::Not(_) => "a `not`".into(),
            Node::Unresolved(r) => format!("an unresolved `$ref` to {r}"),
        }
    }
}

/// A JSON pointer being built, in the reference registry's `#/a/b` style.
#[derive(Clone, Debug, Default)]
struct Path(Vec<String>);

impl Path {
    fn push(&mut self, segment: &str) {
        self.0.push(segment.replace('~', "~0").replace('/', "~1"));
    }

    fn pop(&mut self) {
        self.0.pop();
    }

    fn at(&self, keyword: Option<&str>) -> String {
        let mut s = String::from("#/");
        s.push_str(&self.0.join("/"));
        if let Some(k) = keyword {
            if !self.0.is_empty() {
                s.push('/');
            }
            s.push_str(k);
        }
        s
    }

    /// How a message names the schema at this path.
    fn subject(&self) -> String {
        match self.0.as_slice() {
            [] => "the schema".into(),
            [.., parent, name] if parent == "properties" => format!("property `{}`", unescape(name)),
            _ => format!("`{}`", self.at(None)),
        }
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

const REJECTS: &str = "the reader rejects data the writer accepted";

/// A (writer schema, reader schema) pair, by identity.
type PairKey = ((usize, Facet), (usize, Facet));

struct Diff<'a> {
    writer: Docs<'a>,
    reader: Docs<'a>,
    /// Pairs being compared higher up: a recursive schema meets itself here and is assumed compatible.
    in_progress: HashSet<PairKey>,
    /// Whether a pair is compatible, once known.
    memo: HashMap<PairKey, bool>,
    steps: usize,
    /// Whether identical subschemas without references are taken as compatible without comparing them.
    shortcut: bool,
}

fn report(out: &mut Vec<Violation>, kind: ViolationKind, path: String, message: String) {
    out.push(Violation { kind, path, message });
}

impl<'a> Diff<'a> {
    fn docs(&self, side: Side) -> &Docs<'a> {
        match side {
            Side::Writer => &self.writer,
            Side::Reader => &self.reader,
        }
    }

    /// Compares the writer's `original` with the reader's `update`, appending what makes them incompatible.
    fn compare(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        original: Option<Loc<'a>>,
        update: Option<Loc<'a>>,
        depth: usize,
    ) {
        let (original, update) = match (original, update) {
            (None, None) | (Some(_), None) => return,
            (None, Some(_)) => {
                let message = format!("{} now has a schema where the writer had none: {REJECTS}", path.subject());
                return report(out, ViolationKind::SchemaAdded, path.at(None), message);
            }
            (Some(o), Some(u)) => (o, u),
        };
        // A new version mostly repeats the old one: a subschema equal to the writer's, with no `$ref` whose
        // target could differ between the two documents, reads everything the writer's does.
        if self.shortcut
            && original.facet == Facet::Whole
            && update.facet == Facet::Whole
            && original.value == update.value
            && !refers(original.value)
        {
            return;
        }
        self.steps += 1;
        if depth > MAX_DEPTH || self.steps > MAX_STEPS {
            let message = format!(
                "the schemas nest deeper than {MAX_DEPTH} levels or need more than {MAX_STEPS} comparisons; \
                 compatibility could not be established"
            );
            return report(out, ViolationKind::TypeChanged, path.at(None), message);
        }
        let original = self.normalize(original);
        let update = self.normalize(update);
        let o = self.node(original);
        let u = self.node(update);

        match (&o, &u) {
            (o_node, Node::Combined { criterion, subs, .. }) if !matches!(o_node, Node::Combined { .. }) => {
                if subs.len() == 1 {
                    if self.compatible(original, subs[0], depth + 1) {
                        return;
                    }
                } else if matches!(criterion, Criterion::Any | Criterion::One) {
                    // The reader's union has a branch that reads all the writer's data: a compatible extension.
                    if subs.iter().any(|&sub| self.compatible(original, sub, depth + 1)) {
                        return;
                    }
                }
            }
            (Node::Combined { criterion, subs, .. }, u_node) if !matches!(u_node, Node::Combined { .. }) => {
                if subs.len() == 1 {
                    if self.compatible(subs[0], update, depth + 1) {
                        return;
                    }
                } else if *criterion == Criterion::All {
                    // One of the writer's conjuncts already implies the reader: a compatible narrowing.
                    if subs.iter().any(|&sub| self.compatible(sub, update, depth + 1)) {
                        return;
                    }
                }
            }
            _ => {}
        }

        if o.class() != u.class() {
            if !matches!(o, Node::False) && !matches!(u, Node::Empty) {
                let message =
                    format!("{} changed from {} to {}: {REJECTS}", path.subject(), o.describe(), u.describe());
                report(out, ViolationKind::TypeChanged, path.at(None), message);
            }
            return;
        }

        let key = (original.key(), update.key());
        if !self.in_progress.insert(key) {
            return;
        }
        match (o, u) {
            (Node::String, Node::String) => compare_string(out, path, original, update),
            (Node::Number { integer: oi }, Node::Number { integer: ui }) => {
                compare_number(out, path, original, update);
                if !oi && ui {
                    let message = format!("{} narrowed from number to integer: {REJECTS}", path.subject());
                    report(out, ViolationKind::TypeNarrowed, path.at(None), message);
                }
            }
            (Node::Enum { values: ov, keyword }, Node::Enum { values: uv, .. }) => {
                compare_enum(out, path, &ov, &uv, keyword)
            }
            (
                Node::Combined { criterion: oc, subs: os, synthetic: osyn },
                Node::Combined { criterion: uc, subs: us, .. },
            ) => self.compare_combined(out, path, (oc, os, osyn), (uc, us), depth),
            // The reader's `not` must exclude no more than the writer's: compare the other way round.
            (Node::Not(on), Node::Not(un)) if !self.compatible(un, on, depth + 1) => {
                let message = format!("the `not` of {} now excludes values the writer accepted", path.subject());
                report(out, ViolationKind::NotTypeExtended, path.at(Some("not")), message);
            }
            (Node::Object, Node::Object) => self.compare_object(out, path, original, update, depth),
            (Node::Array, Node::Array) => self.compare_array(out, path, original, update, depth),
            (Node::Unresolved(a), Node::Unresolved(b)) if a != b => {
                let message = format!(
                    "{} refers to {b} instead of {a}, and neither resolves, so they cannot be compared",
                    path.subject()
                );
                report(out, ViolationKind::TypeChanged, path.at(None), message);
            }
            _ => {}
        }
        self.in_progress.remove(&key);
    }

    /// Whether `update` reads everything `original` accepts, recording nothing.
    fn compatible(&mut self, original: Loc<'a>, update: Loc<'a>, depth: usize) -> bool {
        let key = (original.key(), update.key());
        if let Some(known) = self.memo.get(&key) {
            return *known;
        }
        let mut scratch = Vec::new();
        self.compare(&mut scratch, &mut Path::default(), Some(original), Some(update), depth);
        let ok = scratch.is_empty();
        if self.steps <= MAX_STEPS {
            self.memo.insert(key, ok);
        }
        ok
    }

    /// The violations of comparing a pair, at `path`, kept separate from `out`.
    fn sub(&mut self, path: &Path, original: Option<Loc<'a>>, update: Option<Loc<'a>>, depth: usize) -> Vec<Violation> {
        let mut scratch = Vec::new();
        self.compare(&mut scratch, &mut path.clone(), original, update, depth);
        scratch
    }

    /// Follows `$ref`s until a schema that is more than a reference.
    fn normalize(&self, mut loc: Loc<'a>) -> Loc<'a> {
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

    /// What a location is, without following a `$ref` (see [`Diff::normalize`]).
    fn node(&self, loc: Loc<'a>) -> Node<'a> {
        let Some(map) = loc.object() else {
            return match loc.value {
                Value::Bool(false) => Node::False,
                _ => Node::Empty,
            };
        };
        match loc.facet {
            Facet::Whole => {
                let found = facets(loc.value);
                match found.as_slice() {
                    [] => Node::Empty,
                    [one] => self.node(loc.with_facet(*one)),
                    many => Node::Combined {
                        criterion: Criterion::All,
                        subs: many.iter().map(|f| loc.with_facet(*f)).collect(),
                        synthetic: true,
                    },
                }
            }
            Facet::Enum => Node::Enum {
                values: map.get("enum").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default(),
                keyword: "enum",
            },
            Facet::Const => Node::Enum { values: map.get("const").into_iter().collect(), keyword: "const" },
            Facet::AllOf | Facet::AnyOf | Facet::OneOf => {
                let (criterion, keyword) = match loc.facet {
                    Facet::AllOf => (Criterion::All, "allOf"),
                    Facet::AnyOf => (Criterion::Any, "anyOf"),
                    _ => (Criterion::One, "oneOf"),
                };
                let subs = map
                    .get(keyword)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|v| loc.child(v)).collect())
                    .unwrap_or_default();
                Node::Combined { criterion, subs, synthetic: false }
            }
            Facet::Not => match map.get("not") {
                Some(v) => Node::Not(loc.child(v)),
                None => Node::Empty,
            },
            Facet::Ref => Node::Unresolved(map.get("$ref").and_then(Value::as_str).unwrap_or("")),
            Facet::TypeUnion => Node::Combined {
                criterion: Criterion::Any,
                subs: types(map).into_iter().map(|t| loc.with_facet(Facet::Typed(t))).collect(),
                synthetic: true,
            },
            Facet::Typed(ty) => match ty {
                Ty::Null => Node::Null,
                Ty::Boolean => Node::Boolean,
                Ty::String => Node::String,
                Ty::Number => Node::Number { integer: false },
                Ty::Integer => Node::Number { integer: true },
                Ty::Object => Node::Object,
                Ty::Array => Node::Array,
            },
        }
    }

    fn compare_combined(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        (oc, os, osyn): (Criterion, Vec<Loc<'a>>, bool),
        (uc, us): (Criterion, Vec<Loc<'a>>),
        depth: usize,
    ) {
        if oc != uc {
            let allowed = match uc {
                Criterion::Any => true,
                Criterion::One => os.len() == 1,
                Criterion::All => os.len() == 1 && us.len() == 1,
            };
            if !allowed {
                let message =
                    format!("{} changed from `{}` to `{}`: {REJECTS}", path.subject(), oc.keyword(), uc.keyword());
                return report(out, ViolationKind::CombinedTypeChanged, path.at(None), message);
            }
        }
        let os = dedup(os);
        let us = dedup(us);
        if os.len() < us.len() && uc == Criterion::All {
            let message = format!(
                "{} has more `allOf` subschemas than the writer's, each a further constraint: {REJECTS}",
                path.subject()
            );
            report(out, ViolationKind::ProductTypeExtended, path.at(None), message);
        } else if os.len() > us.len() && uc != Criterion::All {
            let message =
                format!("{} has fewer `{}` alternatives than the writer's: {REJECTS}", path.subject(), uc.keyword());
            report(out, ViolationKind::SumTypeNarrowed, path.at(None), message);
        }

        let edges: Vec<Vec<bool>> =
            os.iter().map(|&o| us.iter().map(|&u| self.compatible(o, u, depth + 1)).collect()).collect();
        let matched = maximum_matching(&edges, us.len());
        let matched_count = matched.iter().filter(|m| m.is_some()).count();
        if matched_count >= os.len().min(us.len()) {
            return;
        }
        // Explain with the first unmatched writer subschema, compared with its positional counterpart.
        let unmatched: Vec<usize> = (0..os.len()).filter(|i| matched[*i].is_none()).collect();
        let mut reason = String::new();
        if let Some(&i) = unmatched.first()
            && let Some(&u) = us.get(i).or(us.first())
        {
            let detail = self.sub(&Path::default(), Some(os[i]), Some(u), depth + 1);
            if let Some(first) = detail.first() {
                reason = format!(" (e.g. subschema {i}: {})", first.message);
            }
        }
        let what = if osyn { "constraints".to_string() } else { format!("`{}` subschemas", oc.keyword()) };
        let message = format!(
            "the {what} of {} cannot all be paired with compatible reader subschemas; unpaired writer subschemas: {:?}{reason}",
            path.subject(),
            unmatched
        );
        report(out, ViolationKind::CombinedTypeSubschemasChanged, path.at(None), message);
    }

    fn compare_object(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        original: Loc<'a>,
        update: Loc<'a>,
        depth: usize,
    ) {
        let o = ObjectView::new(original);
        let u = ObjectView::new(update);

        // required: only properties both sides declare, as the reference registry does.
        for (name, _) in &o.properties {
            let Some(u_schema) = u.property(name) else { continue };
            if !o.is_required(name) && u.is_required(name) && !has_default(u_schema) {
                let message =
                    format!("property `{name}` became required and has no default: the writer's data may lack it");
                path.push("required");
                report(out, ViolationKind::RequiredAttributeAdded, path.at(Some(&escape(name))), message);
                path.pop();
            }
        }

        path.push("properties");
        let mut names: Vec<&str> = o.properties.iter().map(|(n, _)| *n).collect();
        for (n, _) in &u.properties {
            if o.property(n).is_none() {
                names.push(n);
            }
        }
        for name in names {
            path.push(name);
            match (o.property(name), u.property(name)) {
                (Some(os), None) => self.property_removed(out, path, name, original.child(os), &u, depth),
                (None, Some(us)) => self.property_added(out, path, name, &o, update.child(us), &u, depth),
                (Some(os), Some(us)) => {
                    self.compare(out, path, Some(original.child(os)), Some(update.child(us)), depth + 1)
                }
                (None, None) => {}
            }
            path.pop();
        }
        path.pop();

        // The reference registry reads patternProperties only for added or removed properties; a pattern both
        // sides declare must also keep accepting what it accepted.
        path.push("patternProperties");
        for (pattern, os) in &o.patterns {
            if let Some((_, us)) = u.patterns.iter().find(|(p, _)| p == pattern) {
                path.push(pattern);
                self.compare(out, path, Some(original.child(os)), Some(update.child(us)), depth + 1);
                path.pop();
            }
        }
        path.pop();

        self.compare_dependencies(out, path, &o, &u, depth);

        self.compare_open_content(
            out,
            path,
            ("additionalProperties", "additional properties"),
            (original, o.additional),
            (update, u.additional),
            (ViolationKind::AdditionalPropertiesRemoved, ViolationKind::AdditionalPropertiesNarrowed),
            depth,
        );

        self.compare_unevaluated(
            out,
            path,
            "unevaluatedProperties",
            (original, o.unevaluated),
            (update, u.unevaluated),
            (ViolationKind::UnevaluatedPropertiesRemoved, ViolationKind::UnevaluatedPropertiesNarrowed),
            depth,
        );

        let (om, um) = (original.object(), update.object());
        bound(
            out,
            path,
            om,
            um,
            "maxProperties",
            Limit::Upper,
            (ViolationKind::MaxPropertiesAdded, ViolationKind::MaxPropertiesDecreased),
        );
        bound(
            out,
            path,
            om,
            um,
            "minProperties",
            Limit::Lower,
            (ViolationKind::MinPropertiesAdded, ViolationKind::MinPropertiesIncreased),
        );
    }

    fn property_removed(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        name: &str,
        original: Loc<'a>,
        u: &ObjectView<'a>,
        depth: usize,
    ) {
        if u.is_open() {
            return;
        }
        if let Some(partial) = u.partial(name) {
            let found = self.sub(path, Some(original), Some(partial), depth + 1);
            if !found.is_empty() {
                out.extend(found);
                let message = format!(
                    "property `{name}` was removed and the reader's patternProperties/additionalProperties \
                     do not accept the values the writer allowed for it: {REJECTS}"
                );
                report(
                    out,
                    ViolationKind::PropertyRemovedNotCoveredByPartiallyOpenContentModel,
                    path.at(None),
                    message,
                );
            }
            return;
        }
        if !matches!(self.node(self.normalize(original)), Node::False) {
            let message =
                format!("property `{name}` was removed and the reader does not allow additional properties: {REJECTS}");
            report(out, ViolationKind::PropertyRemovedFromClosedContentModel, path.at(None), message);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn property_added(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        name: &str,
        o: &ObjectView<'a>,
        update: Loc<'a>,
        u: &ObjectView<'a>,
        depth: usize,
    ) {
        let required = u.is_required(name);
        let default = has_default(update.value);
        if o.is_open() {
            if matches!(self.node(self.normalize(update)), Node::Empty) {
                return;
            }
            let (kind, what) = match (required, default) {
                (true, false) => (ViolationKind::RequiredPropertyAddedToOpenContentModel, "required property"),
                (true, true) => (
                    ViolationKind::RequiredPropertyWithDefaultAddedToOpenContentModel,
                    "required property (with a default)",
                ),
                (false, _) => (ViolationKind::OptionalPropertyAddedToOpenContentModel, "property"),
            };
            let message = format!(
                "{what} `{name}` was added, but the writer allowed any additional property, so its data may carry \
                 `{name}` with a value the reader rejects"
            );
            return report(out, kind, path.at(None), message);
        }
        if let Some(partial) = o.partial(name) {
            let found = self.sub(path, Some(partial), Some(update), depth + 1);
            if !found.is_empty() {
                out.extend(found);
                let message = format!(
                    "property `{name}` was added with a schema that rejects values the writer's \
                     patternProperties/additionalProperties allowed for it"
                );
                report(out, ViolationKind::PropertyAddedNotCoveredByPartiallyOpenContentModel, path.at(None), message);
            }
        }
        if required && !default {
            let message = format!("required property `{name}` was added without a default: the writer's data lacks it");
            report(out, ViolationKind::RequiredPropertyAddedToUnopenContentModel, path.at(None), message);
        }
    }

    fn compare_dependencies(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        o: &ObjectView<'a>,
        u: &ObjectView<'a>,
        depth: usize,
    ) {
        let mut names: Vec<&str> = o.property_deps.iter().map(|d| d.1).collect();
        names.extend(u.property_deps.iter().map(|d| d.1).filter(|n| !o.property_deps.iter().any(|d| d.1 == *n)));
        for name in names {
            let od = o.property_deps.iter().find(|d| d.1 == name);
            let ud = u.property_deps.iter().find(|d| d.1 == name);
            let keyword = od.or(ud).map(|d| d.0).unwrap_or("dependencies");
            path.push(keyword);
            path.push(name);
            match (od, ud) {
                (None, Some(ud)) => {
                    let message = format!(
                        "a dependency was added: when `{name}` is present the reader also requires {:?}: {REJECTS}",
                        ud.2
                    );
                    report(out, ViolationKind::DependencyArrayAdded, path.at(None), message);
                }
                (Some(od), Some(ud)) if !same_set(&od.2, &ud.2) => {
                    let (kind, verb) = if subset(&od.2, &ud.2) {
                        (ViolationKind::DependencyArrayExtended, "more")
                    } else if subset(&ud.2, &od.2) {
                        // Fewer properties required: compatible.
                        path.pop();
                        path.pop();
                        continue;
                    } else {
                        (ViolationKind::DependencyArrayChanged, "different")
                    };
                    let message = format!(
                        "when `{name}` is present the reader requires {verb} properties ({:?} instead of {:?}): {REJECTS}",
                        ud.2, od.2
                    );
                    report(out, kind, path.at(None), message);
                }
                _ => {}
            }
            path.pop();
            path.pop();
        }

        let mut names: Vec<&str> = o.schema_deps.iter().map(|d| d.1).collect();
        names.extend(u.schema_deps.iter().map(|d| d.1).filter(|n| !o.schema_deps.iter().any(|d| d.1 == *n)));
        for name in names {
            let od = o.schema_deps.iter().find(|d| d.1 == name);
            let ud = u.schema_deps.iter().find(|d| d.1 == name);
            let keyword = od.or(ud).map(|d| d.0).unwrap_or("dependencies");
            path.push(keyword);
            path.push(name);
            match (od, ud) {
                (None, Some(_)) => {
                    let message = format!(
                        "a schema dependency was added: when `{name}` is present the object must also match a schema: {REJECTS}"
                    );
                    report(out, ViolationKind::DependencySchemaAdded, path.at(None), message);
                }
                (Some(od), Some(ud)) => {
                    self.compare(out, path, Some(o.loc.child(od.2)), Some(u.loc.child(ud.2)), depth + 1)
                }
                _ => {}
            }
            path.pop();
            path.pop();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compare_unevaluated(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        keyword: &'static str,
        (original, ov): (Loc<'a>, Option<&'a Value>),
        (update, uv): (Loc<'a>, Option<&'a Value>),
        kinds: (ViolationKind, ViolationKind),
        depth: usize,
    ) {
        let noun = if keyword == "unevaluatedItems" { "unevaluated items" } else { "unevaluated properties" };
        self.compare_open_content(
            out,
            path,
            (keyword, noun),
            (original, Extra::of(ov)),
            (update, Extra::of(uv)),
            kinds,
            depth,
        );
    }

    /// What the writer left open (`additionalProperties`, `additionalItems`, `unevaluated*`) must stay open
    /// enough: closing it or constraining it with a schema rejects data the writer accepted.
    #[allow(clippy::too_many_arguments)]
    fn compare_open_content(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        (keyword, noun): (&str, &str),
        (original, o): (Loc<'a>, Extra<'a>),
        (update, u): (Loc<'a>, Extra<'a>),
        (removed, narrowed): (ViolationKind, ViolationKind),
        depth: usize,
    ) {
        path.push(keyword);
        match (o, u) {
            (Extra { permits: true, .. }, Extra { permits: false, .. }) => {
                let message = format!("{} no longer allows {noun} (`{keyword}`): {REJECTS}", path_parent(path));
                report(out, removed, path.at(None), message);
            }
            (Extra { permits: true, schema: None }, Extra { schema: Some(_), .. }) => {
                let message = format!(
                    "{} now constrains {noun} (`{keyword}`) with a schema, where the writer allowed any: {REJECTS}",
                    path_parent(path)
                );
                report(out, narrowed, path.at(None), message);
            }
            (Extra { schema: Some(os), .. }, Extra { schema: Some(us), .. }) => {
                self.compare(out, path, Some(original.child(os)), Some(update.child(us)), depth + 1)
            }
            _ => {}
        }
        path.pop();
    }

    fn compare_array(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        original: Loc<'a>,
        update: Loc<'a>,
        depth: usize,
    ) {
        let o = ArrayView::new(original);
        let u = ArrayView::new(update);

        path.push("items");
        self.compare(out, path, o.all.map(|v| original.child(v)), u.all.map(|v| update.child(v)), depth + 1);
        path.pop();

        let common = o.tuple.len().min(u.tuple.len());
        for i in 0..o.tuple.len().max(u.tuple.len()) {
            path.push(if i < o.tuple.len() { o.tuple_keyword } else { u.tuple_keyword });
            path.push(&i.to_string());
            if i < common {
                self.compare(out, path, Some(original.child(o.tuple[i])), Some(update.child(u.tuple[i])), depth + 1);
            } else if i < o.tuple.len() {
                self.item_removed(out, path, i, original.child(o.tuple[i]), &u, update, depth);
            } else {
                self.item_added(out, path, i, &o, original, update.child(u.tuple[i]), depth);
            }
            path.pop();
            path.pop();
        }

        self.compare_open_content(
            out,
            path,
            (u.additional_keyword, "additional items"),
            (original, o.additional),
            (update, u.additional),
            (ViolationKind::AdditionalItemsRemoved, ViolationKind::AdditionalItemsNarrowed),
            depth,
        );

        self.compare_unevaluated(
            out,
            path,
            "unevaluatedItems",
            (original, o.unevaluated),
            (update, u.unevaluated),
            (ViolationKind::UnevaluatedItemsRemoved, ViolationKind::UnevaluatedItemsNarrowed),
            depth,
        );

        let (om, um) = (original.object(), update.object());
        bound(
            out,
            path,
            om,
            um,
            "maxItems",
            Limit::Upper,
            (ViolationKind::MaxItemsAdded, ViolationKind::MaxItemsDecreased),
        );
        bound(
            out,
            path,
            om,
            um,
            "minItems",
            Limit::Lower,
            (ViolationKind::MinItemsAdded, ViolationKind::MinItemsIncreased),
        );
        let unique = |m: Option<&Map<String, Value>>| {
            m.and_then(|m| m.get("uniqueItems")).and_then(Value::as_bool) == Some(true)
        };
        if !unique(om) && unique(um) {
            let message = format!("{} now requires unique items: {REJECTS}", path.subject());
            report(out, ViolationKind::UniqueItemsAdded, path.at(Some("uniqueItems")), message);
        }
        bound(
            out,
            path,
            om,
            um,
            "maxContains",
            Limit::Upper,
            (ViolationKind::MaxContainsAdded, ViolationKind::MaxContainsDecreased),
        );
        bound(
            out,
            path,
            om,
            um,
            "minContains",
            Limit::Lower,
            (ViolationKind::MinContainsAdded, ViolationKind::MinContainsIncreased),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn item_removed(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        index: usize,
        original: Loc<'a>,
        u: &ArrayView<'a>,
        update: Loc<'a>,
        depth: usize,
    ) {
        if u.is_open() {
            return;
        }
        if let Some(partial) = u.partial() {
            let found = self.sub(path, Some(original), Some(update.child(partial)), depth + 1);
            if !found.is_empty() {
                out.extend(found);
                let message = format!(
                    "tuple item {index} was removed and the reader's additional items schema rejects values the \
                     writer allowed there"
                );
                report(out, ViolationKind::ItemRemovedNotCoveredByPartiallyOpenContentModel, path.at(None), message);
            }
            return;
        }
        if !matches!(self.node(self.normalize(original)), Node::False) {
            let message =
                format!("tuple item {index} was removed and the reader allows no additional items: {REJECTS}");
            report(out, ViolationKind::ItemRemovedFromClosedContentModel, path.at(None), message);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn item_added(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        index: usize,
        o: &ArrayView<'a>,
        original: Loc<'a>,
        update: Loc<'a>,
        depth: usize,
    ) {
        if o.is_open() {
            if !matches!(self.node(self.normalize(update)), Node::Empty) {
                let message = format!(
                    "tuple item {index} was added, but the writer allowed any additional item there: {REJECTS}"
                );
                report(out, ViolationKind::ItemAddedToOpenContentModel, path.at(None), message);
            }
            return;
        }
        if let Some(partial) = o.partial() {
            let found = self.sub(path, Some(original.child(partial)), Some(update), depth + 1);
            if !found.is_empty() {
                out.extend(found);
                let message = format!(
                    "tuple item {index} was added with a schema that rejects values the writer's additional items \
                     schema allowed there"
                );
                report(out, ViolationKind::ItemAddedNotCoveredByPartiallyOpenContentModel, path.at(None), message);
            }
        }
    }
}

/// The facets of a schema value, in the reference loader's order.
fn facets(value: &Value) -> Vec<Facet> {
    let Some(map) = value.as_object() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if map.get("enum").is_some_and(Value::is_array) {
        found.push(Facet::Enum);
    }
    for (keyword, facet) in [("allOf", Facet::AllOf), ("anyOf", Facet::AnyOf), ("oneOf", Facet::OneOf)] {
        if map.get(keyword).is_some_and(Value::is_array) {
            found.push(facet);
        }
    }
    if map.contains_key("not") {
        found.push(Facet::Not);
    }
    if map.contains_key("const") {
        found.push(Facet::Const);
    }
    match map.get("type") {
        Some(Value::String(_) | Value::Array(_)) => match types(map).as_slice() {
            [] => {}
            [one] => found.push(Facet::Typed(*one)),
            _ => found.push(Facet::TypeUnion),
        },
        _ => {
            const GROUPS: [(Ty, &[&str]); 4] = [
                (
                    Ty::Array,
                    &[
                        "items",
                        "additionalItems",
                        "prefixItems",
                        "minItems",
                        "maxItems",
                        "uniqueItems",
                        "contains",
                        "minContains",
                        "maxContains",
                        "unevaluatedItems",
                    ],
                ),
                (
                    Ty::Object,
                    &[
                        "properties",
                        "required",
                        "minProperties",
                        "maxProperties",
                        "dependencies",
                        "dependentRequired",
                        "dependentSchemas",
                        "patternProperties",
                        "additionalProperties",
                        "propertyNames",
                        "unevaluatedProperties",
                    ],
                ),
                (Ty::Number, &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]),
                (Ty::String, &["minLength", "maxLength", "pattern", "format"]),
            ];
            for (ty, keywords) in GROUPS {
                if keywords.iter().any(|k| map.contains_key(*k)) {
                    found.push(Facet::Typed(ty));
                }
            }
        }
    }
    if map.get("$ref").is_some_and(Value::is_string) {
        found.push(Facet::Ref);
    }
    found
}

/// Whether `value` holds a reference anywhere (`$ref`, `$dynamicRef`, `$recursiveRef`): what it means then
/// depends on the document around it.
fn refers(value: &Value) -> bool {
    holds_key(value, &is_reference_key)
}

/// The types a `type` keyword names, each once.
fn types(map: &Map<String, Value>) -> Vec<Ty> {
    let mut out = Vec::new();
    let mut add = |name: &Value| {
        if let Some(t) = name.as_str().and_then(Ty::parse)
            && !out.contains(&t)
        {
            out.push(t);
        }
    };
    match map.get("type") {
        Some(Value::Array(names)) => names.iter().for_each(&mut add),
        Some(name) => add(name),
        None => {}
    }
    out
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

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The subject of the schema that holds the keyword at the end of `path`.
fn path_parent(path: &Path) -> String {
    let mut parent = path.clone();
    parent.pop();
    parent.subject()
}

fn has_default(value: &Value) -> bool {
    value.get("default").is_some()
}

fn same_set(a: &[&str], b: &[&str]) -> bool {
    subset(a, b) && subset(b, a)
}

fn subset(a: &[&str], b: &[&str]) -> bool {
    a.iter().all(|x| b.contains(x))
}

/// Subschemas with duplicates removed, as the reference registry collapses them.
fn dedup<'a>(subs: Vec<Loc<'a>>) -> Vec<Loc<'a>> {
    let mut out: Vec<Loc<'a>> = Vec::with_capacity(subs.len());
    for sub in subs {
        if !out.iter().any(|o| o.facet == sub.facet && o.value == sub.value) {
            out.push(sub);
        }
    }
    out
}

/// A maximum bipartite matching (augmenting paths): for each left node, the right node it is paired with.
fn maximum_matching(edges: &[Vec<bool>], right: usize) -> Vec<Option<usize>> {
    fn augment(l: usize, edges: &[Vec<bool>], seen: &mut [bool], right_of: &mut [Option<usize>]) -> bool {
        for r in 0..right_of.len() {
            if edges[l].get(r) == Some(&true) && !seen[r] {
                seen[r] = true;
                if right_of[r].is_none_or(|other| augment(other, edges, seen, right_of)) {
                    right_of[r] = Some(l);
                    return true;
                }
            }
        }
        false
    }
    let mut right_of: Vec<Option<usize>> = vec![None; right];
    for l in 0..edges.len() {
        let mut seen = vec![false; right];
        augment(l, edges, &mut seen, &mut right_of);
    }
    let mut left_of = vec![None; edges.len()];
    for (r, l) in right_of.iter().enumerate() {
        if let Some(l) = l {
            left_of[*l] = Some(r);
        }
    }
    left_of
}

/// Whether a bound limits from above (`maxLength`) or below (`minLength`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Limit {
    Upper,
    Lower,
}

/// Reports a bound the reader added, or tightened: `(added, tightened)` name the kinds.
fn bound(
    out: &mut Vec<Violation>,
    path: &Path,
    original: Option<&Map<String, Value>>,
    update: Option<&Map<String, Value>>,
    keyword: &str,
    limit: Limit,
    (added, tightened): (ViolationKind, ViolationKind),
) {
    let o = original.and_then(|m| m.get(keyword)).filter(|v| v.is_number());
    let u = update.and_then(|m| m.get(keyword)).filter(|v| v.is_number());
    bound_values(out, path, o, u, keyword, limit, (added, tightened));
}

fn bound_values(
    out: &mut Vec<Violation>,
    path: &Path,
    original: Option<&Value>,
    update: Option<&Value>,
    keyword: &str,
    limit: Limit,
    (added, tightened): (ViolationKind, ViolationKind),
) {
    match (original.and_then(Value::as_f64), update.and_then(Value::as_f64)) {
        (None, Some(_)) => {
            let message = format!(
                "{} gained `{keyword}: {}`: {REJECTS}",
                path.subject(),
                update.map(Value::to_string).unwrap_or_default()
            );
            report(out, added, path.at(Some(keyword)), message);
        }
        (Some(o), Some(u)) if (limit == Limit::Upper && u < o) || (limit == Limit::Lower && u > o) => {
            let verb = if limit == Limit::Upper { "decreased" } else { "increased" };
            let message = format!(
                "`{keyword}` of {} {verb} from {} to {}: {REJECTS}",
                path.subject(),
                original.map(Value::to_string).unwrap_or_default(),
                update.map(Value::to_string).unwrap_or_default()
            );
            report(out, tightened, path.at(Some(keyword)), message);
        }
        _ => {}
    }
}

fn compare_string(out: &mut Vec<Violation>, path: &Path, original: Loc<'_>, update: Loc<'_>) {
    let (om, um) = (original.object(), update.object());
    bound(
        out,
        path,
        om,
        um,
        "maxLength",
        Limit::Upper,
        (ViolationKind::MaxLengthAdded, ViolationKind::MaxLengthDecreased),
    );
    bound(
        out,
        path,
        om,
        um,
        "minLength",
        Limit::Lower,
        (ViolationKind::MinLengthAdded, ViolationKind::MinLengthIncreased),
    );
    let o_pattern = om.and_then(|m| m.get("pattern")).and_then(Value::as_str);
    let u_pattern = um.and_then(|m| m.get("pattern")).and_then(Value::as_str);
    match (o_pattern, u_pattern) {
        (None, Some(p)) => {
            let message = format!("{} gained `pattern` {p:?}: {REJECTS}", path.subject());
            report(out, ViolationKind::PatternAdded, path.at(Some("pattern")), message);
        }
        (Some(o), Some(u)) if o != u => {
            let message = format!("`pattern` of {} changed from {o:?} to {u:?}: {REJECTS}", path.subject());
            report(out, ViolationKind::PatternChanged, path.at(Some("pattern")), message);
        }
        _ => {}
    }
}

fn compare_number(out: &mut Vec<Violation>, path: &Path, original: Loc<'_>, update: Loc<'_>) {
    let (o, u) = (NumberBounds::new(original), NumberBounds::new(update));
    numeric_limit(out, path, Limit::Upper, o.upper(), u.upper(), o.exclusive_maximum.is_some());
    numeric_limit(out, path, Limit::Lower, o.lower(), u.lower(), o.exclusive_minimum.is_some());
    let multiple = |m: Option<&Map<String, Value>>| m.and_then(|m| m.get("multipleOf")).and_then(Value::as_f64);
    let (om, um) = (multiple(original.object()), multiple(update.object()));
    let at = path.at(Some("multipleOf"));
    match (om, um) {
        (None, Some(u)) => {
            let message = format!("{} gained `multipleOf: {u}`: {REJECTS}", path.subject());
            report(out, ViolationKind::MultipleOfAdded, at, message);
        }
        (Some(o), Some(u)) if o != u => {
            if is_multiple(o, u) {
                return; // the reader's step divides the writer's: every old value is still a multiple
            }
            let (kind, how) = if is_multiple(u, o) {
                (ViolationKind::MultipleOfExpanded, "a multiple of")
            } else {
                (ViolationKind::MultipleOfChanged, "unrelated to")
            };
            let message =
                format!("`multipleOf` of {} changed from {o} to {u}, {how} the writer's: {REJECTS}", path.subject());
            report(out, kind, at, message);
        }
        _ => {}
    }
}

/// Whether `a` is an integer multiple of `b`.
fn is_multiple(a: f64, b: f64) -> bool {
    if b == 0.0 || !a.is_finite() || !b.is_finite() {
        return false;
    }
    let ratio = a / b;
    (ratio - ratio.round()).abs() <= 1e-9 * ratio.abs().max(1.0)
}

/// Numeric bounds, with draft 4's boolean `exclusiveMaximum`/`exclusiveMinimum` turned into draft 6 limits.
struct NumberBounds<'a> {
    maximum: Option<&'a Value>,
    minimum: Option<&'a Value>,
    exclusive_maximum: Option<&'a Value>,
    exclusive_minimum: Option<&'a Value>,
}

impl<'a> NumberBounds<'a> {
    fn new(loc: Loc<'a>) -> Self {
        let get = |k: &str| loc.get(k);
        let number = |v: Option<&'a Value>| v.filter(|v| v.is_number());
        let (mut maximum, mut exclusive_maximum) = (number(get("maximum")), number(get("exclusiveMaximum")));
        if get("exclusiveMaximum") == Some(&Value::Bool(true)) {
            exclusive_maximum = maximum.take();
        }
        let (mut minimum, mut exclusive_minimum) = (number(get("minimum")), number(get("exclusiveMinimum")));
        if get("exclusiveMinimum") == Some(&Value::Bool(true)) {
            exclusive_minimum = minimum.take();
        }
        NumberBounds { maximum, minimum, exclusive_maximum, exclusive_minimum }
    }

    /// The effective upper limit: the tighter of `maximum` and `exclusiveMaximum`.
    fn upper(&self) -> Option<Bound> {
        tighter(Limit::Upper, Bound::of(self.maximum, false), Bound::of(self.exclusive_maximum, true))
    }

    /// The effective lower limit: the tighter of `minimum` and `exclusiveMinimum`.
    fn lower(&self) -> Option<Bound> {
        tighter(Limit::Lower, Bound::of(self.minimum, false), Bound::of(self.exclusive_minimum, true))
    }
}

/// A numeric limit: its value, its JSON text, and whether the limit itself is excluded.
#[derive(Clone, Debug)]
struct Bound {
    value: f64,
    text: String,
    exclusive: bool,
}

impl Bound {
    fn of(value: Option<&Value>, exclusive: bool) -> Option<Bound> {
        let v = value?;
        Some(Bound { value: v.as_f64()?, text: v.to_string(), exclusive })
    }

    /// Whether every number within `writer` is within `self` too.
    fn admits(&self, writer: &Bound, limit: Limit) -> bool {
        let looser = match limit {
            Limit::Upper => self.value > writer.value,
            Limit::Lower => self.value < writer.value,
        };
        looser || (self.value == writer.value && (!self.exclusive || writer.exclusive))
    }
}

fn tighter(limit: Limit, a: Option<Bound>, b: Option<Bound>) -> Option<Bound> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.admits(&b, limit) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Compares numeric limits by their effect, so `maximum`, `exclusiveMaximum` and draft 4's boolean form can
/// be traded for each other; kinds follow the reference registry's names.
fn numeric_limit(
    out: &mut Vec<Violation>,
    path: &Path,
    limit: Limit,
    original: Option<Bound>,
    update: Option<Bound>,
    original_has_exclusive: bool,
) {
    let Some(update) = update else { return };
    let (keyword, exclusive_keyword) = match limit {
        Limit::Upper => ("maximum", "exclusiveMaximum"),
        Limit::Lower => ("minimum", "exclusiveMinimum"),
    };
    let keyword = if update.exclusive { exclusive_keyword } else { keyword };
    let kind = match (&original, limit, update.exclusive) {
        (Some(o), _, _) if update.admits(o, limit) => return,
        (None, Limit::Upper, false) => ViolationKind::MaximumAdded,
        (None, Limit::Upper, true) => ViolationKind::ExclusiveMaximumAdded,
        (None, Limit::Lower, false) => ViolationKind::MinimumAdded,
        (None, Limit::Lower, true) => ViolationKind::ExclusiveMinimumAdded,
        (Some(_), Limit::Upper, false) => ViolationKind::MaximumDecreased,
        (Some(_), Limit::Lower, false) => ViolationKind::MinimumIncreased,
        (Some(_), Limit::Upper, true) if original_has_exclusive => ViolationKind::ExclusiveMaximumDecreased,
        (Some(_), Limit::Lower, true) if original_has_exclusive => ViolationKind::ExclusiveMinimumIncreased,
        (Some(_), Limit::Upper, true) => ViolationKind::ExclusiveMaximumAdded,
        (Some(_), Limit::Lower, true) => ViolationKind::ExclusiveMinimumAdded,
    };
    let describe = |b: &Bound| {
        let op = match (limit, b.exclusive) {
            (Limit::Upper, false) => "<=",
            (Limit::Upper, true) => "<",
            (Limit::Lower, false) => ">=",
            (Limit::Lower, true) => ">",
        };
        format!("{op} {}", b.text)
    };
    let message = match &original {
        None => format!("{} gained the limit {}: {REJECTS}", path.subject(), describe(&update)),
        Some(o) => format!(
            "{} now requires {} where the writer allowed {}: {REJECTS}",
            path.subject(),
            describe(&update),
            describe(o)
        ),
    };
    report(out, kind, path.at(Some(keyword)), message);
}

fn compare_enum(out: &mut Vec<Violation>, path: &Path, original: &[&Value], update: &[&Value], keyword: &str) {
    let contains = |set: &[&Value], v: &Value| set.iter().any(|s| json_equal(s, v));
    let missing: Vec<String> = original.iter().filter(|v| !contains(update, v)).map(|v| v.to_string()).collect();
    if missing.is_empty() {
        return;
    }
    let narrowed = update.iter().all(|v| contains(original, v));
    let kind = if narrowed { ViolationKind::EnumArrayNarrowed } else { ViolationKind::EnumArrayChanged };
    let message = format!("`{keyword}` of {} no longer allows {}: {REJECTS}", path.subject(), missing.join(", "));
    report(out, kind, path.at(Some(keyword)), message);
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// `additionalProperties`/`additionalItems`/`unevaluated*`: whether extra members are allowed, and the schema
/// they must match. An empty schema (`{}`) is read as `true`.
#[derive(Clone, Copy, Debug)]
struct Extra<'a> {
    permits: bool,
    schema: Option<&'a Value>,
}

impl<'a> Extra<'a> {
    fn of(value: Option<&'a Value>) -> Self {
        match value {
            None => Extra { permits: true, schema: None },
            Some(Value::Bool(b)) => Extra { permits: *b, schema: None },
            Some(v) if facets(v).is_empty() => Extra { permits: true, schema: None },
            Some(v) => Extra { permits: true, schema: Some(v) },
        }
    }
}

/// The object keywords of a schema.
struct ObjectView<'a> {
    loc: Loc<'a>,
    properties: Vec<(&'a str, &'a Value)>,
    /// `properties` as written, to look a name up in: a wide object is compared in linear time, not quadratic.
    property_map: Option<&'a Map<String, Value>>,
    required: HashSet<&'a str>,
    patterns: Vec<(&'a str, &'a Value)>,
    additional: Extra<'a>,
    additional_present: bool,
    unevaluated: Option<&'a Value>,
    /// `(keyword, property, required properties)`
    property_deps: Vec<(&'static str, &'a str, Vec<&'a str>)>,
    /// `(keyword, property, schema)`
    schema_deps: Vec<(&'static str, &'a str, &'a Value)>,
}

impl<'a> ObjectView<'a> {
    fn new(loc: Loc<'a>) -> Self {
        let entries = |k: &str| -> Vec<(&'a str, &'a Value)> {
            loc.get(k)
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
                .unwrap_or_default()
        };
        let strings = |v: &'a Value| -> Vec<&'a str> {
            v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
        };
        let mut property_deps = Vec::new();
        let mut schema_deps = Vec::new();
        for (name, dep) in entries("dependencies") {
            if dep.is_array() {
                property_deps.push(("dependencies", name, strings(dep)));
            } else {
                schema_deps.push(("dependencies", name, dep));
            }
        }
        for (name, dep) in entries("dependentRequired") {
            property_deps.push(("dependentRequired", name, strings(dep)));
        }
        for (name, dep) in entries("dependentSchemas") {
            schema_deps.push(("dependentSchemas", name, dep));
        }
        ObjectView {
            loc,
            properties: entries("properties"),
            property_map: loc.get("properties").and_then(Value::as_object),
            required: loc.get("required").map(strings).unwrap_or_default().into_iter().collect(),
            patterns: entries("patternProperties"),
            additional: Extra::of(loc.get("additionalProperties")),
            additional_present: loc.get("additionalProperties").is_some(),
            unevaluated: loc.get("unevaluatedProperties"),
            property_deps,
            schema_deps,
        }
    }

    fn property(&self, name: &str) -> Option<&'a Value> {
        self.property_map?.get(name)
    }

    fn is_required(&self, name: &str) -> bool {
        self.required.contains(&name)
    }

    /// Open: any property name with any value is allowed.
    fn is_open(&self) -> bool {
        if !self.patterns.is_empty() || !self.additional.permits || self.additional.schema.is_some() {
            return false;
        }
        self.additional_present || (Extra::of(self.unevaluated).schema.is_none() && Extra::of(self.unevaluated).permits)
    }

    /// Partially open: the schema a property not in `properties` must match, if one is given.
    fn partial(&self, name: &str) -> Option<Loc<'a>> {
        for (pattern, schema) in &self.patterns {
            if pattern_matches(pattern, name) {
                return Some(self.loc.child(schema));
            }
        }
        if let Some(schema) = self.additional.schema {
            return Some(self.loc.child(schema));
        }
        if !self.additional_present {
            return Extra::of(self.unevaluated).schema.map(|s| self.loc.child(s));
        }
        None
    }
}

/// Whether an ECMA-262 `pattern` finds a match in `name`; a pattern that does not compile matches nothing.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    let schema = serde_json::json!({ "pattern": pattern });
    jsonschema::validator_for(&schema).is_ok_and(|v| v.is_valid(&Value::String(name.to_string())))
}

/// The array keywords of a schema, across drafts: `items` as one schema, tuple items (`items` as an array, or
/// `prefixItems`), and what follows the tuple (`additionalItems`, or `items` after `prefixItems`).
struct ArrayView<'a> {
    all: Option<&'a Value>,
    tuple: Vec<&'a Value>,
    tuple_keyword: &'static str,
    additional: Extra<'a>,
    additional_keyword: &'static str,
    additional_present: bool,
    unevaluated: Option<&'a Value>,
}

impl<'a> ArrayView<'a> {
    fn new(loc: Loc<'a>) -> Self {
        let unevaluated = loc.get("unevaluatedItems");
        if let Some(Value::Array(prefix)) = loc.get("prefixItems") {
            return ArrayView {
                all: None,
                tuple: prefix.iter().collect(),
                tuple_keyword: "prefixItems",
                additional: Extra::of(loc.get("items")),
                additional_keyword: "items",
                additional_present: loc.get("items").is_some(),
                unevaluated,
            };
        }
        let (all, tuple) = match loc.get("items") {
            Some(Value::Array(items)) => (None, items.iter().collect()),
            Some(v) if v == &Value::Bool(true) || (v.is_object() && facets(v).is_empty()) => (None, Vec::new()),
            other => (other, Vec::new()),
        };
        ArrayView {
            all,
            tuple,
            tuple_keyword: "items",
            additional: Extra::of(loc.get("additionalItems")),
            additional_keyword: "additionalItems",
            additional_present: loc.get("additionalItems").is_some(),
            unevaluated,
        }
    }

    /// Open: any item after the tuple is allowed.
    fn is_open(&self) -> bool {
        if !self.additional.permits || self.additional.schema.is_some() {
            return false;
        }
        self.additional_present || (Extra::of(self.unevaluated).permits && Extra::of(self.unevaluated).schema.is_none())
    }

    /// Partially open: the schema items after the tuple must match.
    fn partial(&self) -> Option<&'a Value> {
        if let Some(schema) = self.additional.schema {
            return Some(schema);
        }
        if !self.additional_present {
            return Extra::of(self.unevaluated).schema;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::format::FormatSchema;
    use crate::{Limits, NoReferences, ParsedSchema, SchemaType, UnparsedSchema, parse};

    fn schema(value: Value) -> ParsedSchema {
        let unparsed = UnparsedSchema::new(SchemaType::Json, value.to_string());
        parse(&unparsed, &NoReferences, &Limits::default()).expect("test schema parses")
    }

    fn violations(writer: Value, reader: Value) -> Vec<Violation> {
        crate::compat::can_read(&schema(reader), &schema(writer)).expect("JSON is supported")
    }

    #[test]
    fn json_kinds_spell_as_the_reference_registry() {
        for kind in ViolationKind::JSON {
            let spelled = serde_json::to_string(&kind).expect("serializes");
            assert_eq!(spelled, format!("\"{}\"", kind.as_str()));
            let back: ViolationKind = serde_json::from_str(&spelled).expect("deserializes");
            assert_eq!(back, kind);
            assert!(kind.as_str().bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{kind}");
        }
        let unique: HashSet<&str> = ViolationKind::JSON.iter().map(|k| k.as_str()).collect();
        assert_eq!(unique.len(), ViolationKind::JSON.len());
    }

    #[test]
    fn a_narrowed_property_is_reported_where_and_why() {
        let writer = json!({"type": "object", "properties": {"amount": {"type": "number"}}});
        let reader = json!({"type": "object", "properties": {"amount": {"type": "integer"}}});
        let found = violations(writer, reader);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, ViolationKind::TypeNarrowed);
        assert_eq!(found[0].path, "#/properties/amount");
        assert_eq!(
            found[0].message,
            "property `amount` narrowed from number to integer: the reader rejects data the writer accepted"
        );
    }

    #[test]
    fn keyword_violations_point_at_the_keyword() {
        let writer = json!({"properties": {"name": {"type": "string", "maxLength": 20}}});
        let reader = json!({"properties": {"name": {"type": "string", "maxLength": 10}}});
        let found = violations(writer, reader);
        assert_eq!(found[0].path, "#/properties/name/maxLength");
        assert!(found[0].message.contains("from 20 to 10"), "{}", found[0].message);
    }

    #[test]
    fn deep_nesting_is_compared_without_overflow() {
        let mut writer = json!({"type": "number"});
        let mut reader = json!({"type": "integer"});
        for _ in 0..30 {
            writer = json!({"type": "object", "properties": {"a": writer}});
            reader = json!({"type": "object", "properties": {"a": reader}});
        }
        let found = violations(writer, reader);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, format!("#/{}", vec!["properties/a"; 30].join("/")));
    }

    #[test]
    fn the_depth_limit_reports_instead_of_recursing() {
        // Hand-built past the parser's limit, as a fuzzer or a future caller might: the walk stops and reports.
        let mut value = json!({"type": "number"});
        for _ in 0..(MAX_DEPTH + 10) {
            value = json!({"type": "object", "properties": {"a": value}});
        }
        let mut diff = Diff {
            writer: Docs { root: &value, references: &[] },
            reader: Docs { root: &value, references: &[] },
            in_progress: HashSet::new(),
            memo: HashMap::new(),
            steps: 0,
            shortcut: false,
        };
        let mut out = Vec::new();
        let root = Loc::root(Side::Writer, &value);
        diff.compare(&mut out, &mut Path::default(), Some(root), Some(Loc { side: Side::Reader, ..root }), 0);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("could not be established"));
    }

    #[test]
    fn reference_cycles_terminate() {
        let cyclic = json!({
            "$ref": "#/definitions/a",
            "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}
        });
        let mut diff = Diff {
            writer: Docs { root: &cyclic, references: &[] },
            reader: Docs { root: &cyclic, references: &[] },
            in_progress: HashSet::new(),
            memo: HashMap::new(),
            steps: 0,
            shortcut: false,
        };
        let mut out = Vec::new();
        let root = Loc::root(Side::Writer, &cyclic);
        diff.compare(&mut out, &mut Path::default(), Some(root), Some(Loc { side: Side::Reader, ..root }), 0);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn mutually_recursive_definitions_compare() {
        let make = |leaf: &str| {
            json!({
                "$ref": "#/definitions/a",
                "definitions": {
                    "a": {"type": "object", "properties": {"b": {"$ref": "#/definitions/b"}, "v": {"type": leaf}}},
                    "b": {"type": "object", "properties": {"a": {"$ref": "#/definitions/a"}}}
                }
            })
        };
        assert!(violations(make("number"), make("number")).is_empty());
        let found = violations(make("number"), make("integer"));
        assert_eq!(found.iter().map(|v| v.kind).collect::<Vec<_>>(), [ViolationKind::TypeNarrowed]);
    }

    #[test]
    fn wide_combinators_stay_within_the_step_budget() {
        let alternatives: Vec<Value> = (0..12)
            .map(|i| json!({"oneOf": (0..12).map(|j| json!({"type": "string", "maxLength": i * 12 + j})).collect::<Vec<_>>()}))
            .collect();
        let writer = schema(json!({"oneOf": alternatives}));
        let FormatSchema::Json(writer) = writer.kind() else { unreachable!("a JSON Schema") };
        let started = std::time::Instant::now();
        // In full: the shortcut would take the two identical documents as compatible without a step.
        let _ = diff(writer, &writer.clone(), false);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    /// The pairs of schemas to compare: the compatibility corpus's cases, and the reference registry's own
    /// examples when they are next to the workspace (they are never copied into the project).
    fn corpus_pairs() -> Vec<(Value, Value)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |path: std::path::PathBuf| -> Option<Value> {
            let text = std::fs::read_to_string(path).ok()?;
            Some(serde_json::from_str(&text).expect("a JSON corpus"))
        };
        let corpus = read(root.join("tests/compat/json.json")).expect("the JSON compatibility corpus");
        let mut pairs: Vec<(Value, Value)> = corpus["cases"]
            .as_array()
            .expect("cases")
            .iter()
            // Cases with references need a resolver; the rest are compared on their own.
            .filter(|case| case.get("writer_references").is_none() && case.get("reader_references").is_none())
            .map(|case| (case["writer"].clone(), case["reader"].clone()))
            .collect();
        if let Some(Value::Array(cases)) = read(root.join("../../shared/conformance/confluent-json-diff-examples.json"))
        {
            pairs.extend(cases.iter().map(|case| (case["original_schema"].clone(), case["update_schema"].clone())));
        }
        pairs
    }

    #[test]
    fn the_identical_subschema_shortcut_changes_no_report() {
        let pairs = corpus_pairs();
        assert!(pairs.len() >= 50, "only {} pairs", pairs.len());
        let json = |value: &Value| match schema(value.clone()).kind() {
            FormatSchema::Json(parsed) => parsed.clone(),
            _ => unreachable!("a JSON Schema"),
        };
        let spelled = |found: Vec<Violation>| found.into_iter().map(|v| format!("{v:?}")).collect::<Vec<_>>();
        for (writer, reader) in &pairs {
            let (writer, reader) = (json(writer), json(reader));
            for (a, b) in [(&writer, &reader), (&reader, &writer)] {
                assert_eq!(spelled(diff(b, a, true)), spelled(diff(b, a, false)), "{:#} -> {:#}", a.value(), b.value());
                // What the shortcut takes for granted, established in full: a copy reads its original's data.
                assert_eq!(spelled(diff(&a.clone(), a, false)), Vec::<String>::new(), "{:#}", a.value());
            }
        }
    }

    #[test]
    fn an_identical_subschema_with_a_reference_is_still_compared() {
        // `properties` is the same text on both sides, but its `$ref` points at a definition that changed.
        let with =
            |ty: &str| json!({"properties": {"a": {"$ref": "#/definitions/x"}}, "definitions": {"x": {"type": ty}}});
        let found = violations(with("string"), with("number"));
        assert_eq!(found.iter().map(|v| v.kind).collect::<Vec<_>>(), [ViolationKind::TypeChanged]);
        assert_eq!(found[0].path, "#/properties/a");
    }

    #[test]
    fn matching_finds_a_pairing_position_does_not() {
        let edges = vec![vec![true, true], vec![true, false]];
        assert_eq!(maximum_matching(&edges, 2), vec![Some(1), Some(0)]);
    }
}
