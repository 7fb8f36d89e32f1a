//! The load generator's corpus: N subjects, 70% JSON Schema, 20% Avro, 10% Protobuf, each schema 1-5 KB with
//! 5-20 fields, each subject 1-5 versions where every version adds one optional field (so each is compatible
//! with the one before under BACKWARD, the default level), and for each version a data value that it accepts.
//!
//! The versions a run registers after the corpus's go on adding optional fields up to four, as many as the corpus's
//! fifth versions have (fewer where the schema would pass 20 fields or 5 KB); after that each one revises the
//! schema instead (a `$comment`, an Avro attribute, a reserved Protobuf field number), a new and still compatible
//! version of the same size. However long a run lasts, the schemas it registers keep the corpus's shape, so its
//! rate measures that corpus rather than falling as schemas grow without bound.
//!
//! Everything is a pure function of the seed; nothing here talks to a server.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::rng::Rng;

/// A schema format, as the Confluent API names it in `schemaType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// JSON Schema (draft 7).
    Json,
    /// Avro.
    Avro,
    /// Protobuf (proto3).
    Protobuf,
}

impl Format {
    /// The `schemaType` value.
    pub fn schema_type(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Avro => "AVRO",
            Format::Protobuf => "PROTOBUF",
        }
    }

    /// What stands between two fields in the schema text: a comma in JSON, nothing between Protobuf lines.
    fn field_separator(self) -> &'static str {
        if self == Format::Protobuf { "" } else { "," }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Str,
    Int,
    Long,
    Double,
    Bool,
    Enum(Vec<String>),
    StrArray,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    doc: String,
}

/// One subject of the corpus and everything needed to write its schemas and data.
#[derive(Debug, Clone)]
pub struct SubjectSpec {
    /// The subject name, e.g. `orders-17-value`.
    pub name: String,
    /// Its format.
    pub format: Format,
    /// How many versions the preload registers (1-5); version `v` has `v - 1` optional fields.
    pub corpus_versions: u32,
    /// The optional fields the schema grows to; later versions are revisions (see [`SubjectSpec::schema_text`]).
    max_optional: u32,
    record: String,
    namespace: String,
    doc: String,
    fields: Vec<Field>,
    /// Its registration bodies rendered once up to the optional fields, set when the spec is complete.
    bodies: BodyTemplate,
}

/// A subject's registration body with every version's common part rendered and JSON-escaped once: a body is the
/// head, the fields' fragments (the base fields' and the optional ones', in the order the schema text has them)
/// and the tail. The loader sends a new body per new version, so building it must cost a copy, not a render; the
/// text is byte for byte [`SubjectSpec::schema_text`]'s, as `bodies_are_the_rendered_schemas` checks.
#[derive(Debug, Clone, Default)]
struct BodyTemplate {
    head: String,
    /// (sort key, escaped fragment) of each base field.
    fields: Vec<(String, String)>,
    tail: String,
    /// (sort key, escaped fragment) of optional fields 1, 2, ...: rendered the first time a body needs them, as
    /// the run registers ever later versions (shared by clones of the spec; every clone renders the same).
    optional: Arc<Mutex<Vec<(String, String)>>>,
}

/// JSON-escapes `text` as it appears inside a JSON string (escaping is per character, so pieces escaped apart
/// join into the escaped whole).
fn escaped(text: &str) -> String {
    let quoted = Value::from(text).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

const WORDS: &[&str] = &[
    "account",
    "amount",
    "address",
    "balance",
    "batch",
    "brand",
    "carrier",
    "category",
    "channel",
    "city",
    "code",
    "comment",
    "country",
    "coupon",
    "created",
    "currency",
    "customer",
    "device",
    "discount",
    "email",
    "event",
    "expires",
    "flag",
    "group",
    "invoice",
    "item",
    "label",
    "language",
    "latitude",
    "locale",
    "longitude",
    "merchant",
    "method",
    "name",
    "note",
    "order",
    "origin",
    "owner",
    "partner",
    "payment",
    "phone",
    "price",
    "priority",
    "product",
    "quantity",
    "reason",
    "region",
    "score",
    "session",
    "shipment",
    "source",
    "status",
    "store",
    "tax",
    "tenant",
    "title",
    "total",
    "updated",
    "user",
    "vendor",
    "weight",
    "zone",
];

const DOMAINS: &[&str] = &[
    "orders",
    "payments",
    "customers",
    "inventory",
    "shipments",
    "clicks",
    "sessions",
    "invoices",
    "refunds",
    "reviews",
    "carts",
    "accounts",
];

const LOREM: &str = "The value is set by the producing service when the record is written and is kept unchanged \
afterwards; consumers must tolerate values they do not recognise and should not rely on ordering between \
records of different partitions. ";

fn padding(len: usize) -> String {
    LOREM.chars().cycle().take(len).collect::<String>().trim_end().to_string()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// The corpus for `subjects` subjects and a seed.
pub fn corpus(subjects: usize, versions: Option<u32>, seed: u64) -> Vec<SubjectSpec> {
    (0..subjects).map(|i| SubjectSpec::generate(i, versions, seed)).collect()
}

impl SubjectSpec {
    fn generate(index: usize, versions: Option<u32>, seed: u64) -> Self {
        let mut rng = Rng::derive(seed, index as u64);
        // Exact proportions in every run of ten subjects, so even a small corpus has all three formats.
        let format = match index % 10 {
            0..7 => Format::Json,
            7..9 => Format::Avro,
            _ => Format::Protobuf,
        };
        let domain = rng.pick(DOMAINS);
        let name = format!("{domain}-{index}-value");
        let record = format!("{}Event{index}", capitalized(domain));
        let namespace = format!("com.example.{domain}.v{}", 1 + rng.below(3));
        // Drawn even when fixed, so the same seed names the same subjects in the same formats.
        let drawn = rng.range(1, 5) as u32;
        let corpus_versions = versions.map_or(drawn, |v| v.clamp(1, 5));
        // The fields of version 1; optional fields come on top, one per later version.
        let base_fields = rng.range(5, 20 - u64::from(corpus_versions - 1).min(15)) as usize;
        let mut fields = Vec::with_capacity(base_fields);
        for i in 0..base_fields {
            let word = rng.pick(WORDS);
            let kind = match rng.below(10) {
                0..4 => Kind::Str,
                4 => Kind::Int,
                5 => Kind::Long,
                6 => Kind::Double,
                7 => Kind::Bool,
                8 => Kind::Enum((0..rng.range(2, 6)).map(|s| format!("{}_{s}", word.to_uppercase())).collect()),
                _ => Kind::StrArray,
            };
            fields.push(Field { name: format!("{word}{i}"), kind, doc: String::new() });
        }
        let mut spec = Self {
            name,
            format,
            corpus_versions,
            max_optional: 0,
            record,
            namespace,
            doc: format!("A {domain} event as published by the {domain} service."),
            fields,
            bodies: BodyTemplate::default(),
        };
        // Pad the documentation so the first version lands on a size between 1 and 5 KB.
        let natural = spec.schema_text(0).len();
        let target = (rng.range(1024, 5120) as usize).max(natural + 40);
        let per_field = (target - natural) / spec.fields.len();
        for field in &mut spec.fields {
            field.doc = padding(per_field.max(8));
        }
        spec.max_optional = spec.growth_limit();
        spec.bodies = spec.body_template();
        spec
    }

    /// The most optional fields later versions add: [`MAX_OPTIONAL`], within [`MAX_FIELDS`] and, past the
    /// corpus's own versions, within [`MAX_SCHEMA_BYTES`].
    fn growth_limit(&self) -> u32 {
        let floor = self.corpus_versions - 1;
        let room = (MAX_FIELDS.saturating_sub(self.fields.len()) as u32).min(MAX_OPTIONAL);
        let (mut low, mut high) = (floor, room.max(floor));
        // Each optional field lengthens the text: the largest count that fits, by bisection.
        while low < high {
            let mid = (low + high).div_ceil(2);
            // With the longest revision mark: the revisions that follow must fit too.
            if self.text_with(mid, u32::MAX).len() <= MAX_SCHEMA_BYTES { low = mid } else { high = mid - 1 }
        }
        low
    }

    /// Optional fields and revision of the version `step` versions after the first.
    fn split(&self, step: u32) -> (u32, u32) {
        let optional = step.min(self.max_optional);
        (optional, step - optional)
    }

    /// Splits the schema text without optional fields into head, base-field fragments and tail.
    fn body_template(&self) -> BodyTemplate {
        let text = self.schema_text(0);
        let fields: Vec<(String, String)> = match self.format {
            Format::Json => {
                let mut fields: Vec<(String, String)> =
                    self.fields.iter().map(|f| (f.name.clone(), json_member(&f.name, &json_property(f)))).collect();
                fields.sort();
                fields
            }
            Format::Avro => self.fields.iter().map(|f| (String::new(), avro_field(f).to_string())).collect(),
            Format::Protobuf => Vec::new(),
        };
        let joined = fields
            .iter()
            .map(|(_, fragment)| fragment.as_str())
            .collect::<Vec<_>>()
            .join(self.format.field_separator());
        let start = match self.format {
            Format::Json => text.find(r#""properties":{"#).map(|at| at + r#""properties":{"#.len()),
            Format::Avro => text.find(r#""fields":["#).map(|at| at + r#""fields":["#.len()),
            Format::Protobuf => text.len().checked_sub("}\n".len()),
        }
        .expect("the schema text has its fields' place");
        assert!(text[start..].starts_with(&joined), "{}: fragments differ from the rendered text", self.name);
        BodyTemplate {
            head: escaped(&text[..start]),
            fields: fields.into_iter().map(|(key, fragment)| (key, escaped(&fragment))).collect(),
            tail: escaped(&text[start + joined.len()..]),
            optional: Arc::default(),
        }
    }

    /// The schema of the version `step` versions after the first (version `step + 1`, of the corpus or
    /// registered during the run): `step` optional fields, or once the schema has all it grows to, that many and
    /// a revision mark numbered by the steps past them.
    pub fn schema_text(&self, step: u32) -> String {
        let (optional, revision) = self.split(step);
        self.text_with(optional, revision)
    }

    fn text_with(&self, optional: u32, revision: u32) -> String {
        let mut text = match self.format {
            Format::Json => self.json_schema(optional),
            Format::Avro => self.avro_schema(optional),
            Format::Protobuf => self.proto_schema(optional),
        };
        if revision > 0 {
            let mark = revision_mark(self.format, revision);
            match self.format {
                // The first member of the schema object.
                Format::Json | Format::Avro => text.insert_str(1, &mark),
                // The last line of the message.
                Format::Protobuf => text.insert_str(text.len() - "}\n".len(), &mark),
            }
        }
        text
    }

    /// A registration body (`POST /subjects/{s}/versions`, also a compatibility-check body) for the version
    /// [`SubjectSpec::schema_text`] renders, spliced from the subject's rendered template.
    pub fn register_body(&self, step: u32) -> String {
        let (optional, revision) = self.split(step);
        let mark = (revision > 0).then(|| escaped(&revision_mark(self.format, revision)));
        let template = &self.bodies;
        let mut rendered = template.optional.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while rendered.len() < optional as usize {
            let n = rendered.len() as u32 + 1;
            rendered.push(self.optional_fragment(n));
        }
        let mut fragments: Vec<&(String, String)> =
            template.fields.iter().chain(&rendered[..optional as usize]).collect();
        if self.format == Format::Json {
            // Properties are a sorted map in the rendered text.
            fragments.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let separator = self.format.field_separator();
        let size: usize = fragments.iter().map(|(_, f)| f.len() + 1).sum();
        let mut body = String::with_capacity(template.head.len() + size + template.tail.len() + 40);
        body.push_str(r#"{"schema":""#);
        match (&mark, self.format) {
            (Some(mark), Format::Json | Format::Avro) => {
                // The head opens the schema object; the mark is its first member.
                body.push('{');
                body.push_str(mark);
                body.push_str(&template.head[1..]);
            }
            _ => body.push_str(&template.head),
        }
        for (i, (_, fragment)) in fragments.iter().enumerate() {
            if i > 0 {
                body.push_str(separator);
            }
            body.push_str(fragment);
        }
        if let (Some(mark), Format::Protobuf) = (&mark, self.format) {
            body.push_str(mark);
        }
        body.push_str(&template.tail);
        body.push('"');
        if self.format != Format::Avro {
            body.push_str(r#","schemaType":""#);
            body.push_str(self.format.schema_type());
            body.push('"');
        }
        body.push('}');
        body
    }

    /// The sort key and escaped text of optional field `n` as the schema text has it.
    fn optional_fragment(&self, n: u32) -> (String, String) {
        let name = optional_name(n);
        let fragment = match self.format {
            Format::Json => json_member(&name, &optional_json_property(n)),
            Format::Avro => optional_avro_field(n).to_string(),
            Format::Protobuf => optional_proto_field(n, self.fields.len() as u32 + n),
        };
        (name, escaped(&fragment))
    }

    /// The fields of the version with `optional` optional fields.
    pub fn field_count(&self, optional: u32) -> usize {
        self.fields.len() + optional.min(self.max_optional) as usize
    }

    /// A data value that the version with `optional` optional fields accepts.
    pub fn data(&self, optional: u32) -> Value {
        let mut object = Map::new();
        for (i, field) in self.fields.iter().enumerate() {
            let value = match &field.kind {
                Kind::Str => json!(format!("{}-{i}", field.name)),
                Kind::Int => json!(i as i64 * 7 + 1),
                Kind::Long => json!(1_700_000_000_i64 + i as i64),
                Kind::Double => json!(i as f64 + 0.25),
                Kind::Bool => json!(i % 2 == 0),
                Kind::Enum(symbols) => match self.format {
                    Format::Protobuf => json!(proto_enum_value(&field.name, &symbols[0])),
                    _ => json!(symbols[0]),
                },
                Kind::StrArray => json!(["a", "b", "c"]),
            };
            object.insert(field.name.clone(), value);
        }
        // Avro's JSON reading wants every field; the null branch of an optional field is plain `null`.
        if self.format == Format::Avro {
            for n in 1..=optional {
                object.insert(optional_name(n), Value::Null);
            }
        }
        Value::Object(object)
    }

    /// [`SubjectSpec::data`] with its free-text string values lengthened (each within the schemas' 256
    /// characters) until the document is about `bytes` long as JSON, or as long as they allow.
    pub fn data_of_size(&self, optional: u32, bytes: usize) -> Value {
        let mut data = self.data(optional);
        let texts: Vec<&str> =
            self.fields.iter().filter(|f| matches!(f.kind, Kind::Str)).map(|f| f.name.as_str()).collect();
        let short = data.to_string().len();
        if texts.is_empty() || short >= bytes {
            return data;
        }
        let each = (bytes - short).div_ceil(texts.len());
        for name in texts {
            if let Some(Value::String(text)) = data.get_mut(name) {
                let room = 256usize.saturating_sub(text.len());
                text.extend(std::iter::repeat_n('x', each.min(room)));
            }
        }
        data
    }

    fn json_schema(&self, optional: u32) -> String {
        let mut properties = Map::new();
        for field in &self.fields {
            properties.insert(field.name.clone(), json_property(field));
        }
        for n in 1..=optional {
            properties.insert(optional_name(n), optional_json_property(n));
        }
        let required: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": format!("https://schemas.example.com/{}/{}.json", self.namespace, self.record),
            "title": self.record,
            "description": self.doc,
            "type": "object",
            "properties": properties,
            "required": required,
            // A closed model: adding an optional property is then a BACKWARD-compatible change.
            "additionalProperties": false,
        })
        .to_string()
    }

    fn avro_schema(&self, optional: u32) -> String {
        let mut fields: Vec<Value> = self.fields.iter().map(avro_field).collect();
        fields.extend((1..=optional).map(optional_avro_field));
        json!({
            "type": "record",
            "name": self.record,
            "namespace": self.namespace,
            "doc": self.doc,
            "fields": fields,
        })
        .to_string()
    }

    fn proto_schema(&self, optional: u32) -> String {
        let mut out = format!(
            "syntax = \"proto3\";\n\npackage {};\n\n// {}\nmessage {} {{\n",
            self.namespace, self.doc, self.record
        );
        let mut number = 1;
        for field in &self.fields {
            out.push_str(&format!("  // {}\n", field.doc));
            let kind = match &field.kind {
                Kind::Str => "string".to_string(),
                Kind::Int => "int32".to_string(),
                Kind::Long => "int64".to_string(),
                Kind::Double => "double".to_string(),
                Kind::Bool => "bool".to_string(),
                Kind::Enum(symbols) => {
                    let name = format!("{}Kind", capitalized(&field.name));
                    let prefix = field.name.to_uppercase();
                    out.push_str(&format!("  enum {name} {{\n    {prefix}_UNSPECIFIED = 0;\n"));
                    for (i, symbol) in symbols.iter().enumerate() {
                        out.push_str(&format!("    {} = {};\n", proto_enum_value(&field.name, symbol), i + 1));
                    }
                    out.push_str("  }\n");
                    name
                }
                Kind::StrArray => "repeated string".to_string(),
            };
            out.push_str(&format!("  {kind} {} = {number};\n", field.name));
            number += 1;
        }
        for n in 1..=optional {
            out.push_str(&optional_proto_field(n, number));
            number += 1;
        }
        out.push_str("}\n");
        out
    }
}

/// Most optional fields a schema grows to during a run: the corpus's fifth versions have four.
const MAX_OPTIONAL: u32 = 4;
/// Most fields a schema grows to during a run.
const MAX_FIELDS: usize = 20;
/// Largest schema text a run grows a schema to by adding fields (the corpus's own versions may pass it a little).
const MAX_SCHEMA_BYTES: usize = 5 * 1024;

/// What revision `n` of a schema adds to its text: a change that makes a new version, compatible with the last,
/// without growing it. JSON Schema: a `$comment` member; Avro: a record attribute; Protobuf: a reserved field
/// number (a change to the descriptor, as comments are not part of a schema's identity).
fn revision_mark(format: Format, n: u32) -> String {
    match format {
        Format::Json => format!(r#""$comment":"revision {n}","#),
        Format::Avro => format!(r#""revision":{n},"#),
        Format::Protobuf => format!("  reserved {};\n", 20_000 + u64::from(n)),
    }
}

fn optional_name(n: u32) -> String {
    format!("extra{n}")
}

/// `"name":value`, a member of a JSON object as serde_json writes it.
fn json_member(name: &str, value: &Value) -> String {
    format!("{}:{value}", Value::from(name))
}

/// A base field as a JSON Schema property.
fn json_property(field: &Field) -> Value {
    let mut schema = match &field.kind {
        Kind::Str => json!({ "type": "string", "maxLength": 256 }),
        Kind::Int => json!({ "type": "integer", "minimum": 0 }),
        Kind::Long => json!({ "type": "integer" }),
        Kind::Double => json!({ "type": "number" }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::Enum(symbols) => json!({ "type": "string", "enum": symbols }),
        Kind::StrArray => json!({ "type": "array", "items": { "type": "string" } }),
    };
    schema["description"] = Value::from(field.doc.as_str());
    schema
}

/// Optional field `n` as a JSON Schema property.
fn optional_json_property(n: u32) -> Value {
    json!({ "type": "string", "description": format!("Added in version {}.", n + 1) })
}

/// A base field as an Avro record field.
fn avro_field(field: &Field) -> Value {
    let kind = match &field.kind {
        Kind::Str => json!("string"),
        Kind::Int => json!("int"),
        Kind::Long => json!("long"),
        Kind::Double => json!("double"),
        Kind::Bool => json!("boolean"),
        Kind::Enum(symbols) => {
            json!({ "type": "enum", "name": format!("{}Kind", capitalized(&field.name)), "symbols": symbols })
        }
        Kind::StrArray => json!({ "type": "array", "items": "string" }),
    };
    json!({ "name": field.name, "type": kind, "doc": field.doc })
}

/// Optional field `n` as an Avro record field.
fn optional_avro_field(n: u32) -> Value {
    json!({
        "name": optional_name(n),
        "type": ["null", "string"],
        "default": null,
        "doc": format!("Added in version {}.", n + 1),
    })
}

/// Optional field `n` as a Protobuf field numbered `number`.
fn optional_proto_field(n: u32, number: u32) -> String {
    format!("  // Added in version {}.\n  string {} = {number};\n", n + 1, optional_name(n))
}

fn proto_enum_value(field: &str, symbol: &str) -> String {
    format!("{}_{symbol}", field.to_uppercase())
}

#[cfg(test)]
mod tests {
    use registry_core::compat::{self, CompatibilityLevel};
    use registry_core::{NoReferences, ParsedSchema, SchemaType, UnparsedSchema, Version};

    use super::{Format, MAX_FIELDS, MAX_OPTIONAL, MAX_SCHEMA_BYTES, SubjectSpec, corpus};

    #[test]
    fn corpus_has_the_promised_shape() {
        let subjects = corpus(400, None, 42);
        let json = subjects.iter().filter(|s| s.format == Format::Json).count();
        let avro = subjects.iter().filter(|s| s.format == Format::Avro).count();
        assert_eq!((json, avro), (280, 80));
        for subject in &subjects {
            assert!((1..=5).contains(&subject.corpus_versions));
            assert!((5..=20).contains(&subject.fields.len()));
            let size = subject.schema_text(0).len();
            assert!((1024..=5300).contains(&size), "{} is {size} bytes", subject.name);
            let last = subject.schema_text(subject.corpus_versions - 1);
            assert!(last.len() <= 5600, "{} is {} bytes", subject.name, last.len());
            let body: serde_json::Value = serde_json::from_str(&subject.register_body(1)).unwrap();
            assert_ne!(body["schema"].as_str().unwrap(), subject.schema_text(0), "{}: version 2 is new", subject.name);
        }
        assert_eq!(corpus(3, None, 42)[2].schema_text(1), subjects[2].schema_text(1));
    }

    #[test]
    fn a_fixed_version_count_keeps_the_subjects() {
        let drawn = corpus(50, None, 7);
        let fixed = corpus(50, Some(5), 7);
        for (d, f) in drawn.iter().zip(&fixed) {
            assert_eq!(f.corpus_versions, 5);
            assert_eq!((&d.name, d.format), (&f.name, f.format));
            assert!(f.schema_text(4).len() <= 5600, "{} is {} bytes", f.name, f.schema_text(4).len());
        }
        assert!(drawn.iter().any(|s| s.corpus_versions < 5));
    }

    #[test]
    fn bodies_are_the_rendered_schemas() {
        // Rising and then falling counts: a body with fewer optional fields than already rendered reuses a prefix.
        for subject in corpus(200, None, 7) {
            // Past every subject's growth limit, 25 and 60 are revisions.
            for optional in [0, 1, 2, 9, 10, 11, 25, 60, 3, 0] {
                let body: serde_json::Value = serde_json::from_str(&subject.register_body(optional)).unwrap();
                let mut expected = serde_json::json!({ "schema": subject.schema_text(optional) });
                if subject.format != Format::Avro {
                    expected["schemaType"] = subject.format.schema_type().into();
                }
                assert_eq!(body, expected, "{} with {optional} optional fields", subject.name);
            }
        }
    }

    fn parsed(subject: &SubjectSpec, step: u32) -> ParsedSchema {
        let schema_type: SchemaType = subject.format.schema_type().parse().expect("a schema type the registry knows");
        let schema = UnparsedSchema::new(schema_type, subject.schema_text(step));
        registry_core::parse(&schema, &NoReferences, &Default::default())
            .unwrap_or_else(|e| panic!("{} version {}: {e}", subject.name, step + 1))
    }

    #[test]
    fn documents_of_a_size_are_about_that_size_and_valid() {
        let validate = registry_core::validate::ValidateOptions::default();
        for subject in corpus(60, None, 5) {
            let optional = subject.corpus_versions - 1;
            let validator = registry_core::validate::Validator::compile(&parsed(&subject, optional), &validate)
                .unwrap_or_else(|e| panic!("{}: {e}", subject.name));
            let short = subject.data(optional).to_string().len();
            let texts = subject.fields.iter().filter(|f| matches!(f.kind, super::Kind::Str)).count();
            let data = subject.data_of_size(optional, 1_600);
            let size = data.to_string().len();
            if texts > 0 && texts * 200 > 1_600 {
                assert!((1_600..1_600 + texts).contains(&size), "{}: {size} bytes", subject.name);
            } else {
                assert!(size >= short, "{}: {size} bytes", subject.name);
            }
            let report = validator.validate(&data);
            assert!(report.valid, "{}: {:?}", subject.name, report.errors);
        }
    }

    #[test]
    fn later_versions_stay_within_the_corpus_bounds_each_new_and_compatible_with_the_last() {
        for subject in corpus(30, None, 11) {
            // The corpus's own last version may pass 5 KB a little; the run's revisions of it then add only a mark.
            let bound = MAX_SCHEMA_BYTES.max(subject.text_with(subject.corpus_versions - 1, u32::MAX).len());
            let mut previous = parsed(&subject, 0);
            for step in 1..40 {
                let (optional, _) = subject.split(step);
                assert!(optional <= MAX_OPTIONAL, "{} step {step}", subject.name);
                assert!(subject.fields.len() + optional as usize <= MAX_FIELDS, "{} step {step}", subject.name);
                let size = subject.schema_text(step).len();
                assert!(size <= bound, "{} step {step}: {size} bytes", subject.name);
                let current = parsed(&subject, step);
                assert_ne!(
                    current.fingerprint(),
                    previous.fingerprint(),
                    "{} step {step} is no new version",
                    subject.name
                );
                let newest = [(Version::new(step).expect("a version"), &previous)];
                let report = compat::check(CompatibilityLevel::Backward, &current, &newest).expect("checks");
                assert!(report.is_compatible(), "{} step {step}: {:?}", subject.name, report.violations);
                previous = current;
            }
            assert!(subject.split(5).1 > 0, "{}: version 6 is a revision", subject.name);
        }
    }
}
