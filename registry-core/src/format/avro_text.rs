//! The text Confluent's registry stores for an Avro schema, and hashes into its GUID: Avro's own compact writing of
//! the parsed schema (`Schema.toString` with the referenced schemas' names known), and, under `normalize`, of the
//! schema Confluent's normalization makes of it first.
//!
//! Same text, same schema: whitespace and key order of the structural keys, `{"type":"int"}` and `"int"`, a name
//! written `a.R` or `R` in namespace `a`, a redundant nested namespace, an `order` of `ascending`, ignored keys on an
//! array, a map or a primitive, and the spelling of a double all vanish. Custom properties keep their order and
//! value (unless normalized: then they are sorted, with the logical type's own first), as do docs, aliases, fields,
//! symbols and union branches.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::jackson::{self, Node, Numbers, java_order};
use crate::{SchemaError, SchemaType};

/// Which text to write.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Form {
    /// The canonical text: a referenced schema's type is written by name.
    Canonical,
    /// The canonical text of the schema normalized as Confluent does (`normalize=true`).
    Normalized,
    /// Every named type written out at its first use, references included (`format=resolved`).
    Resolved,
}

/// Keys of a schema object Avro reads itself; the others are its properties.
const SCHEMA_RESERVED: &[&str] =
    &["doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases"];
/// Keys of an enum Avro reads itself: a schema's, and its `default`.
const ENUM_RESERVED: &[&str] =
    &["doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases", "default"];
/// Keys of a field Avro reads itself.
const FIELD_RESERVED: &[&str] = &["default", "doc", "name", "order", "type", "aliases"];
/// Avro's primitive type names.
const PRIMITIVES: &[&str] = &["null", "boolean", "int", "long", "float", "double", "bytes", "string"];
/// Names of Avro's types: a short name equal to one is always written in full.
const TYPE_NAMES: &[&str] = &[
    "record", "enum", "array", "map", "union", "fixed", "string", "bytes", "int", "long", "float", "double", "boolean",
    "null",
];

/// The text of the Avro schema `text` whose references are `references` (their texts, in order), in `form`.
/// Both were accepted by the parser already; `max_depth` bounds the writing, which can nest a named type
/// defined elsewhere at its first use.
pub(crate) fn text(text: &str, references: &[&str], form: Form, max_depth: usize) -> Result<String, SchemaError> {
    let invalid = |e: serde_json::Error| SchemaError::invalid(SchemaType::Avro, format!("not valid JSON: {e}"));
    let trees: Vec<Node<'_>> =
        references.iter().map(|r| Node::parse(r, Numbers::Double)).collect::<Result<_, _>>().map_err(invalid)?;
    let root = Node::parse(text, Numbers::Double).map_err(invalid)?;
    let mut writer = Writer {
        definitions: HashMap::new(),
        redefined: Vec::new(),
        known: HashSet::new(),
        form,
        max_depth,
        out: String::new(),
    };
    for tree in trees.iter().chain(std::iter::once(&root)) {
        writer.define(tree, None, 0)?;
    }
    writer.check_redefinitions()?;
    if form != Form::Resolved {
        for tree in &trees {
            if let Some(name) = top_level_name(tree) {
                writer.known.insert(name.full());
            }
        }
    }
    writer.out.reserve(text.len());
    writer.schema(&root, None, 0)?;
    Ok(writer.out)
}

/// A named type's name and namespace, resolved as Avro does.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Name {
    name: String,
    space: Option<String>,
}

impl Name {
    /// `name` in `space`: a dotted name carries its own; an empty namespace is none.
    fn new(name: &str, space: Option<&str>) -> Name {
        let (space, name) = match name.rsplit_once('.') {
            Some((space, name)) => (Some(space), name),
            None => (space, name),
        };
        Name { name: name.to_string(), space: space.filter(|s| !s.is_empty()).map(str::to_string) }
    }

    /// The name of the definition `object`, met in namespace `space`.
    fn of(object: &Node<'_>, space: Option<&str>) -> Name {
        let name = object.get("name").and_then(Node::as_str).unwrap_or_default();
        match object.get("namespace") {
            Some(Node::String(declared)) => Name::new(name, Some(declared)),
            _ => Name::new(name, space),
        }
    }

    fn full(&self) -> String {
        match &self.space {
            Some(space) => format!("{space}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// As a reference from namespace `current`: the short name where that is unambiguous, else the full one.
    fn qualified(&self, current: Option<&str>) -> String {
        let same_space = self.space.is_some() && self.space.as_deref() == current;
        if same_space && !TYPE_NAMES.contains(&self.name.as_str()) { self.name.clone() } else { self.full() }
    }
}

/// The name of a schema whose top level is a named type.
fn top_level_name(tree: &Node<'_>) -> Option<Name> {
    named_kind(tree)?;
    Some(Name::of(tree, None))
}

/// `record`, `error`, `enum` or `fixed`, for an object that defines a named type.
fn named_kind<'n>(node: &'n Node<'_>) -> Option<&'n str> {
    node.get("type").and_then(Node::as_str).filter(|t| matches!(*t, "record" | "error" | "enum" | "fixed"))
}

/// A named type's definition: its object and its name.
#[derive(Clone)]
struct Definition<'n, 'a> {
    node: &'n Node<'a>,
    name: Name,
}

struct Writer<'n, 'a> {
    /// Each full name's first definition.
    definitions: HashMap<String, Definition<'n, 'a>>,
    /// Later definitions of a name already defined: allowed only when they define the same type.
    redefined: Vec<Definition<'n, 'a>>,
    /// The full names written so far (and the referenced schemas' own): later uses are written by name.
    known: HashSet<String>,
    form: Form,
    max_depth: usize,
    out: String,
}

impl<'n, 'a> Writer<'n, 'a> {
    /// Records every named type `node` defines, met in namespace `space`.
    fn define(&mut self, node: &'n Node<'a>, space: Option<&str>, depth: usize) -> Result<(), SchemaError> {
        self.deeper(depth)?;
        match node {
            Node::Array(branches) => branches.iter().try_for_each(|branch| self.define(branch, space, depth + 1)),
            Node::Object(_) => {
                match node.get("type") {
                    Some(Node::String(kind)) => match kind.as_ref() {
                        "record" | "error" | "enum" | "fixed" => {
                            let name = self.name_of(node, space, depth);
                            let inner = name.space.clone();
                            match self.definitions.get(&name.full()) {
                                None => drop(self.definitions.insert(name.full(), Definition { node, name })),
                                Some(first) if std::ptr::eq(first.node, node) => {}
                                Some(_) => self.redefined.push(Definition { node, name }),
                            }
                            for field in fields(node) {
                                if let Some(schema) = field.get("type") {
                                    self.define(schema, inner.as_deref(), depth + 1)?;
                                }
                            }
                        }
                        "array" | "map" => {
                            let key = if kind == "array" { "items" } else { "values" };
                            if let Some(inner) = node.get(key) {
                                self.define(inner, space, depth + 1)?;
                            }
                        }
                        _ => {}
                    },
                    Some(other) => self.define(other, space, depth + 1)?,
                    None => {}
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Refuses a name defined twice as two different types. The same type twice is one, as Java's Avro takes it:
    /// a canonical text writes a type of a referenced schema out where the referring schema first uses it.
    fn check_redefinitions(&self) -> Result<(), SchemaError> {
        for again in &self.redefined {
            let full = again.name.full();
            let Some(first) = self.definitions.get(&full) else { continue };
            if self.alone(first)? != self.alone(again)? {
                return Err(SchemaError::invalid(
                    SchemaType::Avro,
                    format!("the named type '{full}' is defined more than once"),
                ));
            }
        }
        Ok(())
    }

    /// A definition's canonical text on its own, every named type it uses written out.
    fn alone(&self, definition: &Definition<'n, 'a>) -> Result<String, SchemaError> {
        let mut writer = Writer {
            definitions: self.definitions.clone(),
            redefined: Vec::new(),
            known: HashSet::new(),
            form: Form::Canonical,
            max_depth: self.max_depth,
            out: String::new(),
        };
        let space = definition.name.space.clone();
        writer.named(definition.node, definition.name.clone(), space.as_deref(), 0)?;
        Ok(writer.out)
    }

    /// A definition's name; normalized, a type without namespace inside one with a namespace takes the outer one.
    fn name_of(&self, node: &Node<'_>, space: Option<&str>, depth: usize) -> Name {
        let mut name = Name::of(node, space);
        if self.form == Form::Normalized && name.space.is_none() && space.is_some() && depth > 0 {
            name.space = space.map(str::to_string);
        }
        name
    }

    fn deeper(&self, depth: usize) -> Result<(), SchemaError> {
        if depth > self.max_depth.saturating_mul(2).saturating_add(8) {
            return Err(SchemaError::TooDeep { max: self.max_depth });
        }
        Ok(())
    }

    /// The named type `name` stands for in namespace `space`, as Avro's parser finds it.
    fn resolve(&self, name: &str, space: Option<&str>) -> Option<&Definition<'n, 'a>> {
        let full = match space {
            Some(space) if !name.contains('.') => Cow::Owned(format!("{space}.{name}")),
            _ => Cow::Borrowed(name),
        };
        self.definitions.get(full.as_ref()).or_else(|| self.definitions.get(name))
    }

    /// Writes the schema `node`, met in namespace `space`.
    fn schema(&mut self, node: &'n Node<'a>, space: Option<&str>, depth: usize) -> Result<(), SchemaError> {
        self.deeper(depth)?;
        match node {
            Node::String(name) => self.reference(name, space, depth),
            Node::Array(branches) => {
                self.out.push('[');
                for (i, branch) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.schema(branch, space, depth + 1)?;
                }
                self.out.push(']');
                Ok(())
            }
            Node::Object(_) => match node.get("type") {
                Some(Node::String(kind)) => match kind.as_ref() {
                    "record" | "error" | "enum" | "fixed" => {
                        let name = self.name_of(node, space, depth);
                        self.named(node, name, space, depth)
                    }
                    "array" | "map" => {
                        let key = if kind == "array" { "items" } else { "values" };
                        self.out.push_str(if key == "items" {
                            r#"{"type":"array","items":"#
                        } else {
                            r#"{"type":"map","values":"#
                        });
                        match node.get(key) {
                            Some(inner) => self.schema(inner, space, depth + 1)?,
                            None => self.out.push_str("null"),
                        }
                        self.properties(node, SCHEMA_RESERVED, None);
                        self.out.push('}');
                        Ok(())
                    }
                    primitive if PRIMITIVES.contains(&primitive) => {
                        if !has_properties(node, SCHEMA_RESERVED) {
                            jackson::write_string(primitive, &mut self.out);
                            return Ok(());
                        }
                        self.out.push_str(r#"{"type":"#);
                        jackson::write_string(primitive, &mut self.out);
                        self.properties(node, SCHEMA_RESERVED, logical_type(node, primitive, None));
                        self.out.push('}');
                        Ok(())
                    }
                    // An object whose type is a name is that named type; its other keys are not kept.
                    name => self.reference(name, space, depth),
                },
                Some(inner) => self.schema(inner, space, depth + 1),
                None => {
                    jackson::write(node, Numbers::Double, &mut self.out);
                    Ok(())
                }
            },
            other => {
                jackson::write(other, Numbers::Double, &mut self.out);
                Ok(())
            }
        }
    }

    /// Writes a use of the type named `name` in namespace `space`: a primitive, a name, or the named type's
    /// definition at its first use.
    fn reference(&mut self, name: &str, space: Option<&str>, depth: usize) -> Result<(), SchemaError> {
        if PRIMITIVES.contains(&name) {
            jackson::write_string(name, &mut self.out);
            return Ok(());
        }
        match self.resolve(name, space) {
            Some(definition) => {
                let (node, name) = (definition.node, definition.name.clone());
                self.named(node, name, space, depth)
            }
            None => {
                jackson::write_string(name, &mut self.out);
                Ok(())
            }
        }
    }

    /// Writes the named type `name` defined by `node`, met in namespace `space`: by name once it is known.
    fn named(&mut self, node: &'n Node<'a>, name: Name, space: Option<&str>, depth: usize) -> Result<(), SchemaError> {
        if !self.known.insert(name.full()) {
            let qualified = name.qualified(space);
            jackson::write_string(&qualified, &mut self.out);
            return Ok(());
        }
        let kind = named_kind(node).unwrap_or("record");
        let kind = if kind == "error" && self.form == Form::Normalized { "record" } else { kind };
        self.out.push_str(r#"{"type":"#);
        jackson::write_string(kind, &mut self.out);
        self.out.push_str(r#","name":"#);
        jackson::write_string(&name.name, &mut self.out);
        match (&name.space, space) {
            (Some(own), current) if Some(own.as_str()) != current => self.member("namespace", own),
            (None, Some(_)) => self.member("namespace", ""),
            _ => {}
        }
        if let Some(doc) = node.get("doc").and_then(Node::as_str)
            && !(doc.is_empty() && self.form == Form::Normalized)
        {
            self.member("doc", doc);
        }
        let reserved: &[&str] = match kind {
            "enum" => {
                self.strings("symbols", array(node, "symbols").iter().map(|s| s.as_str().unwrap_or_default()));
                if let Some(default) = node.get("default").and_then(Node::as_str) {
                    self.member("default", default);
                }
                ENUM_RESERVED
            }
            "fixed" => {
                self.out.push_str(r#","size":"#);
                match node.get("size") {
                    Some(Node::Number(size)) => jackson::write_number(size, Numbers::Double, &mut self.out),
                    _ => self.out.push('0'),
                }
                SCHEMA_RESERVED
            }
            _ => {
                self.out.push_str(r#","fields":["#);
                let inner = name.space.clone();
                for (i, field) in fields(node).enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.field(field, inner.as_deref(), depth + 1)?;
                }
                self.out.push(']');
                SCHEMA_RESERVED
            }
        };
        let logical = if kind == "fixed" { logical_type(node, "fixed", node.get("size")) } else { None };
        self.properties(node, reserved, logical);
        self.aliases(node, &name);
        self.out.push('}');
        Ok(())
    }

    /// Writes a record's field, its record's namespace being `space`.
    fn field(&mut self, field: &'n Node<'a>, space: Option<&str>, depth: usize) -> Result<(), SchemaError> {
        self.out.push_str(r#"{"name":"#);
        jackson::write_string(field.get("name").and_then(Node::as_str).unwrap_or_default(), &mut self.out);
        self.out.push_str(r#","type":"#);
        let schema = field.get("type");
        match schema {
            Some(schema) => self.schema(schema, space, depth + 1)?,
            None => self.out.push_str("null"),
        }
        if let Some(doc) = field.get("doc").and_then(Node::as_str) {
            self.member("doc", doc);
        }
        if let Some(default) = field.get("default") {
            let typed = match schema {
                // Normalized, a default its schema cannot hold is dropped, as Confluent's conversion drops it.
                Some(schema) if self.form == Form::Normalized => {
                    self.retype(default, schema, space, depth + 1)?.map(Cow::Owned)
                }
                // Avro reads a textual default of a float or double field as the number.
                Some(schema) => Some(match (default, self.kind(schema, space)) {
                    (Node::String(text), Some("float" | "double")) => match text.trim().parse::<f64>() {
                        Ok(value) => Cow::Owned(Node::Float(value)),
                        Err(_) => Cow::Borrowed(default),
                    },
                    _ => Cow::Borrowed(default),
                }),
                None => Some(Cow::Borrowed(default)),
            };
            if let Some(typed) = typed {
                self.out.push_str(r#","default":"#);
                jackson::write(&typed, Numbers::Double, &mut self.out);
            }
        }
        if let Some(order) = field.get("order").and_then(Node::as_str) {
            let order = order.to_ascii_lowercase();
            if order != "ascending" {
                self.member("order", &order);
            }
        }
        let mut aliases: Vec<&str> = Vec::new();
        for alias in array(field, "aliases").iter().filter_map(Node::as_str) {
            if !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
        if self.form == Form::Normalized {
            aliases.sort_by(|a, b| java_order(a, b));
        }
        if !aliases.is_empty() {
            self.strings("aliases", aliases);
        }
        self.properties(field, FIELD_RESERVED, None);
        self.out.push('}');
        Ok(())
    }

    /// Writes a named type's aliases, each relative to its namespace; duplicates dropped (sorted, normalized).
    fn aliases(&mut self, node: &Node<'_>, name: &Name) {
        let mut aliases: Vec<Name> = Vec::new();
        for alias in array(node, "aliases").iter().filter_map(Node::as_str) {
            let alias = Name::new(alias, name.space.as_deref());
            if !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
        if aliases.is_empty() {
            return;
        }
        if self.form == Form::Normalized {
            aliases.sort_by(|a, b| java_order(&a.full(), &b.full()));
        }
        let space = name.space.as_deref();
        self.strings("aliases", aliases.iter().map(|alias| alias.qualified(space)));
    }

    /// Writes the member `,"key":"value"`.
    fn member(&mut self, key: &str, value: &str) {
        self.out.push(',');
        jackson::write_string(key, &mut self.out);
        self.out.push(':');
        jackson::write_string(value, &mut self.out);
    }

    /// Writes the member `,"key":[...]` of `values`, strings.
    fn strings<S: AsRef<str>>(&mut self, key: &str, values: impl IntoIterator<Item = S>) {
        self.out.push(',');
        jackson::write_string(key, &mut self.out);
        self.out.push_str(":[");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            jackson::write_string(value.as_ref(), &mut self.out);
        }
        self.out.push(']');
    }

    /// Writes the members of `node` that are not `reserved`: in their order, or normalized, sorted with the
    /// logical type's own (`logical`) first and every object inside sorted.
    fn properties(&mut self, node: &Node<'_>, reserved: &[&str], logical: Option<&[&str]>) {
        let Node::Object(members) = node else { return };
        let mut properties: Vec<(&str, Cow<'_, Node<'_>>)> = members
            .iter()
            .filter(|(k, _)| !reserved.contains(&k.as_ref()))
            .map(|(k, v)| (k.as_ref(), Cow::Borrowed(v)))
            .collect();
        if self.form == Form::Normalized {
            let first = logical.unwrap_or_default();
            let rank = |key: &str| first.iter().position(|f| *f == key).unwrap_or(first.len());
            properties.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then_with(|| java_order(a.0, b.0)));
            for (_, value) in &mut properties {
                *value = Cow::Owned(value.sorted());
            }
        }
        for (key, value) in properties {
            self.out.push(',');
            jackson::write_string(key, &mut self.out);
            self.out.push(':');
            jackson::write(&value, Numbers::Double, &mut self.out);
        }
    }

    /// What kind of value the schema `node` (met in namespace `space`) holds: a primitive's name, `record`, `enum`,
    /// `fixed`, `array`, `map` or `union`.
    fn kind(&self, node: &Node<'_>, space: Option<&str>) -> Option<&'static str> {
        const KINDS: &[&str] = &[
            "null", "boolean", "int", "long", "float", "double", "bytes", "string", "record", "enum", "fixed", "array",
            "map",
        ];
        let named = |name: &str| {
            let definition = self.resolve(name, space)?;
            let kind = named_kind(definition.node)?;
            Some(if kind == "error" { "record" } else { KINDS.iter().find(|k| **k == kind).copied()? })
        };
        match node {
            Node::Array(_) => Some("union"),
            Node::String(name) => KINDS[..8].iter().find(|k| **k == name.as_ref()).copied().or_else(|| named(name)),
            Node::Object(_) => match node.get("type")? {
                Node::String(kind) if kind == "error" => Some("record"),
                Node::String(kind) => KINDS.iter().find(|k| **k == kind.as_ref()).copied().or_else(|| named(kind)),
                inner => self.kind(inner, space),
            },
            _ => None,
        }
    }

    /// The definition of the named type the schema `node` is or names.
    fn definition_of(&self, node: &'n Node<'a>, space: Option<&str>) -> Option<(&'n Node<'a>, Option<String>)> {
        let own = |node: &'n Node<'a>| (node, self.name_of(node, space, 1).space);
        match node {
            Node::String(name) => self.resolve(name, space).map(|d| (d.node, d.name.space.clone())),
            Node::Object(_) if named_kind(node).is_some() => Some(own(node)),
            Node::Object(_) => match node.get("type")? {
                Node::String(name) => self.resolve(name, space).map(|d| (d.node, d.name.space.clone())),
                inner => self.definition_of(inner, space),
            },
            _ => None,
        }
    }

    /// A field default as Confluent's normalization writes it: converted by the field's schema (a union's by its
    /// first branch), objects with their keys sorted; `None` where Avro's conversion gives nothing (a number or a
    /// text the schema cannot hold, an integer past 64 bits), which drops the default.
    fn retype<'v>(
        &self,
        value: &Node<'v>,
        schema: &'n Node<'a>,
        space: Option<&str>,
        depth: usize,
    ) -> Result<Option<Node<'v>>, SchemaError> {
        self.deeper(depth)?;
        let schema = match schema {
            Node::Array(branches) => match branches.first() {
                Some(first) => return self.retype(value, first, space, depth + 1),
                None => return Ok(Some(value.sorted())),
            },
            schema => schema,
        };
        let kind = self.kind(schema, space);
        // Inside an array, a map or a record a member is kept as it is where it converts to nothing.
        let member = |value: &Node<'v>, schema: Option<&'n Node<'a>>, space: Option<&str>| match schema {
            Some(schema) => Ok(self.retype(value, schema, space, depth + 1)?.unwrap_or_else(|| value.sorted())),
            None => Ok(value.sorted()),
        };
        // A Java `float` is written with its own shortest digits.
        let float = |n: f64| Node::Float(jackson::float_as_double(n as f32));
        Ok(match value {
            Node::Number(literal) if value.is_integer() => match (kind, literal.parse::<i64>()) {
                (None | Some("int" | "long"), Ok(_)) => Some(value.clone()),
                (Some("float"), Ok(n)) => Some(float(n as f64)),
                (Some("double"), Ok(n)) => Some(Node::Float(n as f64)),
                _ => None,
            },
            Node::Number(_) | Node::Float(_) => {
                let number = match value {
                    Node::Float(value) => Some(*value),
                    Node::Number(literal) => literal.parse::<f64>().ok(),
                    _ => None,
                };
                match (kind, number) {
                    (Some("float"), Some(n)) => Some(float(n)),
                    (Some("double") | None, Some(n)) => Some(Node::Float(n)),
                    _ => None,
                }
            }
            Node::String(_) => match kind {
                None | Some("string" | "enum" | "bytes" | "fixed") => Some(value.clone()),
                _ => None,
            },
            Node::Array(items) => {
                let element = match schema {
                    Node::Object(_) if kind == Some("array") => schema.get("items"),
                    _ => None,
                };
                let items =
                    items.iter().map(|item| member(item, element, space)).collect::<Result<_, SchemaError>>()?;
                Some(Node::Array(items))
            }
            Node::Object(members) => {
                let record = if kind == Some("record") { self.definition_of(schema, space) } else { None };
                let values = match schema {
                    Node::Object(_) if kind == Some("map") => schema.get("values"),
                    _ => None,
                };
                let mut typed = Vec::with_capacity(members.len());
                for (key, value) in members {
                    let member_schema = match &record {
                        Some((definition, _)) => fields(definition)
                            .find(|f| f.get("name").and_then(Node::as_str) == Some(key.as_ref()))
                            .and_then(|f| f.get("type")),
                        None => values,
                    };
                    let inner_space = record.as_ref().map_or(space, |(_, s)| s.as_deref());
                    typed.push((key.clone(), member(value, member_schema, inner_space)?));
                }
                typed.sort_by(|a, b| java_order(&a.0, &b.0));
                Some(Node::Object(typed))
            }
            other => Some(other.clone()),
        })
    }
}

/// The fields of a record definition.
fn fields<'n, 'a>(node: &'n Node<'a>) -> impl Iterator<Item = &'n Node<'a>> {
    array(node, "fields").iter().filter(|f| matches!(f, Node::Object(_)))
}

/// The array member `key` of `node`, or nothing.
fn array<'n, 'a>(node: &'n Node<'a>, key: &str) -> &'n [Node<'a>] {
    match node.get(key) {
        Some(Node::Array(items)) => items,
        _ => &[],
    }
}

/// Whether `node` has members besides the `reserved` ones.
fn has_properties(node: &Node<'_>, reserved: &[&str]) -> bool {
    matches!(node, Node::Object(members) if members.iter().any(|(k, _)| !reserved.contains(&k.as_ref())))
}

/// The properties a valid logical type on a schema of `base` type owns, in the order normalization writes them
/// first: `logicalType`, then a decimal's `precision` and (when not 0) `scale`. `size` is a fixed's size.
fn logical_type(node: &Node<'_>, base: &str, size: Option<&Node<'_>>) -> Option<&'static [&'static str]> {
    let logical = node.get("logicalType")?.as_str()?;
    let size = size.and_then(|s| match s {
        Node::Number(n) => n.parse::<u64>().ok(),
        _ => None,
    });
    let integer = |key: &str| match node.get(key) {
        Some(Node::Number(n)) if node.get(key).is_some_and(Node::is_integer) => n.parse::<i64>().ok(),
        None => Some(0),
        _ => None,
    };
    let valid = match logical {
        "decimal" if matches!(base, "bytes" | "fixed") => {
            let precision = node
                .get("precision")
                .and_then(|_| integer("precision"))
                .filter(|p| (1..=i64::from(i32::MAX)).contains(p));
            let scale = integer("scale").filter(|s| *s >= 0);
            // Java's bound: the digits a fixed of `size` bytes holds, floor(log10(2) * (8 * size - 1)).
            let fits = match (base, size, precision) {
                ("fixed", Some(size), Some(p)) => (p as f64) <= ((size as f64 * 8.0 - 1.0) * 2f64.log10()).floor(),
                (_, _, p) => p.is_some(),
            };
            return match (precision, scale) {
                (Some(p), Some(s)) if fits && s <= p && s != 0 => Some(&["logicalType", "precision", "scale"]),
                (Some(p), Some(s)) if fits && s <= p => Some(&["logicalType", "precision"]),
                _ => None,
            };
        }
        "uuid" => base == "string" || (base == "fixed" && size == Some(16)),
        "date" | "time-millis" => base == "int",
        "time-micros"
        | "timestamp-millis"
        | "timestamp-micros"
        | "timestamp-nanos"
        | "local-timestamp-millis"
        | "local-timestamp-micros"
        | "local-timestamp-nanos" => base == "long",
        "duration" => base == "fixed" && size == Some(12),
        "big-decimal" => base == "bytes",
        _ => false,
    };
    valid.then_some(&["logicalType"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        super::text(text, &[], Form::Canonical, 64).unwrap()
    }

    fn normalized(text: &str) -> String {
        super::text(text, &[], Form::Normalized, 64).unwrap()
    }

    #[test]
    fn canonical_texts_are_those_avro_writes() {
        let cases = [
            (r#"{"type":"int"}"#, r#""int""#),
            (r#"{   "type":   "string"}"#, r#""string""#),
            (r#"{"type":"long","connect.version":1}"#, r#"{"type":"long","connect.version":1}"#),
            (
                r#"{"type":"record","name":"a.b.R","fields":[]}"#,
                r#"{"type":"record","name":"R","namespace":"a.b","fields":[]}"#,
            ),
            (
                r#"{"name":"a.b.R","namespace":"x","type":"record","fields":[]}"#,
                r#"{"type":"record","name":"R","namespace":"a.b","fields":[]}"#,
            ),
            (
                r#"{"type":"record","name":"R","namespace":"","fields":[]}"#,
                r#"{"type":"record","name":"R","fields":[]}"#,
            ),
            (
                r#"{"name":"R","fields":[],"zz":1,"type":"record","aa":2,"doc":"d","aliases":["X"]}"#,
                r#"{"type":"record","name":"R","doc":"d","fields":[],"zz":1,"aa":2,"aliases":["X"]}"#,
            ),
            (r#"{"type":"array","items":"int","name":"x","doc":"d"}"#, r#"{"type":"array","items":"int"}"#),
            (r#"{"type":"map","values":"string","default":{}}"#, r#"{"type":"map","values":"string","default":{}}"#),
            (
                r#"{"type":"record","name":"R","namespace":"a","fields":[
                    {"type":{"type":"record","name":"a.S","fields":[]},"name":"s","order":"ASCENDING"},
                    {"name":"t","type":"a.S","order":"DESCENDING","aliases":["x","x"]},
                    {"name":"u","type":{"type":"record","namespace":"a","name":"T","fields":[{"name":"v","type":"S"}]}},
                    {"name":"w","type":{"type":"enum","name":"m.E","symbols":["A"],"default":"A","aliases":["m.Old","Old","n.X"]}},
                    {"name":"d","type":"double","default":"1.5"},
                    {"name":"e","type":"double","default":1e3},
                    {"name":"f","type":{"type":"fixed","name":"F","size":16,"logicalType":"uuid"}}
                ]}"#,
                concat!(
                    r#"{"type":"record","name":"R","namespace":"a","fields":["#,
                    r#"{"name":"s","type":{"type":"record","name":"S","fields":[]}},"#,
                    r#"{"name":"t","type":"S","order":"descending","aliases":["x"]},"#,
                    r#"{"name":"u","type":{"type":"record","name":"T","fields":[{"name":"v","type":"S"}]}},"#,
                    r#"{"name":"w","type":{"type":"enum","name":"E","namespace":"m","symbols":["A"],"default":"A","aliases":["Old","n.X"]}},"#,
                    r#"{"name":"d","type":"double","default":1.5},"#,
                    r#"{"name":"e","type":"double","default":1000.0},"#,
                    r#"{"name":"f","type":{"type":"fixed","name":"F","size":16,"logicalType":"uuid"}}"#,
                    r#"]}"#
                ),
            ),
            (
                r#"{"type":"record","name":"n.R","fields":[{"name":"x","type":{"type":"record","name":"N","namespace":"","fields":[]}}]}"#,
                r#"{"type":"record","name":"R","namespace":"n","fields":[{"name":"x","type":{"type":"record","name":"N","namespace":"","fields":[]}}]}"#,
            ),
            (
                r#"{"type":"record","name":"a.R","fields":[{"name":"x","type":{"type":"enum","name":"a.record","symbols":["A"]}},{"name":"y","type":"a.record"}]}"#,
                r#"{"type":"record","name":"R","namespace":"a","fields":[{"name":"x","type":{"type":"enum","name":"record","symbols":["A"]}},{"name":"y","type":"a.record"}]}"#,
            ),
            (
                r#"["null",{"type":"string","avro.java.string":"String"}]"#,
                r#"["null",{"type":"string","avro.java.string":"String"}]"#,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(canonical(text), expected, "{text}");
        }
    }

    #[test]
    fn referenced_types_are_written_by_name_and_inlined_when_resolved() {
        let reference = r#"{"type":"record","name":"example.avro.User","fields":[{"name":"n","type":"string"}]}"#;
        let text = r#"["example.avro.User", {"type":"example.avro.User"}]"#;
        assert_eq!(
            super::text(text, &[reference], Form::Canonical, 64).unwrap(),
            r#"["example.avro.User","example.avro.User"]"#
        );
        assert_eq!(
            super::text(text, &[reference], Form::Resolved, 64).unwrap(),
            r#"[{"type":"record","name":"User","namespace":"example.avro","fields":[{"name":"n","type":"string"}]},"example.avro.User"]"#
        );
    }

    #[test]
    fn normalized_texts_are_those_confluent_stores() {
        let cases = [
            (
                r#"{"type":"record","name":"R","doc":"","aliases":["B","A"],"fields":[{"name":"f","type":"double","default":1,"zprop":"z","aprop":{"y":1,"x":2}}]}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"f","type":"double","default":1.0,"aprop":{"x":2,"y":1},"zprop":"z"}],"aliases":["A","B"]}"#,
            ),
            (
                r#"{"type":"bytes","scale":4,"zz":1,"precision":17,"logicalType":"decimal","aa":0}"#,
                r#"{"type":"bytes","logicalType":"decimal","precision":17,"scale":4,"aa":0,"zz":1}"#,
            ),
            (
                r#"{"type":"error","name":"E","fields":[{"name":"f","type":["float","null"],"default":3.141592653589793}]}"#,
                r#"{"type":"record","name":"E","fields":[{"name":"f","type":["float","null"],"default":3.1415927}]}"#,
            ),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"u","type":["null","int"],"default":1},{"name":"z","type":"double","default":-0}]}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"u","type":["null","int"]},{"name":"z","type":"double","default":0.0}]}"#,
            ),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"double"},"default":{"b":1,"a":2}}]}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"double"},"default":{"a":2.0,"b":1.0}}]}"#,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(normalized(text), expected, "{text}");
        }
    }
}
