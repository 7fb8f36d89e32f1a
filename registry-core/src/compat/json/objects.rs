//! Objects: `properties` compared by name (added, removed, made required), `patternProperties`,
//! dependencies, the open content past the properties, and the property counts.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::Diff;
use super::content::Extra;
use super::locations::Loc;
use super::nodes::Node;
use super::report::{Path, REJECTS, escape, report};
use super::scalars::{Limit, bound};
use crate::compat::{Violation, ViolationKind};

impl<'a> Diff<'a> {
    pub(super) fn compare_object(
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
