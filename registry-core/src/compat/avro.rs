//! Avro compatibility: the specification's schema-resolution rules, reader against writer, with the path of
//! each violation as a JSON pointer into the reader schema.

use std::collections::{HashMap, HashSet};

use apache_avro::Schema;
use apache_avro::schema::Name;

use super::{Violation, ViolationKind};
use crate::format::avro::{AvroSchema, full_name};

/// Named types refer to each other; past this depth the walk stops and reports, instead of recursing on.
const MAX_DEPTH: usize = 256;

pub(super) fn can_read(reader: &AvroSchema, writer: &AvroSchema) -> Vec<Violation> {
    let reader_view = ResolutionView::of(reader);
    let writer_view = ResolutionView::of(writer);
    let mut checker = Checker {
        reader_names: reader_view.named_types(),
        writer_names: writer_view.named_types(),
        in_progress: HashSet::new(),
        violations: Vec::new(),
    };
    checker.check(reader_view.root(), writer_view.root(), String::new(), 0);
    checker.violations
}

/// The schema as resolution sees it.
///
/// `apache-avro` parses a `fixed` carrying the `uuid` logical type as `Schema::Uuid` (a string) and one carrying
/// `duration` as `Schema::Duration`, dropping the fixed's name and size. Resolution ignores logical types and needs
/// both, so a schema holding either is parsed again from its JSON with the logical type taken off its fixed types.
enum ResolutionView<'s> {
    Parsed(&'s AvroSchema),
    Reparsed { root: Schema, referenced: &'s [Schema] },
}

impl<'s> ResolutionView<'s> {
    fn of(schema: &'s AvroSchema) -> Self {
        let Some(json) = schema.lossy_json() else {
            return ResolutionView::Parsed(schema);
        };
        let mut json = json.clone();
        strip_fixed_logical_types(&mut json, 0);
        let reparsed = if schema.referenced().is_empty() {
            Schema::parse(&json).ok()
        } else {
            // The references' own texts are not kept; their parsed form serves (a uuid fixed in a reference stays lost).
            let texts: Option<Vec<String>> =
                schema.referenced().iter().map(|r| serde_json::to_string(r).ok()).collect();
            texts.and_then(|texts| Schema::parse_str_with_list(&json.to_string(), texts).ok()).map(|(root, _)| root)
        };
        match reparsed {
            Some(root) => ResolutionView::Reparsed { root, referenced: schema.referenced() },
            None => ResolutionView::Parsed(schema),
        }
    }

    fn root(&self) -> &Schema {
        match self {
            ResolutionView::Parsed(schema) => schema.root(),
            ResolutionView::Reparsed { root, .. } => root,
        }
    }

    fn named_types(&self) -> HashMap<String, &Schema> {
        match self {
            ResolutionView::Parsed(schema) => schema.named_types(),
            ResolutionView::Reparsed { root, referenced } => {
                let mut names = HashMap::new();
                for schema in referenced.iter().chain(std::iter::once(root)) {
                    collect_names(schema, &mut names, 0);
                }
                names
            }
        }
    }
}

/// Takes `uuid` and `duration` off `fixed` types, which then parse as plain fixed types.
fn strip_fixed_logical_types(value: &mut serde_json::Value, depth: usize) {
    use serde_json::Value;
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(object) => {
            let is_fixed = object.get("type").and_then(Value::as_str) == Some("fixed");
            let folded = matches!(object.get("logicalType").and_then(Value::as_str), Some("uuid" | "duration"));
            if is_fixed && folded {
                object.remove("logicalType");
            }
            object.values_mut().for_each(|inner| strip_fixed_logical_types(inner, depth + 1));
        }
        Value::Array(items) => items.iter_mut().for_each(|inner| strip_fixed_logical_types(inner, depth + 1)),
        _ => {}
    }
}

/// Every named type in a schema, by full name (the first definition wins, as the parser allows only one).
fn collect_names<'a>(schema: &'a Schema, names: &mut HashMap<String, &'a Schema>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match schema {
        Schema::Record(record) => {
            names.entry(full_name(&record.name)).or_insert(schema);
            record.fields.iter().for_each(|field| collect_names(&field.schema, names, depth + 1));
        }
        Schema::Enum(e) => {
            names.entry(full_name(&e.name)).or_insert(schema);
        }
        Schema::Fixed(f) => {
            names.entry(full_name(&f.name)).or_insert(schema);
        }
        Schema::Array(a) => collect_names(&a.items, names, depth + 1),
        Schema::Map(m) => collect_names(&m.types, names, depth + 1),
        Schema::Union(u) => u.variants().iter().for_each(|variant| collect_names(variant, names, depth + 1)),
        Schema::Decimal(d) => collect_names(&d.inner, names, depth + 1),
        _ => {}
    }
}

struct Checker<'a> {
    reader_names: HashMap<String, &'a Schema>,
    writer_names: HashMap<String, &'a Schema>,
    /// Pairs of named types being compared higher up: a recursive type meets itself here and is assumed to match.
    in_progress: HashSet<(String, String)>,
    violations: Vec<Violation>,
}

/// What a schema is once references and logical types are seen through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array,
    Map,
    Union,
    Record,
    Enum,
    Fixed,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float => "float",
            Kind::Double => "double",
            Kind::Bytes => "bytes",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Map => "map",
            Kind::Union => "union",
            Kind::Record => "record",
            Kind::Enum => "enum",
            Kind::Fixed => "fixed",
        }
    }

    /// Whether data written as `writer` may be read as `self` by promotion.
    fn promotes_from(self, writer: Kind) -> bool {
        matches!(
            (writer, self),
            (Kind::Int, Kind::Long | Kind::Float | Kind::Double)
                | (Kind::Long, Kind::Float | Kind::Double)
                | (Kind::Float, Kind::Double)
                | (Kind::String, Kind::Bytes)
                | (Kind::Bytes, Kind::String)
        )
    }
}

/// The kind a schema resolves as: logical types read as their underlying type, as Avro's resolution does.
fn kind_of(schema: &Schema) -> Kind {
    match schema {
        Schema::Null => Kind::Null,
        Schema::Boolean => Kind::Boolean,
        Schema::Int | Schema::Date | Schema::TimeMillis => Kind::Int,
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => Kind::Long,
        Schema::Float => Kind::Float,
        Schema::Double => Kind::Double,
        Schema::Bytes | Schema::BigDecimal => Kind::Bytes,
        Schema::String | Schema::Uuid => Kind::String,
        Schema::Array(_) => Kind::Array,
        Schema::Map(_) => Kind::Map,
        Schema::Union(_) => Kind::Union,
        Schema::Record(_) => Kind::Record,
        Schema::Enum(_) => Kind::Enum,
        Schema::Fixed(_) | Schema::Duration => Kind::Fixed,
        Schema::Decimal(d) => kind_of(&d.inner),
        // References are resolved before kinds are asked for; an unresolved one matches nothing.
        Schema::Ref { .. } => Kind::Null,
    }
}

/// A human name for a schema in messages: the full name of a named type, the kind otherwise.
fn describe(schema: &Schema) -> String {
    match schema {
        Schema::Record(r) => format!("record {}", full_name(&r.name)),
        Schema::Enum(e) => format!("enum {}", full_name(&e.name)),
        Schema::Fixed(f) => format!("fixed {}", full_name(&f.name)),
        other => kind_of(other).name().to_string(),
    }
}

impl<'a> Checker<'a> {
    fn report(&mut self, kind: ViolationKind, path: &str, message: String) {
        self.violations.push(Violation { kind, path: path.to_string(), message });
    }

    fn deref(names: &HashMap<String, &'a Schema>, schema: &'a Schema) -> &'a Schema {
        match Self::follow_refs(names, schema) {
            Schema::Decimal(d) => Self::follow_refs(names, &d.inner),
            other => other,
        }
    }

    /// A reference names a type defined elsewhere; follow it (a few hops at most).
    fn follow_refs(names: &HashMap<String, &'a Schema>, schema: &'a Schema) -> &'a Schema {
        let mut schema = schema;
        for _ in 0..8 {
            let Schema::Ref { name } = schema else {
                return schema;
            };
            match names.get(&full_name(name)) {
                Some(target) => schema = target,
                None => return schema,
            }
        }
        schema
    }

    /// Whether `reader` reads `writer` without recording anything.
    fn compatible(&mut self, reader: &'a Schema, writer: &'a Schema, depth: usize) -> bool {
        let before = self.violations.len();
        self.check(reader, writer, String::new(), depth);
        let ok = self.violations.len() == before;
        self.violations.truncate(before);
        ok
    }

    fn check(&mut self, reader: &'a Schema, writer: &'a Schema, path: String, depth: usize) {
        if depth > MAX_DEPTH {
            self.report(ViolationKind::TypeMismatch, &path, format!("schemas nest deeper than {MAX_DEPTH} levels"));
            return;
        }
        let reader = Self::follow_refs(&self.reader_names, reader);
        let writer = Self::follow_refs(&self.writer_names, writer);
        // The specification: "two schemas that are decimal logical types match if their scales and precisions match".
        if let (Schema::Decimal(r), Schema::Decimal(w)) = (reader, writer)
            && (r.precision, r.scale) != (w.precision, w.scale)
        {
            self.report(
                ViolationKind::TypeMismatch,
                &path,
                format!(
                    "the reader expects decimal({}, {}) but the writer wrote decimal({}, {}); decimals resolve only \
                     when precision and scale are equal",
                    r.precision, r.scale, w.precision, w.scale
                ),
            );
        }
        let reader = Self::deref(&self.reader_names, reader);
        let writer = Self::deref(&self.writer_names, writer);
        let (rk, wk) = (kind_of(reader), kind_of(writer));

        if let Schema::Union(wu) = writer {
            if let Schema::Union(_) = reader {
                // Each branch the writer may write must find a branch in the reader.
                for branch in wu.variants() {
                    if !self.reader_union_reads(reader, branch, depth) {
                        self.report(
                            ViolationKind::MissingUnionBranch,
                            &path,
                            format!("the reader's union has no branch that reads the writer's {}", describe(branch)),
                        );
                    }
                }
            } else {
                for (i, branch) in wu.variants().iter().enumerate() {
                    if !self.compatible(reader, branch, depth + 1) {
                        self.report(
                            ViolationKind::TypeMismatch,
                            &path,
                            format!(
                                "the writer may write {} (union branch {i}), which the reader's {} cannot read",
                                describe(branch),
                                describe(reader)
                            ),
                        );
                    }
                }
            }
            return;
        }
        if let Schema::Union(_) = reader {
            if !self.reader_union_reads(reader, writer, depth) {
                self.report(
                    ViolationKind::MissingUnionBranch,
                    &path,
                    format!("the reader's union has no branch that reads the writer's {}", describe(writer)),
                );
            }
            return;
        }

        if rk != wk {
            if !rk.promotes_from(wk) {
                self.report(
                    ViolationKind::TypeMismatch,
                    &path,
                    format!("the reader expects {} but the writer wrote {}", describe(reader), describe(writer)),
                );
            }
            return;
        }

        match (reader, writer) {
            (Schema::Record(r), Schema::Record(w)) => {
                let key = (full_name(&r.name), full_name(&w.name));
                if !self.in_progress.insert(key.clone()) {
                    return;
                }
                // A name mismatch alone decides the verdict; the fields are compared too, to report every fix needed.
                if !names_match(&r.name, r.aliases.as_deref(), &w.name) {
                    self.report(
                        ViolationKind::NameMismatch,
                        &format!("{path}/name"),
                        format!(
                            "the reader's record is named {} but the writer's is {}",
                            full_name(&r.name),
                            full_name(&w.name)
                        ),
                    );
                }
                // The writer's fields by name, looked up rather than searched for: a wide record is not quadratic.
                let writer_fields: HashMap<&str, usize> =
                    w.fields.iter().enumerate().rev().map(|(i, wf)| (wf.name.as_str(), i)).collect();
                for (i, field) in r.fields.iter().enumerate() {
                    // The first writer field, in the writer's order, named by the field's name or one of its aliases.
                    let found = std::iter::once(&field.name)
                        .chain(field.aliases.iter().flatten())
                        .filter_map(|name| writer_fields.get(name.as_str()).copied())
                        .min()
                        .and_then(|index| w.fields.get(index));
                    match found {
                        Some(wf) => {
                            let field_path = format!("{path}/fields/{i}/type");
                            let before = self.violations.len();
                            self.check(&field.schema, &wf.schema, field_path.clone(), depth + 1);
                            // Name the field in the violations found right at its type.
                            for violation in &mut self.violations[before..] {
                                if violation.path == field_path {
                                    violation.message = format!("field `{}`: {}", field.name, violation.message);
                                }
                            }
                        }
                        None if field.default.is_none() => self.report(
                            ViolationKind::ReaderFieldMissingDefaultValue,
                            &format!("{path}/fields/{i}"),
                            format!(
                                "field `{}` is in the reader but not in the writer, and has no default to fill it with",
                                field.name
                            ),
                        ),
                        None => {}
                    }
                }
                self.in_progress.remove(&key);
            }
            (Schema::Enum(r), Schema::Enum(w)) => {
                if !names_match(&r.name, r.aliases.as_deref(), &w.name) {
                    self.report(
                        ViolationKind::NameMismatch,
                        &format!("{path}/name"),
                        format!(
                            "the reader's enum is named {} but the writer's is {}",
                            full_name(&r.name),
                            full_name(&w.name)
                        ),
                    );
                }
                if r.default.is_some() {
                    return;
                }
                let missing: Vec<&str> =
                    w.symbols.iter().filter(|s| !r.symbols.contains(s)).map(String::as_str).collect();
                if !missing.is_empty() {
                    self.report(
                        ViolationKind::MissingEnumSymbols,
                        &format!("{path}/symbols"),
                        format!(
                            "enum {} lacks the writer's symbols [{}] and has no default",
                            full_name(&r.name),
                            missing.join(", ")
                        ),
                    );
                }
            }
            (Schema::Fixed(r), Schema::Fixed(w)) => {
                if !names_match(&r.name, r.aliases.as_deref(), &w.name) {
                    self.report(
                        ViolationKind::NameMismatch,
                        &format!("{path}/name"),
                        format!(
                            "the reader's fixed is named {} but the writer's is {}",
                            full_name(&r.name),
                            full_name(&w.name)
                        ),
                    );
                }
                if r.size != w.size {
                    self.report(
                        ViolationKind::FixedSizeMismatch,
                        &format!("{path}/size"),
                        format!(
                            "fixed {} is {} bytes in the reader but {} in the writer",
                            full_name(&r.name),
                            r.size,
                            w.size
                        ),
                    );
                }
            }
            (Schema::Array(r), Schema::Array(w)) => self.check(&r.items, &w.items, format!("{path}/items"), depth + 1),
            (Schema::Map(r), Schema::Map(w)) => self.check(&r.types, &w.types, format!("{path}/values"), depth + 1),
            _ => {}
        }
    }

    /// Whether some branch of the reader's union reads `writer`.
    fn reader_union_reads(&mut self, reader: &'a Schema, writer: &'a Schema, depth: usize) -> bool {
        let Schema::Union(ru) = reader else {
            return false;
        };
        // Only references are followed: a decimal must meet the reader's branches as a decimal.
        let writer = Self::follow_refs(&self.writer_names, writer);
        ru.variants().iter().any(|branch| self.compatible(branch, writer, depth + 1))
    }
}

/// Avro names match when the unqualified names are equal, or a reader alias names the writer.
fn names_match(reader: &Name, reader_aliases: Option<&[apache_avro::schema::Alias]>, writer: &Name) -> bool {
    if reader.name == writer.name {
        return true;
    }
    let writer_full = full_name(writer);
    reader_aliases.into_iter().flatten().any(|alias| {
        let alias_full = alias.fullname(reader.namespace.clone());
        alias_full == writer_full || alias.name() == writer.name
    })
}
