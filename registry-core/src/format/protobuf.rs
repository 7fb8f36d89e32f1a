//! Protobuf: `.proto` text or a base64-encoded `FileDescriptorProto` (as the Confluent serializers send it),
//! compiled with `protox`; imports resolve to references by name, the files Confluent knows without one
//! (`google/protobuf/*.proto`, `google/type/*.proto`, `confluent/meta.proto`, `confluent/type/*.proto`) without
//! them.
//! Canonical form: the encoded descriptor with source info, file name and default JSON names removed, its fields
//! and imports in the order Confluent's printing writes them, then every element's custom options, so the same
//! schema sent as text or as a descriptor has one identity, and another option value is another schema. The text
//! stored is Confluent's printing of the file ([`super::proto_print`]) where it compiles back to that form.

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine;
use prost::Message;
use prost_reflect::{DescriptorPool, FileDescriptor};
use prost_types::{FieldDescriptorProto, FileDescriptorProto};
use protox::file::{File, FileResolver, GoogleFileResolver};

use super::proto_text::default_json_name;
use super::{Syntax, check_depth};
use crate::{Limits, ResolvedReference, SchemaError, SchemaType};

/// The file name the root schema is compiled under when it does not carry one.
const ROOT_FILE: &str = "schema-registry-root.proto";

/// A compiled Protobuf file with its imports.
#[derive(Debug, Clone)]
pub struct ProtobufSchema {
    file: FileDescriptor,
}

impl ProtobufSchema {
    /// The compiled file; its pool holds every import.
    pub fn file(&self) -> &FileDescriptor {
        &self.file
    }

    /// The pool of every file this schema sees.
    pub fn pool(&self) -> &DescriptorPool {
        self.file.parent_pool()
    }
}

/// Parses `text` (`.proto` source or a base64 `FileDescriptorProto`) with `references` importable by name;
/// returns it with its canonical form ([`canonical_form`]) and the text to store ([`stored_text`]).
///
/// Source info (where each element is in the text) is three fifths of a compiled pool's memory (40 MiB of a
/// 1 MiB message's 100 MiB) and is read only to say where an error is: a schema is compiled without it, and only
/// one that fails to compile is compiled again with it, for its message.
pub(crate) fn parse(
    text: &str,
    references: &[ResolvedReference],
    limits: &Limits,
    normalize: bool,
) -> Result<(ProtobufSchema, Vec<u8>, String), SchemaError> {
    let (files, root_name) = load_all(text, references, limits, Positions::Dropped)?;
    // The root file as read, before it is compiled: a printing of it that reads the same is the same schema.
    let read = files.get(&root_name).map(|root| root.file_descriptor_proto().clone());
    let file = match compile(files, &root_name) {
        Ok(file) => file,
        Err(_) => {
            let (files, root_name) = load_all(text, references, limits, Positions::Kept)?;
            compile(files, &root_name).map_err(|e| SchemaError::invalid(SchemaType::Protobuf, describe(&e)))?
        }
    };
    let canonical = canonical_form(&file, normalize);
    let stored = stored_text(text, references, limits, normalize, &canonical, &file, read.as_ref());
    Ok((ProtobufSchema { file }, canonical, stored))
}

/// The encoded canonical descriptor of a compiled file, then its custom options ([`custom_options`]).
fn canonical_form(file: &FileDescriptor, normalize: bool) -> Vec<u8> {
    let mut canonical = canonical_descriptor(file.file_descriptor_proto());
    if normalize {
        normalize_order(&mut canonical);
    }
    let mut bytes = canonical.encode_to_vec();
    bytes.extend(custom_options(file));
    bytes
}

/// `message` as bytes that are the same for the same value however it was built: fields and extensions by number,
/// a map's entries by key (a `DynamicMessage` encodes a map in its hash order, which differs from one instance to
/// the next). Each item carries its kind and length, so no two values share an encoding.
fn encode_canonically(message: &prost_reflect::DynamicMessage, out: &mut Vec<u8>) {
    use prost_reflect::Value;
    fn value(v: &Value, out: &mut Vec<u8>) {
        let mut item = |kind: u8, bytes: &[u8]| {
            out.push(kind);
            out.extend((bytes.len() as u64).to_le_bytes());
            out.extend(bytes);
        };
        match v {
            Value::Bool(b) => item(0, &[u8::from(*b)]),
            Value::I32(n) | Value::EnumNumber(n) => item(1, &n.to_le_bytes()),
            Value::I64(n) => item(2, &n.to_le_bytes()),
            Value::U32(n) => item(3, &n.to_le_bytes()),
            Value::U64(n) => item(4, &n.to_le_bytes()),
            Value::F32(f) => item(5, &f.to_bits().to_le_bytes()),
            Value::F64(f) => item(6, &f.to_bits().to_le_bytes()),
            Value::String(s) => item(7, s.as_bytes()),
            Value::Bytes(b) => item(8, b),
            Value::Message(m) => {
                let mut inner = Vec::new();
                encode_canonically(m, &mut inner);
                item(9, &inner);
            }
            Value::List(list) => {
                let mut inner = Vec::new();
                list.iter().for_each(|v| value(v, &mut inner));
                item(10, &inner);
            }
            Value::Map(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut inner = Vec::new();
                for (key, v) in entries {
                    value(&key.clone().into(), &mut inner);
                    value(v, &mut inner);
                }
                item(11, &inner);
            }
        }
    }
    let mut fields: Vec<(u32, &Value)> = message.fields().map(|(f, v)| (f.number(), v)).collect();
    fields.extend(message.extensions().map(|(e, v)| (e.number(), v)));
    fields.sort_by_key(|(number, _)| *number);
    for (number, v) in fields {
        out.extend(number.to_le_bytes());
        value(v, out);
    }
}

/// The options of every element of `file` that sets a custom option (an extension: Confluent's
/// `confluent.field_meta` tags among them), each encoded after its element's full name, in name order; empty
/// when none does. The descriptor's own options keep only the standard ones, and two schemas that differ in a
/// tag are two schemas.
fn custom_options(file: &FileDescriptor) -> Vec<u8> {
    fn add(out: &mut Vec<(String, Vec<u8>)>, name: &str, options: prost_reflect::DynamicMessage) {
        if options.extensions().next().is_some() {
            let mut bytes = Vec::new();
            encode_canonically(&options, &mut bytes);
            out.push((name.to_string(), bytes));
        }
    }
    fn message(out: &mut Vec<(String, Vec<u8>)>, m: &prost_reflect::MessageDescriptor) {
        add(out, m.full_name(), m.options());
        for field in m.fields() {
            add(out, field.full_name(), field.options());
        }
        for oneof in m.oneofs() {
            add(out, oneof.full_name(), oneof.options());
        }
        for extension in m.child_extensions() {
            add(out, extension.full_name(), extension.options());
        }
        for nested in m.child_messages() {
            message(out, &nested);
        }
        for e in m.child_enums() {
            enumeration(out, &e);
        }
    }
    fn enumeration(out: &mut Vec<(String, Vec<u8>)>, e: &prost_reflect::EnumDescriptor) {
        add(out, e.full_name(), e.options());
        for value in e.values() {
            add(out, value.full_name(), value.options());
        }
    }
    let mut found = Vec::new();
    add(&mut found, "", file.options());
    for m in file.messages() {
        message(&mut found, &m);
    }
    for e in file.enums() {
        enumeration(&mut found, &e);
    }
    for extension in file.extensions() {
        add(&mut found, extension.full_name(), extension.options());
    }
    for service in file.services() {
        add(&mut found, service.full_name(), service.options());
        for method in service.methods() {
            add(&mut found, method.full_name(), method.options());
        }
    }
    found.sort();
    let mut out = Vec::new();
    for (name, options) in found {
        for part in [name.as_bytes(), options.as_slice()] {
            out.extend((part.len() as u64).to_le_bytes());
            out.extend(part);
        }
    }
    out
}

/// The text to store for `text`: Confluent's printing of it (of the file a base64 descriptor describes; of
/// source, normalized when asked, as Confluent's `normalize` prints it, else or failing that its plain printing)
/// if that compiles to `canonical` (a text already in that form is taken without compiling it again, and so is
/// one that reads as the same file as `read`, the root file `text` was read as: with the same imports it compiles
/// to the same descriptor); else `text` as given. The check keeps a stored text readable as the schema that was
/// accepted, whatever the printing does with a construct it writes differently.
fn stored_text(
    text: &str,
    references: &[ResolvedReference],
    limits: &Limits,
    normalize: bool,
    canonical: &[u8],
    file: &FileDescriptor,
    read: Option<&FileDescriptorProto>,
) -> String {
    // A printing longer than the size limit would be a stored text the same schema could not be sent as again.
    let compiles_to_canonical = |printed: &str| {
        printed == text
            || (printed.len() <= limits.max_schema_bytes
                && (read.is_some_and(|read| reads_as(printed, read, limits))
                    || load_all(printed, references, limits, Positions::Dropped)
                        .ok()
                        .and_then(|(files, root_name)| compile(files, &root_name).ok())
                        .is_some_and(|file| canonical_form(&file, normalize) == canonical)))
    };
    if as_base64(text).is_some() {
        return match super::proto_print::print_descriptor(file) {
            Some(printed) if compiles_to_canonical(&printed) => printed,
            _ => text.to_string(),
        };
    }
    let normalized = if normalize {
        super::proto_print::print_normalized(text, file.parent_pool(), file.package_name())
    } else {
        None
    };
    if let Some(printed) = normalized.filter(|printed| compiles_to_canonical(printed)) {
        return printed;
    }
    match super::proto_print::print(text) {
        Some(printed) if compiles_to_canonical(&printed) => printed,
        _ => text.to_string(),
    }
}

/// Whether `printed` reads (before compiling) as the root file `read`: with the same imports it then compiles to
/// the same descriptor, so it need not be compiled to be checked.
fn reads_as(printed: &str, read: &FileDescriptorProto, limits: &Limits) -> bool {
    load_file(ROOT_FILE, printed, limits, Positions::Dropped).is_ok_and(|file| file.file_descriptor_proto() == read)
}

/// Whether `.proto` source keeps its source info (the positions of its elements) when it is loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Positions {
    Kept,
    Dropped,
}

/// The schema's files by name, the root's included, and the root's name.
fn load_all(
    text: &str,
    references: &[ResolvedReference],
    limits: &Limits,
    positions: Positions,
) -> Result<(HashMap<String, File>, String), SchemaError> {
    let mut files = HashMap::with_capacity(references.len() + 1);
    for reference in references {
        let file = load_file(&reference.name, &reference.schema.text, limits, positions)
            .map_err(|e| SchemaError::InvalidReference { name: reference.name.clone(), reason: e.to_string() })?;
        files.insert(reference.name.clone(), file);
    }
    let mut root = load_file(ROOT_FILE, text, limits, positions)?;
    let root_name = match root.name() {
        name if !name.is_empty() && !files.contains_key(name) => name.to_string(),
        _ => {
            root = rename(root, ROOT_FILE);
            ROOT_FILE.to_string()
        }
    };
    files.insert(root_name.clone(), root);
    check_extension_numbers(&files)?;
    Ok((files, root_name))
}

/// Refuses an extension number declared twice for one message across the schema's files (the message told by
/// its simple name, as the files name it before they are compiled). The compiler's option resolution panics on
/// such a pair when an option sets one of them, and its panic message never ends (it prints a recursive type).
fn check_extension_numbers(files: &HashMap<String, File>) -> Result<(), SchemaError> {
    fn collect<'a>(
        extensions: &'a [FieldDescriptorProto],
        messages: &'a [prost_types::DescriptorProto],
        seen: &mut HashMap<(&'a str, i32), &'a str>,
    ) -> Result<(), SchemaError> {
        for extension in extensions {
            let target = extension.extendee().rsplit('.').next().unwrap_or_default();
            if let Some(first) = seen.insert((target, extension.number()), extension.name()) {
                return Err(SchemaError::invalid(
                    SchemaType::Protobuf,
                    format!(
                        "extension number {} of {target} is declared twice, by '{first}' and '{}'",
                        extension.number(),
                        extension.name()
                    ),
                ));
            }
        }
        for message in messages {
            collect(&message.extension, &message.nested_type, seen)?;
        }
        Ok(())
    }
    let mut seen = HashMap::new();
    for file in files.values() {
        let descriptor = file.file_descriptor_proto();
        collect(&descriptor.extension, &descriptor.message_type, &mut seen)?;
    }
    Ok(())
}

/// Compiles `files` and returns the root's descriptor, its pool holding every import.
fn compile(files: HashMap<String, File>, root_name: &str) -> Result<FileDescriptor, protox::Error> {
    let mut compiler =
        protox::Compiler::with_file_resolver(Files { files: RefCell::new(files), google: GoogleFileResolver::new() });
    compiler.include_source_info(false);
    compiler.open_file(root_name)?;
    let pool = compiler.descriptor_pool();
    // Only if protox lost the file it just compiled: no position to give.
    pool.get_file_by_name(root_name).ok_or_else(|| protox::Error::file_not_found(root_name))
}

/// Reads one file: a base64 descriptor when the text is one, `.proto` source otherwise.
fn load_file(name: &str, text: &str, limits: &Limits, positions: Positions) -> Result<File, SchemaError> {
    if let Some(file) = as_base64(text).and_then(|bytes| File::decode_file_descriptor_proto(bytes.as_slice()).ok()) {
        // prost-reflect panics on any other syntax (building its error, it indexes the file it has not added yet).
        return match file.file_descriptor_proto().syntax.as_deref() {
            None | Some("proto2" | "proto3") => Ok(file),
            Some(syntax) => Err(SchemaError::invalid(
                SchemaType::Protobuf,
                format!("unsupported syntax '{syntax}' in the descriptor: use proto2 or proto3"),
            )),
        };
    }
    check_depth(text, Syntax::Proto, limits)?;
    let file = File::from_source(name, text).map_err(|e| SchemaError::invalid(SchemaType::Protobuf, describe(&e)))?;
    if positions == Positions::Kept {
        return Ok(file);
    }
    let mut descriptor = FileDescriptorProto::from(file);
    descriptor.source_code_info = None;
    Ok(File::from_file_descriptor_proto(descriptor))
}

/// Whether a Protobuf schema's text is a base64 `FileDescriptorProto` (as Confluent's serializers send it) rather
/// than `.proto` source: the same test the parser makes, so a text it compiled as a descriptor is one here. Such a
/// schema is answered as source ([`crate::ParsedSchema::protobuf_source`]).
pub fn is_serialized_descriptor(text: &str) -> bool {
    as_base64(text).is_some_and(|bytes| FileDescriptorProto::decode(bytes.as_slice()).is_ok())
}

/// The bytes of `text` if it is plausibly a base64 descriptor: no whitespace inside, base64 alphabet only.
fn as_base64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=-_".contains(&b)) {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(trimmed))
        .ok()
}

fn rename(file: File, name: &str) -> File {
    let mut descriptor = file.file_descriptor_proto().clone();
    descriptor.name = Some(name.to_string());
    File::from_file_descriptor_proto(descriptor)
}

fn describe(error: &protox::Error) -> String {
    // protox's Debug form is protoc's `file:line:column: message`; its Display drops the position.
    let text = format!("{error:?}");
    let Some(rest) = text.strip_prefix(ROOT_FILE).and_then(|rest| rest.strip_prefix(':')) else {
        return text.replace(ROOT_FILE, "the schema");
    };
    let mut parts = rest.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(line), Some(column), Some(message)) if line.parse::<u32>().is_ok() && column.parse::<u32>().is_ok() => {
            format!("{} at line {line} column {column}", message.trim())
        }
        _ => rest.trim().replace(ROOT_FILE, "the schema"),
    }
}

fn canonical_descriptor(descriptor: &FileDescriptorProto) -> FileDescriptorProto {
    let mut d = descriptor.clone();
    d.name = None;
    d.source_code_info = None;
    if d.syntax.as_deref() == Some("proto2") {
        d.syntax = None;
    }
    order_imports_as_printed(&mut d);
    for message in &mut d.message_type {
        clear_default_json_names(message);
        order_fields_as_printed(message);
    }
    d
}

/// Imports in the order Confluent's printing writes them: plain ones, then public ones (then weak ones, which it
/// leaves out), each kind in declaration order.
fn order_imports_as_printed(file: &mut FileDescriptorProto) {
    let kind = |i: usize| {
        let i = i as i32;
        if file.public_dependency.contains(&i) {
            1
        } else if file.weak_dependency.contains(&i) {
            2
        } else {
            0
        }
    };
    let mut order: Vec<usize> = (0..file.dependency.len()).collect();
    order.sort_by_key(|&i| kind(i));
    if order.iter().enumerate().all(|(at, &i)| at == i) {
        return;
    }
    let position = |old: &i32| order.iter().position(|&i| i as i32 == *old).map_or(*old, |at| at as i32);
    file.public_dependency = file.public_dependency.iter().map(position).collect();
    file.weak_dependency = file.weak_dependency.iter().map(position).collect();
    file.public_dependency.sort_unstable();
    file.weak_dependency.sort_unstable();
    file.dependency = order.iter().map(|&i| file.dependency[i].clone()).collect();
}

/// A message's fields in the order Confluent's printing writes them, which is the order its identity sees: plain
/// fields, then each oneof's (in the oneofs' order), then groups; each kind in declaration order. A oneof declared
/// among the plain fields is the same schema as one declared after them, there and here.
fn order_fields_as_printed(message: &mut prost_types::DescriptorProto) {
    use prost_types::field_descriptor_proto::Type;
    let rank = |field: &FieldDescriptorProto| {
        let group = field.r#type() == Type::Group;
        match field.oneof_index.filter(|_| !field.proto3_optional()) {
            None if !group => (0, 0, 0),
            Some(oneof) => (1, oneof, i32::from(group)),
            None => (2, 0, 0),
        }
    };
    message.field.sort_by_key(rank);
    for nested in &mut message.nested_type {
        order_fields_as_printed(nested);
    }
}

/// What Confluent's `normalize` makes of a file, on its descriptor: imports sorted and each kept once (weak ones
/// dropped), fields and extensions by number, oneofs by their lowest field number (empty ones dropped), enum
/// values by number then name, reserved ranges and names and extension ranges sorted. Messages, enums and
/// services keep their order: message indexes in the wire format depend on it.
fn normalize_order(file: &mut FileDescriptorProto) {
    let public: Vec<String> =
        file.public_dependency.iter().filter_map(|i| file.dependency.get(*i as usize).cloned()).collect();
    file.dependency.sort();
    file.dependency.dedup();
    file.weak_dependency.clear();
    let mut public: Vec<i32> =
        public.iter().filter_map(|name| file.dependency.iter().position(|d| d == name).map(|i| i as i32)).collect();
    public.sort_unstable();
    public.dedup();
    file.public_dependency = public;
    file.extension.sort_by_key(|f| f.number());
    file.message_type.iter_mut().for_each(normalize_message);
    file.enum_type.iter_mut().for_each(normalize_enum);
}

fn normalize_message(message: &mut prost_types::DescriptorProto) {
    // Oneofs by their lowest field number, empty ones dropped; each field's index follows its oneof.
    let lowest =
        |index: usize| message.field.iter().filter(|f| f.oneof_index == Some(index as i32)).map(|f| f.number()).min();
    let mut oneofs: Vec<(i32, usize)> =
        (0..message.oneof_decl.len()).filter_map(|i| lowest(i).map(|low| (low, i))).collect();
    oneofs.sort_unstable();
    let renumber: HashMap<i32, i32> =
        oneofs.iter().enumerate().map(|(new, (_, old))| (*old as i32, new as i32)).collect();
    let decls = std::mem::take(&mut message.oneof_decl);
    message.oneof_decl = oneofs.iter().filter_map(|(_, old)| decls.get(*old).cloned()).collect();
    for field in &mut message.field {
        field.oneof_index = field.oneof_index.and_then(|old| renumber.get(&old).copied());
    }
    message.field.sort_by_key(|f| f.number());
    message.extension.sort_by_key(|f| f.number());
    message.reserved_range.sort_by_key(|r| (r.start(), r.end()));
    message.reserved_name.sort();
    message.extension_range.sort_by_key(|r| (r.start(), r.end()));
    message.nested_type.iter_mut().for_each(normalize_message);
    message.enum_type.iter_mut().for_each(normalize_enum);
}

fn normalize_enum(enumeration: &mut prost_types::EnumDescriptorProto) {
    enumeration.value.sort_by(|a, b| a.number().cmp(&b.number()).then_with(|| a.name().cmp(b.name())));
    enumeration.reserved_range.sort_by_key(|r| (r.start(), r.end()));
    enumeration.reserved_name.sort();
}

fn clear_default_json_names(message: &mut prost_types::DescriptorProto) {
    for field in message.field.iter_mut().chain(message.extension.iter_mut()) {
        if field.json_name.as_deref() == Some(default_json_name(field.name()).as_str()) {
            field.json_name = None;
        }
    }
    for nested in &mut message.nested_type {
        clear_default_json_names(nested);
    }
}

/// The schema's files by name, each handed over (not copied) the one time the compiler opens it: protox opens
/// a file once and keeps what it compiled from it.
struct Files {
    files: RefCell<HashMap<String, File>>,
    google: GoogleFileResolver,
}

impl FileResolver for Files {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if let Some(file) = self.files.borrow_mut().remove(name) {
            return Ok(file);
        }
        match KNOWN_FILES.iter().find(|(known, _)| *known == name) {
            Some((_, source)) => File::from_source(name, source),
            None => self.google.open_file(name),
        }
    }
}

/// The files Confluent's registry and clients know without a reference, beyond `google/protobuf/*.proto`:
/// Confluent's metadata options and types, and Google's common types. A reference of the same name wins.
const KNOWN_FILES: &[(&str, &str)] = &[
    ("confluent/meta.proto", include_str!("known/confluent/meta.proto")),
    ("confluent/type/decimal.proto", include_str!("known/confluent/type/decimal.proto")),
    ("confluent/type/variant.proto", include_str!("known/confluent/type/variant.proto")),
    ("google/type/calendar_period.proto", include_str!("known/google/type/calendar_period.proto")),
    ("google/type/color.proto", include_str!("known/google/type/color.proto")),
    ("google/type/date.proto", include_str!("known/google/type/date.proto")),
    ("google/type/datetime.proto", include_str!("known/google/type/datetime.proto")),
    ("google/type/dayofweek.proto", include_str!("known/google/type/dayofweek.proto")),
    ("google/type/decimal.proto", include_str!("known/google/type/decimal.proto")),
    ("google/type/expr.proto", include_str!("known/google/type/expr.proto")),
    ("google/type/fraction.proto", include_str!("known/google/type/fraction.proto")),
    ("google/type/interval.proto", include_str!("known/google/type/interval.proto")),
    ("google/type/latlng.proto", include_str!("known/google/type/latlng.proto")),
    ("google/type/money.proto", include_str!("known/google/type/money.proto")),
    ("google/type/month.proto", include_str!("known/google/type/month.proto")),
    ("google/type/phone_number.proto", include_str!("known/google/type/phone_number.proto")),
    ("google/type/postal_address.proto", include_str!("known/google/type/postal_address.proto")),
    ("google/type/quaternion.proto", include_str!("known/google/type/quaternion.proto")),
    ("google/type/timeofday.proto", include_str!("known/google/type/timeofday.proto")),
];

#[cfg(test)]
mod tests {
    use crate::{Limits, NoReferences, SchemaType, UnparsedSchema, parse};

    use super::super::FormatSchema;

    /// A printing that reads as the same root file is taken without compiling it: wherever that holds, compiling it
    /// gives the same canonical form (over the stored-text cases, plain and normalized), and it holds for some.
    #[test]
    fn a_printing_read_as_the_same_file_compiles_to_the_same_schema() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/protobuf_text/cases.json")).unwrap();
        let limits = Limits::default();
        let mut taken = 0;
        for case in cases["cases"].as_array().unwrap() {
            let text = case["schema"].as_str().unwrap();
            let Some(printed) = super::super::proto_print::print(text) else { continue };
            let (files, root_name) = super::load_all(text, &[], &limits, super::Positions::Dropped).unwrap();
            let read = files[&root_name].file_descriptor_proto().clone();
            let file = super::compile(files, &root_name).unwrap();
            if !super::reads_as(&printed, &read, &limits) {
                continue;
            }
            taken += 1;
            let (files, root_name) = super::load_all(&printed, &[], &limits, super::Positions::Dropped).unwrap();
            let again = super::compile(files, &root_name).unwrap();
            for normalize in [false, true] {
                let (before, after) =
                    (super::canonical_form(&file, normalize), super::canonical_form(&again, normalize));
                assert_eq!(before, after, "{}", case["name"]);
            }
        }
        assert!(taken > 5, "the shortcut is taken for {taken} cases");
    }

    #[test]
    fn a_parsed_file_exposes_its_messages_and_its_imports() {
        let text = "syntax = \"proto3\";\npackage acme.orders.v1;\nimport \"google/protobuf/timestamp.proto\";\n\
                    message Order { string id = 1; google.protobuf.Timestamp placed_at = 2; }\n";
        let parsed =
            parse(&UnparsedSchema::new(SchemaType::Protobuf, text), &NoReferences, &Limits::default()).unwrap();
        let FormatSchema::Protobuf(proto) = parsed.kind() else { panic!("not protobuf: {:?}", parsed.kind()) };
        let names: Vec<String> = proto.file().messages().map(|m| m.full_name().to_string()).collect();
        assert_eq!(names, ["acme.orders.v1.Order"]);
        assert!(proto.pool().get_message_by_name("google.protobuf.Timestamp").is_some());
    }

    #[test]
    fn a_descriptor_text_is_told_from_source() {
        let parsed = parse(
            &UnparsedSchema::new(SchemaType::Protobuf, "syntax = \"proto3\";\nmessage M { string a = 1; }"),
            &NoReferences,
            &Limits::default(),
        )
        .unwrap();
        let descriptor = parsed.serialized_descriptor().expect("a Protobuf schema");
        assert!(super::is_serialized_descriptor(&descriptor));
        assert!(!super::is_serialized_descriptor("syntax=\"proto3\";"));
        assert!(!super::is_serialized_descriptor("bm90IGEgZGVzY3JpcHRvcg=="), "base64, but of no descriptor");
        let again =
            parse(&UnparsedSchema::new(SchemaType::Protobuf, descriptor), &NoReferences, &Limits::default()).unwrap();
        assert_eq!(again.fingerprint(), parsed.fingerprint());
        assert!(again.protobuf_source().unwrap().contains("message M"));
    }
}
