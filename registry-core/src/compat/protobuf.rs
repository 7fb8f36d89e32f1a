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

pub(super) fn can_read(reader: &ProtobufSchema, writer: &ProtobufSchema) -> Vec<Violation> {
    let mut checker = Checker {
        reader_root: reader.file().name().to_string(),
        writer_root: writer.file().name().to_string(),
        pairs: Vec::new(),
        index: HashMap::new(),
        uses: Vec::new(),
        violations: Vec::new(),
    };
    checker.compare_files(reader.file(), writer.file());
    checker.finish()
}

/// The comparison is a worklist over message pairs, not a recursion: nesting and message cycles cannot grow the
/// stack, and each (writer, reader) pair is compared once however many fields use it.
struct Checker {
    reader_root: String,
    writer_root: String,
    /// Every pair met so far, in the order compared.
    pairs: Vec<Pair>,
    /// Pair ids by (writer full name, reader full name).
    index: HashMap<(String, String), usize>,
    /// Fields whose message type needs its definitions compared: a violation if that pair is incompatible.
    uses: Vec<NamedUse>,
    violations: Vec<Violation>,
}

/// A writer message and the reader message it is read as.
struct Pair {
    reader: MessageDescriptor,
    writer: MessageDescriptor,
    /// Whether comparing the pair itself found a violation.
    direct: bool,
    /// Pairs whose compatibility this one's depends on: nested messages, and types of fields that need comparing.
    depends_on: Vec<usize>,
}

/// A field whose message type comes from an import on either side.
struct NamedUse {
    pair: usize,
    path: String,
    number: u32,
    type_name: String,
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
        self.compare_messages(reader.messages(), writer.messages());
    }

    /// Pairs the messages declared at one level by name, queueing each pair; map entries are not declared
    /// types in the source and are compared through the map fields that use them.
    fn compare_messages(
        &mut self,
        reader: impl Iterator<Item = MessageDescriptor>,
        writer: impl Iterator<Item = MessageDescriptor>,
    ) -> Vec<usize> {
        let reader: HashMap<String, MessageDescriptor> =
            reader.filter(|m| !m.is_map_entry()).map(|m| (m.name().to_string(), m)).collect();
        let mut pairs = Vec::new();
        for written in writer.filter(|m| !m.is_map_entry()) {
            match reader.get(written.name()) {
                Some(read) => pairs.push(self.pair(read, &written)),
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
        pairs
    }

    /// The id of a pair, queued for comparison when new.
    fn pair(&mut self, reader: &MessageDescriptor, writer: &MessageDescriptor) -> usize {
        let key = (writer.full_name().to_string(), reader.full_name().to_string());
        if let Some(id) = self.index.get(&key) {
            return *id;
        }
        let id = self.pairs.len();
        self.pairs.push(Pair { reader: reader.clone(), writer: writer.clone(), direct: false, depends_on: Vec::new() });
        self.index.insert(key, id);
        id
    }

    /// Compares queued pairs until none is left, then reports the fields whose imported types turned out
    /// incompatible, directly or through the types they use.
    fn finish(mut self) -> Vec<Violation> {
        let mut next = 0;
        while next < self.pairs.len() {
            let (reader, writer) = (self.pairs[next].reader.clone(), self.pairs[next].writer.clone());
            let before = self.violations.len();
            let mut depends_on = self.compare_fields(&reader, &writer);
            depends_on.extend(self.compare_messages(reader.child_messages(), writer.child_messages()));
            let pair = &mut self.pairs[next];
            pair.direct = self.violations.len() > before;
            pair.depends_on = depends_on;
            next += 1;
        }
        // A pair is incompatible when it, or a pair it depends on, is: walk the dependencies backwards.
        let mut dependents = vec![Vec::new(); self.pairs.len()];
        for (id, pair) in self.pairs.iter().enumerate() {
            for &on in &pair.depends_on {
                dependents[on].push(id);
            }
        }
        let mut incompatible: Vec<bool> = self.pairs.iter().map(|pair| pair.direct).collect();
        let mut stack: Vec<usize> = (0..self.pairs.len()).filter(|&id| incompatible[id]).collect();
        while let Some(id) = stack.pop() {
            for &dependent in &dependents[id] {
                if !incompatible[dependent] {
                    incompatible[dependent] = true;
                    stack.push(dependent);
                }
            }
        }
        for named in std::mem::take(&mut self.uses) {
            if incompatible[named.pair] {
                let site = Site { path: &named.path, number: named.number };
                self.report(
                    ViolationKind::FieldNamedTypeChanged,
                    named.path.clone(),
                    format!(
                        "{site} has type {}, whose definition changed incompatibly between the imported schemas",
                        named.type_name
                    ),
                );
            }
        }
        self.violations
    }

    /// Compares the fields of one pair; returns the pairs of imported field types it depends on.
    fn compare_fields(&mut self, reader: &MessageDescriptor, writer: &MessageDescriptor) -> Vec<usize> {
        let mut depends_on = Vec::new();
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
                    let site = Site { path: &path, number: read.number() };
                    let (rt, wt) = (FieldType::of(read), FieldType::of(written));
                    self.compare_types(written_label(read), written_label(written), &rt, &wt, site, &mut depends_on);
                }
                (None, None) => {}
            }
        }
        depends_on
    }

    fn compare_types(
        &mut self,
        reader_label: Option<Label>,
        writer_label: Option<Label>,
        reader: &FieldType,
        writer: &FieldType,
        site: Site<'_>,
        depends_on: &mut Vec<usize>,
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
            (FieldType::Message(r), FieldType::Message(w)) => self.compare_named(r, w, site, depends_on),
            (FieldType::Map(rk, rv), FieldType::Map(wk, wv)) => {
                self.compare_types(None, None, rk, wk, site, depends_on);
                self.compare_types(None, None, rv, wv, site, depends_on);
            }
            _ => {}
        }
    }

    /// A field's message type: the same name inside its package, and, when either side comes from an import,
    /// a compatible definition.
    fn compare_named(
        &mut self,
        reader: &MessageDescriptor,
        writer: &MessageDescriptor,
        site: Site<'_>,
        depends_on: &mut Vec<usize>,
    ) {
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
        let pair = self.pair(reader, writer);
        depends_on.push(pair);
        self.uses.push(NamedUse {
            pair,
            path: site.path.to_string(),
            number: site.number,
            type_name: reader.full_name().to_string(),
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::FormatSchema;
    use crate::{Limits, ResolveError, SchemaReference, SchemaType, Subject, UnparsedSchema, Version, parse};

    /// Parses `root` importing `dependency` as `dep.proto` (when given).
    fn schema(root: &str, dependency: Option<&str>) -> ProtobufSchema {
        let mut unparsed = UnparsedSchema::new(SchemaType::Protobuf, root);
        if dependency.is_some() {
            unparsed = unparsed.with_references(vec![SchemaReference {
                name: "dep.proto".into(),
                subject: Subject::new("dep").expect("valid subject"),
                version: Version::FIRST,
            }]);
        }
        let resolver = |reference: &SchemaReference| match dependency {
            Some(text) => Ok(UnparsedSchema::new(SchemaType::Protobuf, text)),
            None => Err(ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version }),
        };
        let parsed = parse(&unparsed, &resolver, &Limits::default()).expect("test schema parses");
        match parsed.kind() {
            FormatSchema::Protobuf(p) => (**p).clone(),
            _ => unreachable!("parsed as protobuf"),
        }
    }

    fn kinds(violations: &[Violation]) -> Vec<&'static str> {
        violations.iter().map(|v| v.kind.as_str()).collect()
    }

    const ROOT: &str =
        "syntax = \"proto3\";\nimport \"dep.proto\";\nmessage M {\n  dep.Node a = 1;\n  dep.Node b = 2;\n}\n";

    #[test]
    fn recursive_imported_types_are_compared_once_and_terminate() {
        let old = "syntax = \"proto3\";\npackage dep;\nmessage Node {\n  Node next = 1;\n  Leaf leaf = 2;\n}\nmessage Leaf {\n  Node up = 1;\n  int32 v = 2;\n}\n";
        let new = old.replace("int32 v", "string v");
        let violations = can_read(&schema(ROOT, Some(&new)), &schema(ROOT, Some(old)));
        // Leaf.v once, however many fields lead to Leaf; then every field whose type now reads differently.
        let paths: Vec<(&str, &str)> = violations.iter().map(|v| (v.kind.as_str(), v.path.as_str())).collect();
        assert_eq!(
            paths,
            [
                ("FIELD_SCALAR_KIND_CHANGED", "dep.Leaf.v"),
                ("FIELD_NAMED_TYPE_CHANGED", "M.a"),
                ("FIELD_NAMED_TYPE_CHANGED", "M.b"),
                ("FIELD_NAMED_TYPE_CHANGED", "dep.Node.next"),
                ("FIELD_NAMED_TYPE_CHANGED", "dep.Node.leaf"),
                ("FIELD_NAMED_TYPE_CHANGED", "dep.Leaf.up"),
            ],
            "{violations:#?}"
        );
        assert!(can_read(&schema(ROOT, Some(old)), &schema(ROOT, Some(old))).is_empty());
    }

    #[test]
    fn imported_type_with_a_compatible_change_is_compatible() {
        let old = "syntax = \"proto3\";\npackage dep;\nmessage Node {\n  int32 v = 1;\n}\n";
        let new = "syntax = \"proto3\";\npackage dep;\nmessage Node {\n  int64 v = 1;\n  string s = 2;\n}\n";
        assert!(can_read(&schema(ROOT, Some(new)), &schema(ROOT, Some(old))).is_empty());
    }

    #[test]
    fn deep_nesting_is_walked_without_overflow() {
        let depth = 30;
        let nested = |scalar: &str| {
            let mut text = String::from("syntax = \"proto3\";\n");
            for i in 0..depth {
                text.push_str(&format!("message N{i} {{\n"));
            }
            text.push_str(&format!("{scalar} v = 1;\n"));
            for _ in 0..depth {
                text.push_str("}\n");
            }
            text
        };
        let violations = can_read(&schema(&nested("string"), None), &schema(&nested("int32"), None));
        assert_eq!(kinds(&violations), ["FIELD_SCALAR_KIND_CHANGED"]);
        assert!(violations[0].path.ends_with(".N29.v"), "{}", violations[0].path);
    }

    #[test]
    fn a_long_chain_of_imported_types_is_compared_without_recursion() {
        let chain = |scalar: &str| {
            let mut text = String::from("syntax = \"proto3\";\npackage dep;\nmessage Node {\n  T0 t = 1;\n}\n");
            for i in 0..5000 {
                text.push_str(&format!("message T{i} {{\n  T{} next = 1;\n}}\n", i + 1));
            }
            text.push_str(&format!("message T5000 {{\n  {scalar} v = 1;\n}}\n"));
            text
        };
        let (old, new) = (schema(ROOT, Some(&chain("int32"))), schema(ROOT, Some(&chain("string"))));
        let violations = can_read(&new, &old);
        assert_eq!(violations[0].path, "dep.T5000.v");
        // T0..T4999 `next`, Node.t, M.a and M.b all lead to the change.
        assert_eq!(violations.len(), 1 + 5000 + 3);
        assert!(can_read(&old, &old).is_empty());
    }

    #[test]
    fn violation_message_names_field_number_and_types() {
        let old = "syntax = \"proto3\";\npackage orders;\nmessage Order {\n  int64 amount = 5;\n}\n";
        let new = old.replace("int64", "string");
        let violations = can_read(&schema(&new, None), &schema(old, None));
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].path, "orders.Order.amount");
        assert_eq!(
            violations[0].message,
            "field `orders.Order.amount` (5) changed from int64 to string: the wire types differ"
        );
    }
}
