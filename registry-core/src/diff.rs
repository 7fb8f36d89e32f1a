//! What differs between two schemas of one format, each difference with where it is and whether it breaks
//! BACKWARD (the new schema cannot read data written with the old) or FORWARD (the old cannot read the new's), and
//! the semantic version bump the change implies.
//!
//! Differences are structural: Avro fields and symbols are matched by name, JSON Schema properties, definitions
//! and `required` names by name, Protobuf messages by full name and fields by number. Whether one breaks a
//! direction is the compatibility check's verdict ([`crate::compat::can_read`] both ways): a violation is placed
//! on the difference at, above or below its path; a violation that no difference holds is reported as a
//! difference of its own, so nothing the check found is lost.

use std::collections::BTreeSet;

use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::compat::{CompatError, Violation, can_read};
use crate::format::{FormatSchema, ParsedSchema};

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What changed: `FIELD_ADDED`, `TYPE_CHANGED`, `DOC_CHANGED`... (or a compatibility violation's kind).
    pub kind: String,
    /// Where: a JSON pointer into the new schema (into the old one for what was removed), or a Protobuf element's
    /// full name.
    pub path: String,
    /// The old value, where there was one.
    pub old: Option<Value>,
    /// The new value, where there is one.
    pub new: Option<Value>,
    /// Whether the new schema cannot read data written with the old because of it.
    pub breaks_backward: bool,
    /// Whether the old schema cannot read data written with the new because of it.
    pub breaks_forward: bool,
}

/// A semantic version bump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Nothing differs.
    None,
    /// Only documentation differs.
    Patch,
    /// A backward compatible change.
    Minor,
    /// A change the new schema cannot read the old data across.
    Major,
}

/// Every difference from `old` to `new`, and the bump they imply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// The differences, in schema order.
    pub differences: Vec<Difference>,
    /// The semantic version bump.
    pub bump: Bump,
}

/// A difference before the compatibility verdicts are placed on it.
struct Raw {
    kind: &'static str,
    old_path: Option<String>,
    new_path: Option<String>,
    old: Option<Value>,
    new: Option<Value>,
}

/// The differences from `old` to `new` (two schemas of one format; of two formats, the format is the difference).
pub fn diff(old: &ParsedSchema, new: &ParsedSchema) -> Result<SchemaDiff, CompatError> {
    let mut raw = Vec::new();
    match (old.kind(), new.kind()) {
        (FormatSchema::Avro(_), FormatSchema::Avro(_)) => {
            if let (Some(o), Some(n)) = (json_of(old), json_of(new)) {
                avro(&o, &n, "", "", &mut raw);
            }
        }
        (FormatSchema::Json(_), FormatSchema::Json(_)) => {
            if let (Some(o), Some(n)) = (json_of(old), json_of(new)) {
                json_schema(&o, &n, "", "", &mut raw);
            }
        }
        (FormatSchema::Protobuf(o), FormatSchema::Protobuf(n)) => protobuf(o.file(), n.file(), &mut raw),
        _ => raw.push(Raw {
            kind: "SCHEMA_TYPE_CHANGED",
            old_path: Some(String::new()),
            new_path: Some(String::new()),
            old: Some(Value::String(old.schema_type().to_string())),
            new: Some(Value::String(new.schema_type().to_string())),
        }),
    }
    let backward = can_read(new, old)?;
    let forward = can_read(old, new)?;
    let (mut backward_held, mut forward_held) = (vec![false; backward.len()], vec![false; forward.len()]);
    let mut differences: Vec<Difference> = raw
        .into_iter()
        .map(|raw| {
            // A backward violation is placed in the new schema (the reader), a forward one in the old; what one of
            // them lacks is placed by where it is in the other (`Across`).
            let (new_path, old_path) = (raw.new_path.as_deref(), raw.old_path.as_deref());
            let breaks_backward = place(&backward, &mut backward_held, on(new_path, old_path));
            let breaks_forward = place(&forward, &mut forward_held, on(old_path, new_path));
            let path = raw.new_path.or(raw.old_path).unwrap_or_default();
            Difference { kind: raw.kind.to_string(), path, old: raw.old, new: raw.new, breaks_backward, breaks_forward }
        })
        .collect();
    // What the check found and no difference holds is reported as itself.
    let unheld = |violations: &[Violation], held: &[bool], backward: bool| -> Vec<Difference> {
        let found = violations.iter().zip(held).filter(|(_, held)| !**held);
        found
            .map(|(v, _)| Difference {
                kind: v.kind.to_string(),
                path: v.path.clone(),
                old: None,
                new: Some(Value::String(v.message.clone())),
                breaks_backward: backward,
                breaks_forward: !backward,
            })
            .collect()
    };
    differences.extend(unheld(&backward, &backward_held, true));
    differences.extend(unheld(&forward, &forward_held, false));
    let bump = if differences.is_empty() {
        Bump::None
    } else if differences.iter().all(|d| d.kind.starts_with("DOC_")) {
        Bump::Patch
    } else if !backward.is_empty() {
        Bump::Major
    } else {
        Bump::Minor
    };
    Ok(SchemaDiff { differences, bump })
}

/// Where a violation of a direction whose reader's path is `own` is placed: there, else by `other`.
fn on<'a>(own: Option<&'a str>, other: Option<&'a str>) -> Option<(&'a str, Within)> {
    match (own, other) {
        (Some(path), _) => Some((path, Within::Same)),
        (None, Some(path)) => Some((path, Within::Across)),
        (None, None) => None,
    }
}

/// How a difference's path relates to the schema a violation's path is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    /// The same schema.
    Same,
    /// The other one: a JSON pointer ending in an index may name another element there, so only a violation above
    /// the element holds it; a Protobuf name is a name in both.
    Across,
}

/// Whether any of `violations` is at, above or below `path` (marking those that are as held).
fn place(violations: &[Violation], held: &mut [bool], path: Option<(&str, Within)>) -> bool {
    let Some((path, within)) = path else { return false };
    let indexed =
        path.rsplit('/').next().is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()));
    let only_above = within == Within::Across && indexed;
    let mut any = false;
    for (violation, held) in violations.iter().zip(held.iter_mut()) {
        // JSON Schema's checker writes its pointers as URI fragments.
        let at = violation.path.strip_prefix('#').unwrap_or(&violation.path);
        let above = path.starts_with(at) && path[at.len()..].starts_with(['/', '.']);
        let related = above
            || (!only_above && (at == path || (at.starts_with(path) && at[path.len()..].starts_with(['/', '.']))));
        if related {
            *held = true;
            any = true;
        }
    }
    any
}

fn json_of(schema: &ParsedSchema) -> Option<Value> {
    serde_json::from_str(schema.text()).ok()
}

/// A JSON pointer segment: `~` and `/` escaped.
fn segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn push(
    out: &mut Vec<Raw>,
    kind: &'static str,
    old_path: &str,
    new_path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) {
    out.push(Raw {
        kind,
        old_path: old.map(|_| old_path.to_string()),
        new_path: new.map(|_| new_path.to_string()),
        old: old.cloned(),
        new: new.cloned(),
    });
}

/// A keyword's difference: added, removed or changed, as `kinds` name them.
fn keyword(
    out: &mut Vec<Raw>,
    kinds: [&'static str; 3],
    (op, np): (&str, &str),
    (old, new): (Option<&Value>, Option<&Value>),
) {
    match (old, new) {
        (None, Some(_)) => push(out, kinds[0], op, np, None, new),
        (Some(_), None) => push(out, kinds[1], op, np, old, None),
        (Some(o), Some(n)) if o != n => push(out, kinds[2], op, np, old, new),
        _ => {}
    }
}

const DOC: [&str; 3] = ["DOC_ADDED", "DOC_REMOVED", "DOC_CHANGED"];
const DEFAULT: [&str; 3] = ["DEFAULT_ADDED", "DEFAULT_REMOVED", "DEFAULT_CHANGED"];
const OTHER: [&str; 3] = ["ATTRIBUTE_ADDED", "ATTRIBUTE_REMOVED", "ATTRIBUTE_CHANGED"];

/// The Avro keys compared by their own rule (the others are attributes: aliases, order, logical types, size...).
const AVRO_OWN: &[&str] = &["type", "name", "namespace", "doc", "fields", "symbols", "items", "values", "default"];

fn avro(old: &Value, new: &Value, op: &str, np: &str, out: &mut Vec<Raw>) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) if o.get("type") == n.get("type") => {
            for key in ["name", "namespace"] {
                keyword(
                    out,
                    ["NAME_ADDED", "NAME_REMOVED", "NAME_CHANGED"],
                    (&at(op, key), &at(np, key)),
                    (o.get(key), n.get(key)),
                );
            }
            keyword(out, DOC, (&at(op, "doc"), &at(np, "doc")), (o.get("doc"), n.get("doc")));
            keyword(out, DEFAULT, (&at(op, "default"), &at(np, "default")), (o.get("default"), n.get("default")));
            attributes(o, n, op, np, AVRO_OWN, out);
            if let (Some(Value::Array(of)), Some(Value::Array(nf))) = (o.get("fields"), n.get("fields")) {
                avro_fields(of, nf, op, np, out);
            }
            if let (Some(Value::Array(os)), Some(Value::Array(ns))) = (o.get("symbols"), n.get("symbols")) {
                named_set(os, ns, (&at(op, "symbols"), &at(np, "symbols")), ["SYMBOL_ADDED", "SYMBOL_REMOVED"], out);
            }
            for key in ["items", "values"] {
                if let (Some(ot), Some(nt)) = (o.get(key), n.get(key)) {
                    avro(ot, nt, &at(op, key), &at(np, key), out);
                }
            }
        }
        (Value::Array(ob), Value::Array(nb)) => {
            let key = |v: &Value| v.to_string();
            let (os, ns): (BTreeSet<String>, BTreeSet<String>) =
                (ob.iter().map(key).collect(), nb.iter().map(key).collect());
            for (i, branch) in nb.iter().enumerate() {
                if !os.contains(&key(branch)) {
                    push(out, "BRANCH_ADDED", op, &format!("{np}/{i}"), None, Some(branch));
                }
            }
            for (i, branch) in ob.iter().enumerate() {
                if !ns.contains(&key(branch)) {
                    push(out, "BRANCH_REMOVED", &format!("{op}/{i}"), np, Some(branch), None);
                }
            }
        }
        (o, n) if o != n => push(out, "TYPE_CHANGED", op, np, Some(o), Some(n)),
        _ => {}
    }
}

fn avro_fields(old: &[Value], new: &[Value], op: &str, np: &str, out: &mut Vec<Raw>) {
    let name = |field: &Value| field.get("name").and_then(Value::as_str).map(str::to_string);
    for (j, field) in new.iter().enumerate() {
        let new_at = format!("{np}/fields/{j}");
        match old.iter().position(|o| name(o) == name(field)) {
            None => push(out, "FIELD_ADDED", op, &new_at, None, Some(field)),
            Some(i) => {
                let (o, n) = (&old[i], field);
                let old_at = format!("{op}/fields/{i}");
                keyword(out, DOC, (&at(&old_at, "doc"), &at(&new_at, "doc")), (o.get("doc"), n.get("doc")));
                keyword(
                    out,
                    DEFAULT,
                    (&at(&old_at, "default"), &at(&new_at, "default")),
                    (o.get("default"), n.get("default")),
                );
                if let (Value::Object(om), Value::Object(nm)) = (o, n) {
                    attributes(om, nm, &old_at, &new_at, &["name", "type", "doc", "default"], out);
                }
                if let (Some(ot), Some(nt)) = (o.get("type"), n.get("type")) {
                    avro(ot, nt, &at(&old_at, "type"), &at(&new_at, "type"), out);
                }
            }
        }
    }
    for (i, field) in old.iter().enumerate() {
        if !new.iter().any(|n| name(n) == name(field)) {
            push(out, "FIELD_REMOVED", &format!("{op}/fields/{i}"), np, Some(field), None);
        }
    }
}

/// The keys of two objects other than `own`: added, removed or changed.
fn attributes(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    op: &str,
    np: &str,
    own: &[&str],
    out: &mut Vec<Raw>,
) {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).filter(|k| !own.contains(&k.as_str())).collect();
    for key in keys {
        keyword(out, OTHER, (&at(op, key), &at(np, key)), (old.get(key), new.get(key)));
    }
}

/// Two lists of names (symbols, `required`): each added or removed.
fn named_set(old: &[Value], new: &[Value], (op, np): (&str, &str), kinds: [&'static str; 2], out: &mut Vec<Raw>) {
    for (j, value) in new.iter().enumerate() {
        if !old.contains(value) {
            push(out, kinds[0], op, &format!("{np}/{j}"), None, Some(value));
        }
    }
    for (i, value) in old.iter().enumerate() {
        if !new.contains(value) {
            push(out, kinds[1], &format!("{op}/{i}"), np, Some(value), None);
        }
    }
}

fn at(path: &str, key: &str) -> String {
    format!("{path}/{}", segment(key))
}

/// JSON Schema keywords that hold a map from names to schemas, and the kinds of their names' differences.
const NAMED_SCHEMAS: &[(&str, [&str; 2])] = &[
    ("properties", ["PROPERTY_ADDED", "PROPERTY_REMOVED"]),
    ("patternProperties", ["PROPERTY_ADDED", "PROPERTY_REMOVED"]),
    ("$defs", ["DEFINITION_ADDED", "DEFINITION_REMOVED"]),
    ("definitions", ["DEFINITION_ADDED", "DEFINITION_REMOVED"]),
];
/// JSON Schema keywords whose value is one schema.
const ONE_SCHEMA: &[&str] =
    &["items", "additionalProperties", "additionalItems", "not", "if", "then", "else", "contains"];
/// JSON Schema keywords whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// JSON Schema annotations: documentation.
const ANNOTATIONS: &[&str] = &["title", "description", "examples", "$comment"];

fn json_schema(old: &Value, new: &Value, op: &str, np: &str, out: &mut Vec<Raw>) {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        if old != new {
            push(out, "SCHEMA_CHANGED", op, np, Some(old), Some(new));
        }
        return;
    };
    let mut own: Vec<&str> = vec!["required"];
    for (keyword_name, kinds) in NAMED_SCHEMAS {
        own.push(keyword_name);
        let empty = Map::new();
        let on = o.get(*keyword_name).and_then(Value::as_object).unwrap_or(&empty);
        let nn = n.get(*keyword_name).and_then(Value::as_object).unwrap_or(&empty);
        for (name, schema) in nn {
            let new_at = at(&at(np, keyword_name), name);
            match on.get(name) {
                None => push(out, kinds[0], op, &new_at, None, Some(schema)),
                Some(previous) => json_schema(previous, schema, &at(&at(op, keyword_name), name), &new_at, out),
            }
        }
        for (name, schema) in on {
            if !nn.contains_key(name) {
                push(out, kinds[1], &at(&at(op, keyword_name), name), np, Some(schema), None);
            }
        }
    }
    // A required name is placed by the name (as the compatibility check places it), not by its index.
    let required = |m: &Map<String, Value>| -> BTreeSet<String> {
        let names = m.get("required").and_then(Value::as_array).map(|names| names.iter());
        names.into_iter().flatten().filter_map(|name| name.as_str().map(str::to_string)).collect()
    };
    let (old_required, new_required) = (required(o), required(n));
    for name in new_required.difference(&old_required) {
        let name_value = Value::String(name.clone());
        push(out, "REQUIRED_ADDED", op, &at(&at(np, "required"), name), None, Some(&name_value));
    }
    for name in old_required.difference(&new_required) {
        let name_value = Value::String(name.clone());
        push(out, "REQUIRED_REMOVED", &at(&at(op, "required"), name), np, Some(&name_value), None);
    }
    for key in ANNOTATIONS {
        own.push(key);
        keyword(out, DOC, (&at(op, key), &at(np, key)), (o.get(*key), n.get(*key)));
    }
    for key in ONE_SCHEMA {
        if let (Some(os @ Value::Object(_)), Some(ns @ Value::Object(_))) = (o.get(*key), n.get(*key)) {
            own.push(key);
            json_schema(os, ns, &at(op, key), &at(np, key), out);
        }
    }
    for key in SCHEMA_LISTS {
        if let (Some(Value::Array(ol)), Some(Value::Array(nl))) = (o.get(*key), n.get(*key))
            && ol.len() == nl.len()
        {
            own.push(key);
            for (i, (os, ns)) in ol.iter().zip(nl).enumerate() {
                json_schema(os, ns, &format!("{}/{i}", at(op, key)), &format!("{}/{i}", at(np, key)), out);
            }
        }
    }
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).filter(|k| !own.contains(&k.as_str())).collect();
    for key in keys {
        keyword(
            out,
            ["KEYWORD_ADDED", "KEYWORD_REMOVED", "KEYWORD_CHANGED"],
            (&at(op, key), &at(np, key)),
            (o.get(key), n.get(key)),
        );
    }
}

fn protobuf(old: &prost_reflect::FileDescriptor, new: &prost_reflect::FileDescriptor, out: &mut Vec<Raw>) {
    let messages = |file: &prost_reflect::FileDescriptor| {
        let mut all = Vec::new();
        let mut stack: Vec<MessageDescriptor> = file.messages().collect();
        while let Some(message) = stack.pop() {
            stack.extend(message.child_messages().filter(|m| !m.is_map_entry()));
            all.push(message);
        }
        all.sort_by(|a, b| a.full_name().cmp(b.full_name()));
        all
    };
    let (old_messages, new_messages) = (messages(old), messages(new));
    for message in &new_messages {
        let name = message.full_name();
        match old_messages.iter().find(|m| m.full_name() == name) {
            None => out.push(Raw {
                kind: "MESSAGE_ADDED",
                old_path: None,
                new_path: Some(name.to_string()),
                old: None,
                new: Some(Value::String(name.to_string())),
            }),
            Some(previous) => protobuf_fields(previous, message, out),
        }
    }
    for message in &old_messages {
        let name = message.full_name();
        if !new_messages.iter().any(|m| m.full_name() == name) {
            out.push(Raw {
                kind: "MESSAGE_REMOVED",
                old_path: Some(name.to_string()),
                new_path: None,
                old: Some(Value::String(name.to_string())),
                new: None,
            });
        }
    }
}

/// A field as a difference shows it: `repeated string name = 3`.
fn field_text(field: &FieldDescriptor) -> Value {
    let label = match field.cardinality() {
        Cardinality::Repeated if field.is_map() => "",
        Cardinality::Repeated => "repeated ",
        Cardinality::Required => "required ",
        Cardinality::Optional if field.supports_presence() && field.containing_oneof().is_none() => "optional ",
        Cardinality::Optional => "",
    };
    Value::String(format!("{label}{} {} = {}", kind_text(field), field.name(), field.number()))
}

fn kind_text(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(message) if field.is_map() => {
            let key = message.map_entry_key_field();
            let value = message.map_entry_value_field();
            format!("map<{}, {}>", kind_text(&key), kind_text(&value))
        }
        Kind::Message(message) => message.full_name().to_string(),
        Kind::Enum(enumeration) => enumeration.full_name().to_string(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn protobuf_fields(old: &MessageDescriptor, new: &MessageDescriptor, out: &mut Vec<Raw>) {
    for field in new.fields() {
        let path = field.full_name().to_string();
        match old.get_field(field.number()) {
            None => out.push(Raw {
                kind: "FIELD_ADDED",
                old_path: None,
                new_path: Some(path),
                old: None,
                new: Some(field_text(&field)),
            }),
            Some(previous) => {
                let (was, is) = (field_text(&previous), field_text(&field));
                if was == is {
                    continue;
                }
                let kind = if previous.name() != field.name() {
                    "FIELD_RENAMED"
                } else if kind_text(&previous) != kind_text(&field) {
                    "TYPE_CHANGED"
                } else {
                    "LABEL_CHANGED"
                };
                out.push(Raw {
                    kind,
                    old_path: Some(previous.full_name().to_string()),
                    new_path: Some(path),
                    old: Some(was),
                    new: Some(is),
                });
            }
        }
    }
    for field in old.fields() {
        if new.get_field(field.number()).is_none() {
            out.push(Raw {
                kind: "FIELD_REMOVED",
                old_path: Some(field.full_name().to_string()),
                new_path: None,
                old: Some(field_text(&field)),
                new: None,
            });
        }
    }
}
