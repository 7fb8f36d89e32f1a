//! JSON Schema compatibility: the reference registry's `JsonSchemaDiff` rules, comparing the writer schema
//! (Confluent's "original") with the reader schema (its "update"), and reporting only the differences that
//! make the reader reject data the writer accepted.
//!
//! Schemas are read the way the reference registry's loader reads them: a schema object splits into facets
//! (`enum`, `const`, each combinator, `not`, `$ref`, one facet per `type`, or per keyword group when there is
//! no `type`); several facets form an implicit `allOf`. The walk is bounded by a depth limit and a step
//! budget, and `$ref` cycles are cut by remembering the pairs being compared. It never panics.
//!
//! This file is the walk: [`Diff::compare`] reduces both schemas to a [`Node`] and hands the pair to the
//! file that owns that kind of schema; it holds no keyword's rule itself.

mod arrays;
mod combined;
mod content;
mod locations;
mod nodes;
mod objects;
mod report;
mod scalars;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{Violation, ViolationKind};
use crate::format::holds_key;
use crate::format::json::{JsonSchema, is_reference_key};
use locations::{Docs, Loc, Side};
use nodes::{Criterion, Facet, Node};
use report::{Findings, Path, REJECTS};
use scalars::{compare_enum, compare_number, compare_string};

/// Deepest nesting of schema comparisons before the walk stops and reports.
const MAX_DEPTH: usize = 64;
/// Most schema pairs compared in one check; combinators compare every pairing, so this bounds the work.
const MAX_STEPS: usize = 100_000;

/// What keeps `reader` from reading `writer`'s data, the kinds in `tolerated` (a lenient policy's) set aside: they
/// neither count as violations nor make a subschema incompatible where combinators pair subschemas.
pub(super) fn can_read(
    reader: &JsonSchema,
    writer: &JsonSchema,
    tolerated: &'static [ViolationKind],
) -> Vec<Violation> {
    diff(reader, writer, true, tolerated)
}

/// `can_read`, with or without the shortcut for identical subschemas (off only to test that it changes nothing).
fn diff(
    reader: &JsonSchema,
    writer: &JsonSchema,
    shortcut: bool,
    tolerated: &'static [ViolationKind],
) -> Vec<Violation> {
    let writer = Docs { root: writer.value(), references: writer.references() };
    let reader = Docs { root: reader.value(), references: reader.references() };
    compare_documents(writer, reader, shortcut, tolerated)
}

/// The writer's documents against the reader's, from their roots.
fn compare_documents<'a>(
    writer: Docs<'a>,
    reader: Docs<'a>,
    shortcut: bool,
    tolerated: &'static [ViolationKind],
) -> Vec<Violation> {
    let original = Loc::root(Side::Writer, writer.root);
    let update = Loc::root(Side::Reader, reader.root);
    let mut diff =
        Diff { writer, reader, in_progress: HashSet::new(), memo: HashMap::new(), steps: 0, shortcut, tolerated };
    let mut found = diff.findings(Path::default());
    diff.compare(&mut found, Some(original), Some(update), 0);
    found.violations
}

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
    /// Kinds the policy lets through.
    tolerated: &'static [ViolationKind],
}

impl<'a> Diff<'a> {
    /// Compares the writer's `original` with the reader's `update`, recording in `found` what makes them
    /// incompatible.
    fn compare(&mut self, found: &mut Findings, original: Option<Loc<'a>>, update: Option<Loc<'a>>, depth: usize) {
        let (original, update) = match (original, update) {
            (None, None) | (Some(_), None) => return,
            (None, Some(_)) => {
                let message = format!("{} now has a schema where the writer had none: {REJECTS}", found.path.subject());
                return found.report(ViolationKind::SchemaAdded, None, message);
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
            return found.report(ViolationKind::TypeChanged, None, message);
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
                    format!("{} changed from {} to {}: {REJECTS}", found.path.subject(), o.describe(), u.describe());
                found.report(ViolationKind::TypeChanged, None, message);
            }
            return;
        }

        let key = (original.key(), update.key());
        if !self.in_progress.insert(key) {
            return;
        }
        match (o, u) {
            (Node::String, Node::String) => compare_string(found, original, update),
            (Node::Number { integer: oi }, Node::Number { integer: ui }) => {
                compare_number(found, original, update);
                if !oi && ui {
                    let message = format!("{} narrowed from number to integer: {REJECTS}", found.path.subject());
                    found.report(ViolationKind::TypeNarrowed, None, message);
                }
            }
            (Node::Enum { values: ov, keyword }, Node::Enum { values: uv, .. }) => {
                compare_enum(found, &ov, &uv, keyword)
            }
            (
                Node::Combined { criterion: oc, subs: os, synthetic: osyn },
                Node::Combined { criterion: uc, subs: us, .. },
            ) => self.compare_combined(found, (oc, os, osyn), (uc, us), depth),
            // The reader's `not` must exclude no more than the writer's: compare the other way round.
            (Node::Not(on), Node::Not(un)) if !self.compatible(un, on, depth + 1) => {
                let message = format!("the `not` of {} now excludes values the writer accepted", found.path.subject());
                found.report(ViolationKind::NotTypeExtended, Some("not"), message);
            }
            (Node::Object, Node::Object) => self.compare_object(found, original, update, depth),
            (Node::Array, Node::Array) => self.compare_array(found, original, update, depth),
            (Node::Unresolved(a), Node::Unresolved(b)) if a != b => {
                let message = format!(
                    "{} refers to {b} instead of {a}, and neither resolves, so they cannot be compared",
                    found.path.subject()
                );
                found.report(ViolationKind::TypeChanged, None, message);
            }
            _ => {}
        }
        self.in_progress.remove(&key);
    }

    /// Nothing found yet, at `path`, under this comparison's policy.
    fn findings(&self, path: Path) -> Findings {
        Findings { violations: Vec::new(), path, tolerated: self.tolerated }
    }

    /// Whether `update` reads everything `original` accepts, recording nothing.
    fn compatible(&mut self, original: Loc<'a>, update: Loc<'a>, depth: usize) -> bool {
        let key = (original.key(), update.key());
        if let Some(known) = self.memo.get(&key) {
            return *known;
        }
        let mut scratch = self.findings(Path::default());
        self.compare(&mut scratch, Some(original), Some(update), depth);
        let ok = scratch.violations.is_empty();
        if self.steps <= MAX_STEPS {
            self.memo.insert(key, ok);
        }
        ok
    }

    /// The violations of comparing a pair, at `path`, kept apart from what the caller has found.
    fn sub(&mut self, path: &Path, original: Option<Loc<'a>>, update: Option<Loc<'a>>, depth: usize) -> Vec<Violation> {
        let mut scratch = self.findings(path.clone());
        self.compare(&mut scratch, original, update, depth);
        scratch.violations
    }
}

/// Whether `value` holds a reference anywhere (`$ref`, `$dynamicRef`, `$recursiveRef`): what it means then
/// depends on the document around it.
fn refers(value: &Value) -> bool {
    holds_key(value, &is_reference_key)
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
        let hand_built = || Docs { root: &value, references: &[] };
        let out = compare_documents(hand_built(), hand_built(), false, &[]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("could not be established"));
    }

    #[test]
    fn reference_cycles_terminate() {
        let cyclic = json!({
            "$ref": "#/definitions/a",
            "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}
        });
        let hand_built = || Docs { root: &cyclic, references: &[] };
        let out = compare_documents(hand_built(), hand_built(), false, &[]);
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
        let _ = diff(writer, &writer.clone(), false, &[]);
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
                assert_eq!(
                    spelled(diff(b, a, true, &[])),
                    spelled(diff(b, a, false, &[])),
                    "{:#} -> {:#}",
                    a.value(),
                    b.value()
                );
                // What the shortcut takes for granted, established in full: a copy reads its original's data.
                assert_eq!(spelled(diff(&a.clone(), a, false, &[])), Vec::<String>::new(), "{:#}", a.value());
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
}
