//! Objects: `properties` compared by name (added, removed, made required), `patternProperties`,
//! dependencies, the open content past the properties, and the property counts.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::Diff;
use super::content::{ContentModel, Lone, Members, Rest};
use super::locations::Loc;
use super::report::{Findings, REJECTS, escape};
use super::scalars::{SizeLimit, size_limits};
use crate::compat::ViolationKind;

impl<'a> Diff<'a> {
    pub(super) fn compare_object(&mut self, found: &mut Findings, original: Loc<'a>, update: Loc<'a>, depth: usize) {
        let o = ObjectView::new(original);
        let u = ObjectView::new(update);

        // required: only properties both sides declare, as the reference registry does.
        for (name, _) in &o.properties {
            let Some(u_schema) = u.property(name) else { continue };
            if !o.is_required(name) && u.is_required(name) && !has_default(u_schema) {
                let message =
                    format!("property `{name}` became required and has no default: the writer's data may lack it");
                found.path.push("required");
                found.report(ViolationKind::RequiredAttributeAdded, Some(&escape(name)), message);
                found.path.pop();
            }
        }

        found.path.push("properties");
        let mut names: Vec<&str> = o.properties.iter().map(|(n, _)| *n).collect();
        for (n, _) in &u.properties {
            if o.property(n).is_none() {
                names.push(n);
            }
        }
        for name in names {
            found.path.push(name);
            match (o.property(name), u.property(name)) {
                (Some(os), None) => {
                    let word = |why| lone_property(name, os, &u, why);
                    self.lone_member(found, original.child(os), u.content_model(name), depth, word);
                }
                (None, Some(us)) => {
                    let writer = o.content_model(name);
                    let word = |why| lone_property(name, us, &u, why);
                    self.lone_member(found, update.child(us), writer, depth, word);
                    // An open writer's data may carry the property already: that case has kinds of its own.
                    if !matches!(writer, ContentModel::Open) && u.is_required(name) && !has_default(us) {
                        let message = format!(
                            "required property `{name}` was added without a default: the writer's data lacks it"
                        );
                        found.report(ViolationKind::RequiredPropertyAddedToUnopenContentModel, None, message);
                    }
                }
                (Some(os), Some(us)) => {
                    self.compare(found, Some(original.child(os)), Some(update.child(us)), depth + 1)
                }
                (None, None) => {}
            }
            found.path.pop();
        }
        found.path.pop();

        // The reference registry reads patternProperties only for added or removed properties; a pattern both
        // sides declare must also keep accepting what it accepted.
        found.path.push("patternProperties");
        for (pattern, os) in &o.patterns {
            if let Some((_, us)) = u.patterns.iter().find(|(p, _)| p == pattern) {
                found.path.push(pattern);
                self.compare(found, Some(original.child(os)), Some(update.child(us)), depth + 1);
                found.path.pop();
            }
        }
        found.path.pop();

        self.compare_dependencies(found, &o, &u, depth);
        self.compare_rest(found, &o.rest, &u.rest, depth);
        size_limits(found, original, update, &PROPERTY_COUNTS);
    }

    fn compare_dependencies(&mut self, found: &mut Findings, o: &ObjectView<'a>, u: &ObjectView<'a>, depth: usize) {
        for_each_dependency(found, &o.property_deps, &u.property_deps, |found, name, od, ud| match (od, ud) {
            (None, Some(ud)) => {
                let message = format!(
                    "a dependency was added: when `{name}` is present the reader also requires {ud:?}: {REJECTS}"
                );
                found.report(ViolationKind::DependencyArrayAdded, None, message);
            }
            (Some(od), Some(ud)) if !same_set(od, ud) => {
                let (kind, verb) = if subset(od, ud) {
                    (ViolationKind::DependencyArrayExtended, "more")
                } else if subset(ud, od) {
                    // Fewer properties required: compatible.
                    return;
                } else {
                    (ViolationKind::DependencyArrayChanged, "different")
                };
                let message = format!(
                    "when `{name}` is present the reader requires {verb} properties ({ud:?} instead of {od:?}): \
                     {REJECTS}"
                );
                found.report(kind, None, message);
            }
            _ => {}
        });

        for_each_dependency(found, &o.schema_deps, &u.schema_deps, |found, name, od, ud| match (od, ud) {
            (None, Some(_)) => {
                let message = format!(
                    "a schema dependency was added: when `{name}` is present the object must also match a schema: \
                     {REJECTS}"
                );
                found.report(ViolationKind::DependencySchemaAdded, None, message);
            }
            (Some(od), Some(ud)) => self.compare(found, Some(o.loc.child(od)), Some(u.loc.child(ud)), depth + 1),
            _ => {}
        });
    }
}

/// How a violation of a property only one side declares is worded; `schema` is its schema there, and an
/// addition to an open writer is named by whether the reader requires it and gives it a default.
fn lone_property(name: &str, schema: &Value, reader: &ObjectView<'_>, why: Lone) -> (ViolationKind, String) {
    match why {
        Lone::RemovedNotCovered => (
            ViolationKind::PropertyRemovedNotCoveredByPartiallyOpenContentModel,
            format!(
                "property `{name}` was removed and the reader's patternProperties/additionalProperties \
                 do not accept the values the writer allowed for it: {REJECTS}"
            ),
        ),
        Lone::RemovedFromClosed => (
            ViolationKind::PropertyRemovedFromClosedContentModel,
            format!("property `{name}` was removed and the reader does not allow additional properties: {REJECTS}"),
        ),
        Lone::AddedToOpen => {
            let (kind, what) = match (reader.is_required(name), has_default(schema)) {
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
            (kind, message)
        }
        Lone::AddedNotCovered => (
            ViolationKind::PropertyAddedNotCoveredByPartiallyOpenContentModel,
            format!(
                "property `{name}` was added with a schema that rejects values the writer's \
                 patternProperties/additionalProperties allowed for it"
            ),
        ),
    }
}

/// A dependency: `(keyword, property, what the property's presence requires)`.
type Dependency<'a, T> = (&'static str, &'a str, T);

/// Calls `compare` for each property either side names a dependency for, the writer's first, with the path
/// at it (under the keyword that declares it) and the writer's and the reader's requirement.
fn for_each_dependency<'d, 'a, T>(
    found: &mut Findings,
    o: &'d [Dependency<'a, T>],
    u: &'d [Dependency<'a, T>],
    mut compare: impl FnMut(&mut Findings, &'a str, Option<&'d T>, Option<&'d T>),
) {
    let mut names: Vec<&str> = o.iter().map(|d| d.1).collect();
    names.extend(u.iter().map(|d| d.1).filter(|n| !o.iter().any(|d| d.1 == *n)));
    for name in names {
        let od = o.iter().find(|d| d.1 == name);
        let ud = u.iter().find(|d| d.1 == name);
        let keyword = od.or(ud).map(|d| d.0).unwrap_or("dependencies");
        found.path.push(keyword);
        found.path.push(name);
        compare(found, name, od.map(|d| &d.2), ud.map(|d| &d.2));
        found.path.pop();
        found.path.pop();
    }
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

/// How many properties an object may have.
const PROPERTY_COUNTS: [SizeLimit; 2] = [
    SizeLimit::upper("maxProperties", ViolationKind::MaxPropertiesAdded, ViolationKind::MaxPropertiesDecreased),
    SizeLimit::lower("minProperties", ViolationKind::MinPropertiesAdded, ViolationKind::MinPropertiesIncreased),
];

/// The object keywords of a schema.
struct ObjectView<'a> {
    loc: Loc<'a>,
    properties: Vec<(&'a str, &'a Value)>,
    /// `properties` as written, to look a name up in: a wide object is compared in linear time, not quadratic.
    property_map: Option<&'a Map<String, Value>>,
    required: HashSet<&'a str>,
    patterns: Vec<(&'a str, &'a Value)>,
    rest: Rest<'a>,
    property_deps: Vec<Dependency<'a, Vec<&'a str>>>,
    schema_deps: Vec<Dependency<'a, &'a Value>>,
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
            rest: Rest::new(loc, Members::Properties, "additionalProperties"),
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

    /// What a property not in `properties` may be.
    fn content_model(&self, name: &str) -> ContentModel<'a> {
        if self.patterns.is_empty() {
            return self.rest.content_model();
        }
        // The reference registry never takes an object with patternProperties as open; the first pattern that
        // matches the name gives its schema.
        match self.patterns.iter().find(|(pattern, _)| pattern_matches(pattern, name)) {
            Some((_, schema)) => ContentModel::PartiallyOpen(self.loc.child(schema)),
            None => self.rest.partially_open(),
        }
    }
}

/// Whether an ECMA-262 `pattern` finds a match in `name`; a pattern that does not compile matches nothing.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    let schema = serde_json::json!({ "pattern": pattern });
    jsonschema::validator_for(&schema).is_ok_and(|v| v.is_valid(&Value::String(name.to_string())))
}
