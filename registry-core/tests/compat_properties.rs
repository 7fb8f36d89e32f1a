//! Laws every format's compatibility check must obey, on random valid schemas: a schema is compatible with
//! itself at every level, FULL is BACKWARD and FORWARD, BACKWARD(new, old) is FORWARD(old, new), a transitive
//! level that passes implies its non-transitive level passes, and the per-format rules for adding and removing
//! fields hold whatever the rest of the schema is.
//!
//! Each format has a small model (Avro records, JSON Schema objects, Protobuf messages), a generator of random
//! models, a renderer to schema text, and random changes that make a history of versions from one model.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use registry_core::compat::{self, CompatibilityLevel, ViolationKind};
use registry_core::{NoReferences, ParsedSchema, SchemaType, UnparsedSchema, Version, parse};
use serde_json::{Value, json};

/// Enough cases to cover the generators' shapes while the whole file runs in a few seconds in debug.
const CASES: u32 = 64;

fn parse_text(schema_type: SchemaType, text: String) -> Result<ParsedSchema, TestCaseError> {
    let unparsed = UnparsedSchema::new(schema_type, text.clone());
    parse(&unparsed, &NoReferences, &Default::default())
        .map_err(|e| TestCaseError::fail(format!("generated {schema_type} schema does not parse: {e}\n{text}")))
}

/// The report of checking `candidate` at `level` against `history`, given oldest first.
fn report(level: CompatibilityLevel, candidate: &ParsedSchema, history: &[&ParsedSchema]) -> compat::CompatReport {
    let versions: Vec<(Version, &ParsedSchema)> = history
        .iter()
        .enumerate()
        .rev()
        .map(|(i, schema)| (Version::new(i as u32 + 1).expect("a valid version"), *schema))
        .collect();
    compat::check(level, candidate, &versions).expect("every format is supported")
}

fn compatible(level: CompatibilityLevel, candidate: &ParsedSchema, history: &[&ParsedSchema]) -> bool {
    report(level, candidate, history).is_compatible()
}

fn backward_kinds(candidate: &ParsedSchema, previous: &ParsedSchema) -> Vec<ViolationKind> {
    report(CompatibilityLevel::Backward, candidate, &[previous]).violations.iter().map(|v| v.violation.kind).collect()
}

fn forward_kinds(candidate: &ParsedSchema, previous: &ParsedSchema) -> Vec<ViolationKind> {
    report(CompatibilityLevel::Forward, candidate, &[previous]).violations.iter().map(|v| v.violation.kind).collect()
}

/// The laws that hold for any versions of any format; `versions` is a history, oldest first, candidate last.
fn check_laws(versions: &[ParsedSchema]) -> Result<(), TestCaseError> {
    use CompatibilityLevel::*;
    for schema in versions {
        for level in CompatibilityLevel::ALL {
            prop_assert!(compatible(level, schema, &[schema]), "not {level}-compatible with itself");
            prop_assert!(compatible(level, schema, &[schema, schema, schema]), "not {level}-compatible with itself x3");
        }
    }
    for new in versions {
        for old in versions {
            let backward = compatible(Backward, new, &[old]);
            let forward = compatible(Forward, new, &[old]);
            prop_assert_eq!(compatible(Full, new, &[old]), backward && forward, "FULL is not BACKWARD and FORWARD");
            prop_assert_eq!(backward, compatible(Forward, old, &[new]), "BACKWARD(new, old) != FORWARD(old, new)");
            prop_assert_eq!(backward, compat::can_read(new, old).expect("supported").is_empty());
            prop_assert_eq!(forward, compat::can_read(old, new).expect("supported").is_empty());
        }
    }
    let Some((candidate, history)) = versions.split_last() else {
        return Ok(());
    };
    let history: Vec<&ParsedSchema> = history.iter().collect();
    for (transitive, latest_only) in
        [(BackwardTransitive, Backward), (ForwardTransitive, Forward), (FullTransitive, Full)]
    {
        if compatible(transitive, candidate, &history) {
            prop_assert!(compatible(latest_only, candidate, &history), "{transitive} passes but {latest_only} fails");
        }
    }
    prop_assert_eq!(
        compatible(FullTransitive, candidate, &history),
        compatible(BackwardTransitive, candidate, &history) && compatible(ForwardTransitive, candidate, &history),
        "FULL_TRANSITIVE is not BACKWARD_TRANSITIVE and FORWARD_TRANSITIVE"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Avro
// ---------------------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum AvroType {
    Primitive(&'static str),
    Record(Vec<AvroField>),
    Enum(Vec<&'static str>),
    Fixed(usize),
    Array(Box<AvroType>),
    Map(Box<AvroType>),
    /// `["null", T]`.
    Nullable(Box<AvroType>),
    /// A union of distinct primitives, e.g. `["int", "string"]`.
    Primitives(Vec<&'static str>),
}

#[derive(Clone, Debug)]
struct AvroField {
    name: String,
    ty: AvroType,
    has_default: bool,
}

const AVRO_PRIMITIVES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

fn avro_type() -> impl Strategy<Value = AvroType> {
    let leaf = prop_oneof![
        4 => prop::sample::select(&AVRO_PRIMITIVES[..]).prop_map(AvroType::Primitive),
        1 => prop::sample::subsequence(vec!["A", "B", "C", "D"], 1..=4).prop_map(AvroType::Enum),
        1 => (1usize..9).prop_map(AvroType::Fixed),
        1 => prop::sample::subsequence(&AVRO_PRIMITIVES[1..], 2..=3).prop_map(AvroType::Primitives),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            avro_fields(inner.clone()).prop_map(AvroType::Record),
            inner.clone().prop_map(|t| AvroType::Array(Box::new(t))),
            inner.clone().prop_map(|t| AvroType::Map(Box::new(t))),
            inner.prop_map(|t| match t {
                // A union may not hold a union, nor `null` twice.
                AvroType::Nullable(_) | AvroType::Primitives(_) | AvroType::Primitive("null") => t,
                t => AvroType::Nullable(Box::new(t)),
            }),
        ]
    })
}

fn avro_fields(ty: impl Strategy<Value = AvroType>) -> impl Strategy<Value = Vec<AvroField>> {
    prop::collection::vec((ty, any::<bool>()), 0..5).prop_map(|fields| {
        fields
            .into_iter()
            .enumerate()
            .map(|(i, (ty, has_default))| AvroField { name: format!("f{i}"), ty, has_default })
            .collect()
    })
}

/// A valid default for `ty` (for a union, of its first branch).
fn avro_default(ty: &AvroType) -> Value {
    match ty {
        AvroType::Primitive("null") | AvroType::Nullable(_) => Value::Null,
        AvroType::Primitive("boolean") => json!(false),
        AvroType::Primitive("int" | "long") => json!(0),
        AvroType::Primitive("float" | "double") => json!(0.5),
        AvroType::Primitive(_) => json!(""),
        AvroType::Primitives(branches) => avro_default(&AvroType::Primitive(branches[0])),
        AvroType::Record(fields) => {
            Value::Object(fields.iter().map(|f| (f.name.clone(), avro_default(&f.ty))).collect())
        }
        AvroType::Enum(symbols) => json!(symbols[0]),
        AvroType::Fixed(size) => json!("a".repeat(*size)),
        AvroType::Array(_) => json!([]),
        AvroType::Map(_) => json!({}),
    }
}

/// Renders `ty`; named types are named after their place (`Root_f0_item`), so versions keep their names.
fn render_avro(ty: &AvroType, name: &str) -> Value {
    match ty {
        AvroType::Primitive(p) => json!(p),
        AvroType::Primitives(branches) => json!(branches),
        AvroType::Record(fields) => json!({"type": "record", "name": name, "fields": render_avro_fields(fields, name)}),
        AvroType::Enum(symbols) => json!({"type": "enum", "name": name, "symbols": symbols}),
        AvroType::Fixed(size) => json!({"type": "fixed", "name": name, "size": size}),
        AvroType::Array(items) => json!({"type": "array", "items": render_avro(items, &format!("{name}_item"))}),
        AvroType::Map(values) => json!({"type": "map", "values": render_avro(values, &format!("{name}_value"))}),
        AvroType::Nullable(inner) => json!(["null", render_avro(inner, name)]),
    }
}

fn render_avro_fields(fields: &[AvroField], record: &str) -> Vec<Value> {
    fields
        .iter()
        .map(|field| {
            let mut out =
                json!({"name": field.name, "type": render_avro(&field.ty, &format!("{record}_{}", field.name))});
            if field.has_default {
                out["default"] = avro_default(&field.ty);
            }
            out
        })
        .collect()
}

fn parse_avro(fields: &[AvroField]) -> Result<ParsedSchema, TestCaseError> {
    let schema =
        json!({"type": "record", "name": "Root", "namespace": "gen", "fields": render_avro_fields(fields, "Root")});
    parse_text(SchemaType::Avro, schema.to_string())
}

#[derive(Clone, Debug)]
enum AvroChange {
    AddField(AvroType, bool),
    RemoveField(usize),
    ReplaceType(usize, AvroType),
    ToggleDefault(usize),
    MakeNullable(usize),
}

fn avro_change() -> impl Strategy<Value = AvroChange> {
    prop_oneof![
        (avro_type(), any::<bool>()).prop_map(|(ty, d)| AvroChange::AddField(ty, d)),
        any::<usize>().prop_map(AvroChange::RemoveField),
        (any::<usize>(), avro_type()).prop_map(|(i, ty)| AvroChange::ReplaceType(i, ty)),
        any::<usize>().prop_map(AvroChange::ToggleDefault),
        any::<usize>().prop_map(AvroChange::MakeNullable),
    ]
}

fn apply_avro(fields: &[AvroField], change: &AvroChange, serial: usize) -> Vec<AvroField> {
    let mut fields = fields.to_vec();
    let n = fields.len();
    match change {
        AvroChange::AddField(ty, has_default) => {
            fields.push(AvroField { name: format!("added{serial}"), ty: ty.clone(), has_default: *has_default })
        }
        AvroChange::RemoveField(i) if n > 0 => {
            fields.remove(i % n);
        }
        AvroChange::ReplaceType(i, ty) if n > 0 => fields[i % n].ty = ty.clone(),
        AvroChange::ToggleDefault(i) if n > 0 => fields[i % n].has_default ^= true,
        AvroChange::MakeNullable(i) if n > 0 => {
            let ty = &mut fields[i % n].ty;
            if !matches!(ty, AvroType::Nullable(_) | AvroType::Primitives(_) | AvroType::Primitive("null")) {
                *ty = AvroType::Nullable(Box::new(ty.clone()));
            }
        }
        _ => {}
    }
    fields
}

// ---------------------------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum JsonType {
    String { max_length: Option<u32> },
    Integer { minimum: Option<i64>, maximum: Option<i64> },
    Number,
    Boolean,
    Enum(Vec<&'static str>),
    Array { items: Box<JsonType>, max_items: Option<u32> },
    Object(JsonObject),
}

#[derive(Clone, Debug)]
struct JsonObject {
    properties: Vec<JsonProperty>,
    /// `additionalProperties: false`.
    closed: bool,
}

#[derive(Clone, Debug)]
struct JsonProperty {
    name: String,
    ty: JsonType,
    required: bool,
}

fn json_type() -> impl Strategy<Value = JsonType> {
    let leaf = prop_oneof![
        prop::option::of(1u32..50).prop_map(|max_length| JsonType::String { max_length }),
        (prop::option::of(-10i64..0), prop::option::of(0i64..10))
            .prop_map(|(minimum, maximum)| JsonType::Integer { minimum, maximum }),
        Just(JsonType::Number),
        Just(JsonType::Boolean),
        prop::sample::subsequence(vec!["a", "b", "c", "d"], 1..=4).prop_map(JsonType::Enum),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (inner.clone(), prop::option::of(1u32..10))
                .prop_map(|(items, max_items)| JsonType::Array { items: Box::new(items), max_items }),
            json_object(inner).prop_map(JsonType::Object),
        ]
    })
}

fn json_object(ty: impl Strategy<Value = JsonType>) -> impl Strategy<Value = JsonObject> {
    (prop::collection::vec((ty, any::<bool>()), 0..5), any::<bool>()).prop_map(|(properties, closed)| JsonObject {
        properties: properties
            .into_iter()
            .enumerate()
            .map(|(i, (ty, required))| JsonProperty { name: format!("p{i}"), ty, required })
            .collect(),
        closed,
    })
}

fn render_json(ty: &JsonType) -> Value {
    match ty {
        JsonType::String { max_length } => {
            let mut out = json!({"type": "string"});
            if let Some(max) = max_length {
                out["maxLength"] = json!(max);
            }
            out
        }
        JsonType::Integer { minimum, maximum } => {
            let mut out = json!({"type": "integer"});
            if let Some(min) = minimum {
                out["minimum"] = json!(min);
            }
            if let Some(max) = maximum {
                out["maximum"] = json!(max);
            }
            out
        }
        JsonType::Number => json!({"type": "number"}),
        JsonType::Boolean => json!({"type": "boolean"}),
        JsonType::Enum(values) => json!({"type": "string", "enum": values}),
        JsonType::Array { items, max_items } => {
            let mut out = json!({"type": "array", "items": render_json(items)});
            if let Some(max) = max_items {
                out["maxItems"] = json!(max);
            }
            out
        }
        JsonType::Object(object) => render_json_object(object),
    }
}

fn render_json_object(object: &JsonObject) -> Value {
    let properties: serde_json::Map<String, Value> =
        object.properties.iter().map(|p| (p.name.clone(), render_json(&p.ty))).collect();
    let required: Vec<&str> = object.properties.iter().filter(|p| p.required).map(|p| p.name.as_str()).collect();
    let mut out = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    if object.closed {
        out["additionalProperties"] = json!(false);
    }
    out
}

fn parse_json(object: &JsonObject) -> Result<ParsedSchema, TestCaseError> {
    parse_text(SchemaType::Json, render_json_object(object).to_string())
}

#[derive(Clone, Debug)]
enum JsonChange {
    AddProperty(JsonType, bool),
    RemoveProperty(usize),
    ReplaceType(usize, JsonType),
    ToggleRequired(usize),
    ToggleClosed,
}

fn json_change() -> impl Strategy<Value = JsonChange> {
    prop_oneof![
        (json_type(), any::<bool>()).prop_map(|(ty, r)| JsonChange::AddProperty(ty, r)),
        any::<usize>().prop_map(JsonChange::RemoveProperty),
        (any::<usize>(), json_type()).prop_map(|(i, ty)| JsonChange::ReplaceType(i, ty)),
        any::<usize>().prop_map(JsonChange::ToggleRequired),
        Just(JsonChange::ToggleClosed),
    ]
}

fn apply_json(object: &JsonObject, change: &JsonChange, serial: usize) -> JsonObject {
    let mut object = object.clone();
    let n = object.properties.len();
    match change {
        JsonChange::AddProperty(ty, required) => {
            object.properties.push(JsonProperty { name: format!("added{serial}"), ty: ty.clone(), required: *required })
        }
        JsonChange::RemoveProperty(i) if n > 0 => {
            object.properties.remove(i % n);
        }
        JsonChange::ReplaceType(i, ty) if n > 0 => object.properties[i % n].ty = ty.clone(),
        JsonChange::ToggleRequired(i) if n > 0 => object.properties[i % n].required ^= true,
        JsonChange::ToggleClosed => object.closed ^= true,
        _ => {}
    }
    object
}

// ---------------------------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------------------------

const PROTO_SCALARS: [&str; 9] = ["int32", "int64", "uint32", "sint64", "bool", "string", "bytes", "double", "fixed32"];
const PROTO_MAP_KEYS: [&str; 3] = ["string", "int32", "int64"];

#[derive(Clone, Debug)]
enum ProtoType {
    Scalar(&'static str),
    Enum,
    /// A message of the file, by index (taken modulo the number of messages).
    Message(usize),
    Map(&'static str, Box<ProtoType>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    /// No label in proto3, `optional` in proto2.
    Singular,
    Repeated,
    /// proto2 only.
    Required,
}

#[derive(Clone, Debug)]
struct ProtoField {
    number: u32,
    ty: ProtoType,
    label: Label,
}

#[derive(Clone, Debug)]
struct ProtoMessage {
    fields: Vec<ProtoField>,
    oneofs: Vec<Vec<ProtoField>>,
}

#[derive(Clone, Debug)]
struct ProtoFile {
    proto2: bool,
    messages: Vec<ProtoMessage>,
}

fn proto_value_type() -> impl Strategy<Value = ProtoType> {
    prop_oneof![
        4 => prop::sample::select(&PROTO_SCALARS[..]).prop_map(ProtoType::Scalar),
        1 => Just(ProtoType::Enum),
        2 => any::<usize>().prop_map(ProtoType::Message),
    ]
}

fn proto_field_type() -> impl Strategy<Value = ProtoType> {
    prop_oneof![
        4 => proto_value_type(),
        1 => (prop::sample::select(&PROTO_MAP_KEYS[..]), proto_value_type())
            .prop_map(|(key, value)| ProtoType::Map(key, Box::new(value))),
    ]
}

fn proto_label(proto2: bool) -> impl Strategy<Value = Label> {
    let labels = if proto2 {
        vec![Label::Singular, Label::Repeated, Label::Required]
    } else {
        vec![Label::Singular, Label::Repeated]
    };
    prop::sample::select(labels)
}

fn proto_file() -> impl Strategy<Value = ProtoFile> {
    any::<bool>().prop_flat_map(|proto2| {
        let field = (proto_field_type(), proto_label(proto2));
        let oneof = prop::collection::vec(proto_value_type(), 1..4);
        let message = (prop::collection::vec(field, 0..6), prop::collection::vec(oneof, 0..2));
        prop::collection::vec(message, 1..4).prop_map(move |messages| {
            let n = messages.len();
            ProtoFile {
                proto2,
                messages: messages
                    .into_iter()
                    .map(|(fields, oneofs)| {
                        let mut number = 0;
                        let mut next = || {
                            number += 1;
                            number
                        };
                        let fields = fields
                            .into_iter()
                            .map(|(ty, label)| ProtoField { number: next(), ty: pin(ty, n), label })
                            .collect();
                        let oneofs = oneofs
                            .into_iter()
                            .map(|types| {
                                types
                                    .into_iter()
                                    .map(|ty| ProtoField { number: next(), ty: pin(ty, n), label: Label::Singular })
                                    .collect()
                            })
                            .collect();
                        ProtoMessage { fields, oneofs }
                    })
                    .collect(),
            }
        })
    })
}

/// Pins a message reference to a message of a file of `messages` messages, so it stays put when one is added.
fn pin(ty: ProtoType, messages: usize) -> ProtoType {
    match ty {
        ProtoType::Message(i) => ProtoType::Message(i % messages),
        ProtoType::Map(key, value) => ProtoType::Map(key, Box::new(pin(*value, messages))),
        other => other,
    }
}

fn render_proto_type(ty: &ProtoType, messages: usize) -> String {
    match ty {
        ProtoType::Scalar(s) => s.to_string(),
        ProtoType::Enum => "Status".to_string(),
        ProtoType::Message(i) => format!("M{}", i % messages),
        ProtoType::Map(key, value) => format!("map<{key}, {}>", render_proto_type(value, messages)),
    }
}

fn render_proto(file: &ProtoFile) -> String {
    let mut out = format!("syntax = \"{}\";\npackage gen;\n", if file.proto2 { "proto2" } else { "proto3" });
    out.push_str("enum Status {\n  STATUS_UNKNOWN = 0;\n  STATUS_ACTIVE = 1;\n}\n");
    let n = file.messages.len();
    for (i, message) in file.messages.iter().enumerate() {
        out.push_str(&format!("message M{i} {{\n"));
        for field in &message.fields {
            let label = match (field.label, &field.ty) {
                (_, ProtoType::Map(..)) => "",
                (Label::Repeated, _) => "repeated ",
                (Label::Required, _) => "required ",
                (Label::Singular, _) if file.proto2 => "optional ",
                (Label::Singular, _) => "",
            };
            out.push_str(&format!(
                "  {label}{} f{} = {};\n",
                render_proto_type(&field.ty, n),
                field.number,
                field.number
            ));
        }
        for (o, oneof) in message.oneofs.iter().enumerate() {
            out.push_str(&format!("  oneof choice{o} {{\n"));
            for field in oneof {
                out.push_str(&format!(
                    "    {} f{} = {};\n",
                    render_proto_type(&field.ty, n),
                    field.number,
                    field.number
                ));
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
    }
    out
}

fn parse_proto(file: &ProtoFile) -> Result<ParsedSchema, TestCaseError> {
    parse_text(SchemaType::Protobuf, render_proto(file))
}

fn next_number(message: &ProtoMessage) -> u32 {
    message.fields.iter().chain(message.oneofs.iter().flatten()).map(|f| f.number).max().unwrap_or(0) + 1
}

#[derive(Clone, Debug)]
enum ProtoChange {
    AddField(usize, ProtoType, bool),
    RemoveField(usize, usize),
    AddMessage,
    ToggleRepeated(usize, usize),
}

fn proto_change() -> impl Strategy<Value = ProtoChange> {
    prop_oneof![
        (any::<usize>(), proto_field_type(), any::<bool>()).prop_map(|(m, ty, r)| ProtoChange::AddField(m, ty, r)),
        (any::<usize>(), any::<usize>()).prop_map(|(m, f)| ProtoChange::RemoveField(m, f)),
        Just(ProtoChange::AddMessage),
        (any::<usize>(), any::<usize>()).prop_map(|(m, f)| ProtoChange::ToggleRepeated(m, f)),
    ]
}

fn apply_proto(file: &ProtoFile, change: &ProtoChange) -> ProtoFile {
    let mut file = file.clone();
    let n = file.messages.len();
    match change {
        ProtoChange::AddField(m, ty, repeated) => {
            let message = &mut file.messages[m % n];
            let label = if *repeated { Label::Repeated } else { Label::Singular };
            message.fields.push(ProtoField { number: next_number(message), ty: pin(ty.clone(), n), label });
        }
        ProtoChange::RemoveField(m, f) => {
            let fields = &mut file.messages[m % n].fields;
            if !fields.is_empty() {
                let i = f % fields.len();
                fields.remove(i);
            }
        }
        ProtoChange::AddMessage => file.messages.push(ProtoMessage { fields: Vec::new(), oneofs: Vec::new() }),
        ProtoChange::ToggleRepeated(m, f) => {
            let fields = &mut file.messages[m % n].fields;
            if !fields.is_empty() {
                let i = f % fields.len();
                fields[i].label = if fields[i].label == Label::Repeated { Label::Singular } else { Label::Repeated };
            }
        }
    }
    file
}

// ---------------------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn avro_laws(base in avro_fields(avro_type()), changes in prop::collection::vec(avro_change(), 3)) {
        let mut models = vec![base];
        for (serial, change) in changes.iter().enumerate() {
            let next = apply_avro(models.last().expect("a base"), change, serial);
            models.push(next);
        }
        let versions = models.iter().map(|m| parse_avro(m)).collect::<Result<Vec<_>, _>>()?;
        check_laws(&versions)?;
    }

    #[test]
    fn avro_field_added_with_default_keeps_backward_and_forward(base in avro_fields(avro_type()), ty in avro_type()) {
        let old = parse_avro(&base)?;
        let new = parse_avro(&apply_avro(&base, &AvroChange::AddField(ty, true), 0))?;
        prop_assert_eq!(backward_kinds(&new, &old), vec![]);
        // The old reader ignores a field it does not know.
        prop_assert_eq!(forward_kinds(&new, &old), vec![]);
    }

    #[test]
    fn avro_field_added_without_default_breaks_backward_only(base in avro_fields(avro_type()), ty in avro_type()) {
        let old = parse_avro(&base)?;
        let new = parse_avro(&apply_avro(&base, &AvroChange::AddField(ty, false), 0))?;
        prop_assert_eq!(backward_kinds(&new, &old), vec![ViolationKind::ReaderFieldMissingDefaultValue]);
        prop_assert_eq!(forward_kinds(&new, &old), vec![]);
    }

    #[test]
    fn avro_field_removed_breaks_forward_exactly_without_default(base in avro_fields(avro_type()), i in any::<usize>()) {
        prop_assume!(!base.is_empty());
        let removed = &base[i % base.len()];
        let old = parse_avro(&base)?;
        let new = parse_avro(&apply_avro(&base, &AvroChange::RemoveField(i), 0))?;
        // The new reader ignores the field the old writer wrote; the old reader needs a default to fill it.
        prop_assert_eq!(backward_kinds(&new, &old), vec![]);
        let expected = if removed.has_default { vec![] } else { vec![ViolationKind::ReaderFieldMissingDefaultValue] };
        prop_assert_eq!(forward_kinds(&new, &old), expected);
    }

    #[test]
    fn json_laws(base in json_object(json_type()), changes in prop::collection::vec(json_change(), 3)) {
        let mut models = vec![base];
        for (serial, change) in changes.iter().enumerate() {
            let next = apply_json(models.last().expect("a base"), change, serial);
            models.push(next);
        }
        let versions = models.iter().map(parse_json).collect::<Result<Vec<_>, _>>()?;
        check_laws(&versions)?;
    }

    #[test]
    fn json_optional_property_added_to_closed_model_keeps_backward(base in json_object(json_type()), ty in json_type()) {
        let base = JsonObject { closed: true, ..base };
        let old = parse_json(&base)?;
        let new = parse_json(&apply_json(&base, &JsonChange::AddProperty(ty, false), 0))?;
        prop_assert_eq!(backward_kinds(&new, &old), vec![]);
    }

    #[test]
    fn json_optional_property_added_to_open_model_breaks_backward(base in json_object(json_type()), ty in json_type()) {
        let base = JsonObject { closed: false, ..base };
        let old = parse_json(&base)?;
        let new = parse_json(&apply_json(&base, &JsonChange::AddProperty(ty, false), 0))?;
        prop_assert_eq!(backward_kinds(&new, &old), vec![ViolationKind::OptionalPropertyAddedToOpenContentModel]);
    }

    #[test]
    fn json_required_property_added_breaks_backward(base in json_object(json_type()), ty in json_type()) {
        let old = parse_json(&base)?;
        let new = parse_json(&apply_json(&base, &JsonChange::AddProperty(ty, true), 0))?;
        let expected = if base.closed {
            ViolationKind::RequiredPropertyAddedToUnopenContentModel
        } else {
            ViolationKind::RequiredPropertyAddedToOpenContentModel
        };
        prop_assert_eq!(backward_kinds(&new, &old), vec![expected]);
    }

    #[test]
    fn json_property_removed_breaks_backward_exactly_when_closed(base in json_object(json_type()), i in any::<usize>()) {
        prop_assume!(!base.properties.is_empty());
        let old = parse_json(&base)?;
        let new = parse_json(&apply_json(&base, &JsonChange::RemoveProperty(i), 0))?;
        let expected = if base.closed { vec![ViolationKind::PropertyRemovedFromClosedContentModel] } else { vec![] };
        prop_assert_eq!(backward_kinds(&new, &old), expected);
    }

    #[test]
    fn protobuf_laws(base in proto_file(), changes in prop::collection::vec(proto_change(), 3)) {
        let mut models = vec![base];
        for change in &changes {
            let next = apply_proto(models.last().expect("a base"), change);
            models.push(next);
        }
        let versions = models.iter().map(parse_proto).collect::<Result<Vec<_>, _>>()?;
        check_laws(&versions)?;
    }

    #[test]
    fn protobuf_optional_field_added_or_removed_keeps_full(
        base in proto_file(),
        m in any::<usize>(),
        ty in proto_field_type(),
        repeated in any::<bool>(),
    ) {
        let added = apply_proto(&base, &ProtoChange::AddField(m, ty, repeated));
        let (old, new) = (parse_proto(&base)?, parse_proto(&added)?);
        // Adding is backward and forward compatible; so, swapped, is removing.
        prop_assert!(compatible(CompatibilityLevel::Full, &new, &[&old]), "{:?}", report(CompatibilityLevel::Full, &new, &[&old]));
        prop_assert!(compatible(CompatibilityLevel::Full, &old, &[&new]));
    }

    #[test]
    fn protobuf_required_field_removed_breaks_both_ways(base in proto_file(), m in any::<usize>(), ty in proto_value_type()) {
        // A proto2 `required` field: the new reader would not find it (backward), the old reader would miss it (forward).
        let mut with_required = ProtoFile { proto2: true, ..base };
        let n = with_required.messages.len();
        let message = &mut with_required.messages[m % n];
        message.fields.push(ProtoField { number: next_number(message), ty: pin(ty, n), label: Label::Required });
        let i = message.fields.len() - 1;
        let without = apply_proto(&with_required, &ProtoChange::RemoveField(m, i));
        let (old, new) = (parse_proto(&with_required)?, parse_proto(&without)?);
        prop_assert_eq!(backward_kinds(&new, &old), vec![ViolationKind::RequiredFieldRemoved]);
        prop_assert_eq!(forward_kinds(&new, &old), vec![ViolationKind::RequiredFieldAdded]);
    }

    #[test]
    fn protobuf_message_added_keeps_backward_breaks_forward(base in proto_file()) {
        let old = parse_proto(&base)?;
        let new = parse_proto(&apply_proto(&base, &ProtoChange::AddMessage))?;
        prop_assert_eq!(backward_kinds(&new, &old), vec![]);
        prop_assert_eq!(forward_kinds(&new, &old), vec![ViolationKind::MessageRemoved]);
    }
}
