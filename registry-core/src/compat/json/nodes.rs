//! What a schema is: its facets as the reference loader splits a schema object, and the [`Node`] a location
//! reduces to, with the class that makes two nodes a type change. Classification only: no comparison here.

use serde_json::{Map, Value};

use super::Diff;
use super::locations::Loc;

/// The JSON types a `type` keyword names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Ty {
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
pub(super) enum Facet {
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

/// The combinators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Criterion {
    All,
    Any,
    One,
}

impl Criterion {
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Criterion::All => "allOf",
            Criterion::Any => "anyOf",
            Criterion::One => "oneOf",
        }
    }
}

/// What a schema is, once split into facets.
#[derive(Debug)]
pub(super) enum Node<'a> {
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
    pub(super) fn class(&self) -> u8 {
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

    pub(super) fn describe(&self) -> String {
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

impl<'a> Diff<'a> {
    /// What a location is, without following a `$ref` (see [`Diff::normalize`]).
    pub(super) fn node(&self, loc: Loc<'a>) -> Node<'a> {
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
}

/// The facets of a schema value, in the reference loader's order.
pub(super) fn facets(value: &Value) -> Vec<Facet> {
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
