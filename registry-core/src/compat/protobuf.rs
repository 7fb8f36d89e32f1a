//! Protobuf compatibility: the reference registry's schema-diff rules, writer (the original) against reader (the
//! update), reporting only the differences it counts as incompatible.
//!
//! Messages are matched by name level by level, fields by number, oneofs by the fields they hold. Types reached
//! through imports are compared where a field uses them. This module reads compiled descriptors; it must not
//! parse text or resolve references itself.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use prost_reflect::{Cardinality, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor};

use super::{Violation, ViolationKind};
use crate::format::protobuf::ProtobufSchema;

/// Messages nest in messages and fields lead to imported messages; past this depth the walk stops and reports.
const MAX_DEPTH: usize = 128;

pub(super) fn can_read(reader: &ProtobufSchema, writer: &ProtobufSchema) -> Vec<Violation> {
    let mut checker = Checker {
        reader_root: reader.file().name().to_string(),
        writer_root: writer.file().name().to_string(),
        compared: HashMap::new(),
        violations: Vec::new(),
    };
    checker.compare_files(reader.file(), writer.file());
    checker.violations
}

struct Checker {
    reader_root: String,
    writer_root: String,
    /// Imported message pairs (writer, reader) compared so far: `None` while in progress (a cycle meets it and
    /// assumes a match), then whether they matched. Each pair is compared once, however many fields use it.
    compared: HashMap<(String, String), Option<bool>>,
    violations: Vec<Violation>,
}

/// How a field was labelled in the source, as the reference registry sees it: a proto3 field without `optional`,
/// a oneof member and a map carry no label, and labels are compared only when both sides have one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    Optional,
    Required,
    Repeated,
}

/// What a field's value is, for comparison: enums count as scalars (they are varints on the wire).
#[derive(Clone)]
enum FieldType {
    Scalar(Kind),
    Message(MessageDescriptor),
    Map(Box<FieldType>, Box<FieldType>),
}

/// Broad kinds: a change between two of them is always incompatible.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Scalar,
    Message,
    Map,
}

/// Scalars that read each other's data: the groups of the Protobuf language guide's "updating a message type".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ScalarGroup {
    /// int32, int64, uint32, uint64, bool and enums: plain varints.
    GeneralNumber,
    /// sint32, sint64: zigzag varints.
    SignedNumber,
    /// string, bytes: length-delimited.
    StringOrBytes,
    /// fixed32, sfixed32.
    Fixed32,
    /// fixed64, sfixed64.
    Fixed64,
    /// float.
    Float,
    /// double.
    Double,
}

impl ScalarGroup {
    fn of(kind: &Kind) -> Option<ScalarGroup> {
        Some(match kind {
            Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Bool | Kind::Enum(_) => {
                ScalarGroup::GeneralNumber
            }
            Kind::Sint32 | Kind::Sint64 => ScalarGroup::SignedNumber,
            Kind::String | Kind::Bytes => ScalarGroup::StringOrBytes,
            Kind::Fixed32 | Kind::Sfixed32 => ScalarGroup::Fixed32,
            Kind::Fixed64 | Kind::Sfixed64 => ScalarGroup::Fixed64,
            Kind::Float => ScalarGroup::Float,
            Kind::Double => ScalarGroup::Double,
            Kind::Message(_) => return None,
        })
    }

    fn wire_type(self) -> &'static str {
        match self {
            ScalarGroup::GeneralNumber | ScalarGroup::SignedNumber => "varint",
            ScalarGroup::StringOrBytes => "length-delimited",
            ScalarGroup::Fixed32 | ScalarGroup::Float => "32-bit",
            ScalarGroup::Fixed64 | ScalarGroup::Double => "64-bit",
        }
    }

    fn is_numeric(self) -> bool {
        self != ScalarGroup::StringOrBytes
    }
}

impl FieldType {
    fn of(field: &FieldDescriptor) -> FieldType {
        match field.kind() {
            Kind::Message(message) if field.is_map() => FieldType::Map(
                Box::new(FieldType::of(&message.map_entry_key_field())),
                Box::new(FieldType::of(&message.map_entry_value_field())),
            ),
            Kind::Message(message) => FieldType::Message(message),
            scalar => FieldType::Scalar(scalar),
        }
    }

    fn shape(&self) -> Shape {
        match self {
            FieldType::Scalar(_) => Shape::Scalar,
            FieldType::Message(_) => Shape::Message,
            FieldType::Map(..) => Shape::Map,
        }
    }

    fn describe(&self) -> String {
        match self {
            FieldType::Scalar(Kind::Enum(e)) => format!("enum {}", e.full_name()),
            FieldType::Scalar(kind) => scalar_name(kind).to_string(),
            FieldType::Message(m) => format!("message {}", m.full_name()),
            FieldType::Map(key, value) => format!("map<{}, {}>", key.describe(), value.describe()),
        }
    }
}

fn scalar_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Enum(_) => "enum",
        Kind::Message(_) => "message",
    }
}

/// The label as written in the source (see [`Label`]).
fn written_label(field: &FieldDescriptor) -> Option<Label> {
    if field.is_map() {
        return None;
    }
    if field.containing_oneof().is_some_and(|oneof| !oneof.is_synthetic()) {
        return None;
    }
    match field.cardinality() {
        Cardinality::Repeated => Some(Label::Repeated),
        Cardinality::Required => Some(Label::Required),
        Cardinality::Optional => {
            let proto2 = matches!(field.parent_file().file_descriptor_proto().syntax(), "" | "proto2");
            (proto2 || field.field_descriptor_proto().proto3_optional()).then_some(Label::Optional)
        }
    }
}

fn label_name(label: Label) -> &'static str {
    match label {
        Label::Optional => "optional",
        Label::Required => "required",
        Label::Repeated => "repeated",
    }
}

/// A message's name inside its package, e.g. `Outer.Inner`: what the reference registry compares named types by.
fn local_name(message: &MessageDescriptor) -> &str {
    let full = message.full_name();
    match message.package_name() {
        "" => full,
        package => full.strip_prefix(package).and_then(|rest| rest.strip_prefix('.')).unwrap_or(full),
    }
}

/// A message's fields by number, with the name of the real (not synthetic) oneof each belongs to.
struct Fields {
    by_number: BTreeMap<u32, FieldDescriptor>,
    oneof_of: HashMap<u32, String>,
    /// Real oneofs by name, with their field numbers, in declaration order.
    oneofs: Vec<(String, Vec<u32>)>,
}

impl Fields {
    fn of(message: &MessageDescriptor) -> Fields {
        let by_number = message.fields().map(|field| (field.number(), field)).collect();
        let mut oneof_of = HashMap::new();
        let mut oneofs = Vec::new();
        for oneof in message.oneofs().filter(|oneof| !oneof.is_synthetic()) {
            let numbers: Vec<u32> = oneof.fields().map(|field| field.number()).collect();
            for number in &numbers {
                oneof_of.insert(*number, oneof.name().to_string());
            }
            oneofs.push((oneof.name().to_string(), numbers));
        }
        Fields { by_number, oneof_of, oneofs }
    }

    fn has_oneof(&self, name: &str) -> bool {
        self.oneofs.iter().any(|(n, _)| n == name)
    }
}

impl Checker {
    fn report(&mut self, kind: ViolationKind, path: String, message: String) {
        self.violations.push(Violation { kind, path, message });
    }

    fn compare_files(&mut self, reader: &FileDescriptor, writer: &FileDescriptor) {
        if reader.package_name() != writer.package_name() {
            let shown = |p: &str| if p.is_empty() { "no package".to_string() } else { format!("package `{p}`") };
            self.report(
                ViolationKind::PackageChanged,
                reader.package_name().to_string(),
                format!(
                    "the package changed from {} to {}, which renames every type the file defines",
                    shown(writer.package_name()),
                    shown(reader.package_name())
                ),
            );
        }
        self.compare_messages(reader.messages(), writer.messages(), 0);
    }

    /// Pairs the messages declared at one level by name and compares each pair; map entries are not declared
    /// types in the source and are compared through the map fields that use them.
    fn compare_messages(
        &mut self,
        reader: impl Iterator<Item = MessageDescriptor>,
        writer: impl Iterator<Item = MessageDescriptor>,
        depth: usize,
    ) {
        let reader: HashMap<String, MessageDescriptor> =
            reader.filter(|m| !m.is_map_entry()).map(|m| (m.name().to_string(), m)).collect();
        for written in writer.filter(|m| !m.is_map_entry()) {
            match reader.get(written.name()) {
                Some(read) => self.compare_message(read, &written, depth + 1),
                None => self.report(
                    ViolationKind::MessageRemoved,
                    written.full_name().to_string(),
                    format!(
                        "message `{}` was removed: data written as that message has no type to be read as",
                        written.full_name()
                    ),
                ),
            }
        }
    }

    fn compare_message(&mut self, reader: &MessageDescriptor, writer: &MessageDescriptor, depth: usize) {
        if depth > MAX_DEPTH {
            self.report(
                ViolationKind::FieldNamedTypeChanged,
                reader.full_name().to_string(),
                format!("message `{}` nests deeper than {MAX_DEPTH} levels and was not compared", reader.full_name()),
            );
            return;
        }
        self.compare_fields(reader, writer, depth);
        self.compare_messages(reader.child_messages(), writer.child_messages(), depth);
    }

    fn compare_fields(&mut self, reader: &MessageDescriptor, writer: &MessageDescriptor, depth: usize) {
        let (r, w) = (Fields::of(reader), Fields::of(writer));
        let message_name = reader.full_name();

        // A writer oneof gone by name with none of its fields left anywhere was deleted whole: compatible.
        let deleted_oneofs: HashSet<&str> = w
            .oneofs
            .iter()
            .filter(|(name, numbers)| !r.has_oneof(name) && numbers.iter().all(|n| !r.by_number.contains_key(n)))
            .map(|(name, _)| name.as_str())
            .collect();

        // Fields that were independent in the writer and now share a reader oneof: setting one clears another.
        for (oneof, numbers) in &r.oneofs {
            let mut origins = BTreeSet::new();
            let mut moved_from_top = Vec::new();
            for number in numbers {
                if let Some(origin) = w.oneof_of.get(number) {
                    origins.insert(format!("the fields of oneof `{origin}`"));
                } else if let Some(field) = w.by_number.get(number) {
                    origins.insert(format!("field `{}` ({number})", field.name()));
                    moved_from_top.push(format!("`{}` ({number})", field.name()));
                }
            }
            if origins.len() < 2 {
                continue;
            }
            let path = format!("{message_name}.{oneof}");
            if moved_from_top.len() > 1 {
                self.report(
                    ViolationKind::MultipleFieldsMovedToOneof,
                    path,
                    format!(
                        "fields {} were independent in the writer but share oneof `{oneof}` in the reader, so data with more than one of them set cannot be read",
                        moved_from_top.join(", ")
                    ),
                );
            } else {
                self.report(
                    ViolationKind::FieldMovedToExistingOneof,
                    path,
                    format!(
                        "oneof `{oneof}` in the reader joins fields the writer could set together ({}), so data with more than one of them set cannot be read",
                        origins.into_iter().collect::<Vec<_>>().join(" and ")
                    ),
                );
            }
        }

        let numbers: BTreeSet<u32> = w.by_number.keys().chain(r.by_number.keys()).copied().collect();
        for number in numbers {
            match (w.by_number.get(&number), r.by_number.get(&number)) {
                (Some(written), None) => match w.oneof_of.get(&number) {
                    Some(oneof) if !deleted_oneofs.contains(oneof.as_str()) => self.report(
                        ViolationKind::OneofFieldRemoved,
                        format!("{}.{}", writer.full_name(), written.name()),
                        format!(
                            "field `{}` ({number}) of oneof `{oneof}` was removed while the oneof's other fields remain: data with it set would read as none of them set",
                            written.name()
                        ),
                    ),
                    Some(_) => {}
                    None if written.cardinality() == Cardinality::Required => self.report(
                        ViolationKind::RequiredFieldRemoved,
                        format!("{}.{}", writer.full_name(), written.name()),
                        format!(
                            "required field `{}` ({number}) was removed: a schema that still requires it rejects data written without it",
                            written.name()
                        ),
                    ),
                    None => {}
                },
                (None, Some(read)) => {
                    if !r.oneof_of.contains_key(&number) && read.cardinality() == Cardinality::Required {
                        self.report(
                            ViolationKind::RequiredFieldAdded,
                            format!("{message_name}.{}", read.name()),
                            format!(
                                "required field `{}` ({number}) was added: data written without it fails to parse",
                                read.name()
                            ),
                        );
                    }
                }
                (Some(written), Some(read)) => {
                    let path = format!("{message_name}.{}", read.name());
                    self.compare_field(read, written, &path, depth);
                }
                (None, None) => {}
            }
        }
    }

    fn compare_field(&mut self, reader: &FieldDescriptor, writer: &FieldDescriptor, path: &str, depth: usize) {
        let site = Site { path, number: reader.number() };
        self.compare_types(
            written_label(reader),
            written_label(writer),
            &FieldType::of(reader),
            &FieldType::of(writer),
            site,
            depth,
        );
    }

    fn compare_types(
        &mut self,
        reader_label: Option<Label>,
        writer_label: Option<Label>,
        reader: &FieldType,
        writer: &FieldType,
        site: Site<'_>,
        depth: usize,
    ) {
        if reader.shape() != writer.shape() {
            self.report(
                ViolationKind::FieldKindChanged,
                site.path.to_string(),
                format!(
                    "{} changed from {} to {}: {}",
                    site,
                    writer.describe(),
                    reader.describe(),
                    "scalars, messages and maps are encoded differently"
                ),
            );
            return;
        }
        match (reader, writer) {
            (FieldType::Scalar(r), FieldType::Scalar(w)) => {
                let (Some(rg), Some(wg)) = (ScalarGroup::of(r), ScalarGroup::of(w)) else {
                    return;
                };
                if rg != wg {
                    let reason = if rg.wire_type() != wg.wire_type() {
                        "the wire types differ".to_string()
                    } else {
                        format!("both are {} on the wire but encode values differently", rg.wire_type())
                    };
                    self.report(
                        ViolationKind::FieldScalarKindChanged,
                        site.path.to_string(),
                        format!("{} changed from {} to {}: {reason}", site, writer.describe(), reader.describe()),
                    );
                    return;
                }
                if let (Some(rl), Some(wl)) = (reader_label, writer_label)
                    && rl != wl
                    && rg.is_numeric()
                {
                    let reason = if rl == Label::Repeated || wl == Label::Repeated {
                        "repeated numbers may be packed on the wire, single ones are not"
                    } else {
                        "a required field must be in every message, an optional one need not be"
                    };
                    self.report(
                        ViolationKind::FieldNumericLabelChanged,
                        site.path.to_string(),
                        format!("{} changed from {} to {}: {reason}", site, label_name(wl), label_name(rl)),
                    );
                }
            }
            (FieldType::Message(r), FieldType::Message(w)) => self.compare_named(r, w, site, depth),
            (FieldType::Map(rk, rv), FieldType::Map(wk, wv)) => {
                self.compare_types(None, None, rk, wk, site, depth);
                self.compare_types(None, None, rv, wv, site, depth);
            }
            _ => {}
        }
    }

    /// A field's message type: the same name inside its package, and, when either side comes from an import,
    /// a compatible definition.
    fn compare_named(&mut self, reader: &MessageDescriptor, writer: &MessageDescriptor, site: Site<'_>, depth: usize) {
        if local_name(reader) != local_name(writer) {
            self.report(
                ViolationKind::FieldNamedTypeChanged,
                site.path.to_string(),
                format!(
                    "{} changed from message {} to message {}: a different type",
                    site,
                    writer.full_name(),
                    reader.full_name()
                ),
            );
            return;
        }
        // Types declared in both root files are compared by the walk over the files' declarations.
        if reader.parent_file().name() == self.reader_root && writer.parent_file().name() == self.writer_root {
            return;
        }
        let key = (writer.full_name().to_string(), reader.full_name().to_string());
        let compatible = match self.compared.get(&key) {
            Some(Some(compatible)) => *compatible,
            // In progress higher up: a type that contains itself meets itself here and is assumed to match.
            Some(None) => true,
            None => {
                self.compared.insert(key.clone(), None);
                let before = self.violations.len();
                self.compare_message(reader, writer, depth + 1);
                let compatible = self.violations.len() == before;
                self.compared.insert(key, Some(compatible));
                compatible
            }
        };
        if !compatible {
            self.report(
                ViolationKind::FieldNamedTypeChanged,
                site.path.to_string(),
                format!(
                    "{} has type {}, whose definition changed incompatibly between the imported schemas",
                    site,
                    reader.full_name()
                ),
            );
        }
    }
}

/// Where a field comparison happens, for paths and messages.
#[derive(Clone, Copy)]
struct Site<'a> {
    path: &'a str,
    number: u32,
}

impl std::fmt::Display for Site<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}` ({})", self.path, self.number)
    }
}
