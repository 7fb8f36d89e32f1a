//! Protobuf data validation: a document in the proto3 JSON mapping, deserialized into the chosen message with
//! `prost-reflect` (the authority on what is valid). When it refuses, a walk of the JSON against the
//! descriptor names every field that does not fit, since `prost-reflect` stops at the first error and does
//! not say where it was.
//!
//! Most documents are plainly valid: every field known and written in its type's usual JSON form. Those are
//! accepted by a walk that allocates nothing ([`plainly_valid`]), without building the message; anything less
//! plain (a null, a fraction for an integer, a well-known type, an enum by number, one field under both its names)
//! goes to `prost-reflect`. `tests/protobuf_validation.rs` checks on generated documents that every document the
//! walk accepts, `prost-reflect` accepts too.

use base64::Engine;
use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;

use super::{Errors, ValidateError, ValidateOptions, kind_of, push_index, push_segment};
use crate::format::protobuf::ProtobufSchema;

#[derive(Clone)]
pub(crate) struct ProtobufValidator {
    message: MessageDescriptor,
    pool_size: usize,
}

impl ProtobufValidator {
    pub(crate) fn compile(schema: &ProtobufSchema, message: Option<&str>) -> Result<Self, ValidateError> {
        let file = schema.file();
        let defined = || {
            let names: Vec<String> = file.messages().map(|m| m.full_name().to_string()).collect();
            if names.is_empty() { "no messages".to_string() } else { names.join(", ") }
        };
        let message = match message {
            Some(name) => {
                let name = name.trim_start_matches('.');
                schema
                    .pool()
                    .get_message_by_name(name)
                    .ok_or_else(|| ValidateError::UnknownMessage { name: name.to_string(), defined: defined() })?
            }
            None => file.messages().next().ok_or(ValidateError::NoMessage)?,
        };
        let pool_size = schema.pool().files().map(|f| f.file_descriptor_proto().encoded_len()).sum();
        Ok(Self { message, pool_size })
    }

    pub(crate) fn pool_size(&self) -> usize {
        self.pool_size
    }

    pub(crate) fn validate(&self, data: &Value, options: &ValidateOptions, out: &mut Errors) {
        if plainly_valid(&self.message, data, 0, options.max_depth) {
            return;
        }
        let Err(error) = DynamicMessage::deserialize(self.message.clone(), data) else {
            return;
        };
        let mut path = String::new();
        check_message(&self.message, data, &mut path, 0, options.max_depth, out);
        if out.is_empty() {
            out.push("", error.to_string());
        }
    }
}

/// Whether `value` is certainly a valid `message` in the proto3 JSON mapping, judged without allocating: every
/// key a field of the message (under one of its names only), at most one member of each oneof, every value in
/// its type's usual JSON form. `false` means "not plainly": the caller asks `prost-reflect`.
fn plainly_valid(message: &MessageDescriptor, value: &Value, depth: usize, max_depth: usize) -> bool {
    if depth > max_depth || is_well_known(message) {
        return false;
    }
    let Some(object) = value.as_object() else {
        return false;
    };
    // Field numbers below 128 already met in this object: a JSON object holds a key once, so a field met twice
    // was written under both of its names.
    let mut seen: u128 = 0;
    for (key, item) in object {
        let Some(field) = field_for(message, key) else {
            return false;
        };
        // One field under both of its names, or two members of one oneof, is for prost-reflect to judge.
        let number = field.number();
        if number < 128 {
            if seen & (1 << number) != 0 {
                return false;
            }
            seen |= 1 << number;
        } else {
            let other_name = if key == field.json_name() { field.name() } else { field.json_name() };
            if other_name != key && object.contains_key(other_name) {
                return false;
            }
        }
        if let Some(oneof) = field.containing_oneof()
            && oneof.fields().any(|other| {
                other.number() != number
                    && (object.contains_key(other.json_name()) || object.contains_key(other.name()))
            })
        {
            return false;
        }
        if !plain_field(&field, item, depth + 1, max_depth) {
            return false;
        }
    }
    true
}

fn plain_field(field: &FieldDescriptor, value: &Value, depth: usize, max_depth: usize) -> bool {
    let kind = field.kind();
    if field.is_map() {
        let (Some(object), Kind::Message(entry)) = (value.as_object(), &kind) else {
            return false;
        };
        let (key_kind, value_kind) = (entry.map_entry_key_field().kind(), entry.map_entry_value_field().kind());
        return object
            .iter()
            .all(|(key, item)| plain_map_key(&key_kind, key) && plain_single(&value_kind, item, depth, max_depth));
    }
    if field.is_list() {
        return value
            .as_array()
            .is_some_and(|items| items.iter().all(|item| plain_single(&kind, item, depth, max_depth)));
    }
    plain_single(&kind, value, depth, max_depth)
}

fn plain_single(kind: &Kind, value: &Value, depth: usize, max_depth: usize) -> bool {
    match (kind, value) {
        (Kind::Message(message), _) => plainly_valid(message, value, depth, max_depth),
        (Kind::Enum(e), Value::String(name)) => e.get_value_by_name(name).is_some(),
        (Kind::Bool, Value::Bool(_)) | (Kind::String, Value::String(_)) => true,
        (Kind::Bytes, Value::String(text)) => is_base64(text),
        (Kind::Double | Kind::Float, Value::String(name)) => matches!(name.as_str(), "NaN" | "Infinity" | "-Infinity"),
        (Kind::Double, Value::Number(_)) => true,
        (Kind::Float, Value::Number(n)) => n.as_f64().is_some_and(|x| x.abs() <= f64::from(f32::MAX)),
        (Kind::Int32 | Kind::Sint32 | Kind::Sfixed32, Value::Number(n)) => {
            n.as_i64().is_some_and(|n| i32::try_from(n).is_ok())
        }
        (Kind::Uint32 | Kind::Fixed32, Value::Number(n)) => n.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
        (Kind::Int64 | Kind::Sint64 | Kind::Sfixed64, Value::Number(n)) => n.as_i64().is_some(),
        (Kind::Uint64 | Kind::Fixed64, Value::Number(n)) => n.as_u64().is_some(),
        // The mapping writes 64-bit integers as decimal strings, and reads any integer so written.
        (kind, Value::String(text)) => plain_integer_text(kind, text),
        _ => false,
    }
}

/// A map key in its one canonical spelling (no sign on positives, no leading zeros).
fn plain_map_key(kind: &Kind, key: &str) -> bool {
    match kind {
        Kind::String => true,
        Kind::Bool => key == "true" || key == "false",
        _ => plain_integer_text(kind, key),
    }
}

/// Whether `text` is an integer of `kind`'s range in its one canonical spelling: digits after an optional `-`,
/// no leading zeros, no `-0`.
fn plain_integer_text(kind: &Kind, text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    canonical
        && match kind {
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => text.parse::<i32>().is_ok(),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => text.parse::<i64>().is_ok(),
            Kind::Uint32 | Kind::Fixed32 => text.parse::<u32>().is_ok(),
            Kind::Uint64 | Kind::Fixed64 => text.parse::<u64>().is_ok(),
            _ => false,
        }
}

/// The field a document's key names: its JSON name or its proto name. A lowerCamelCase JSON name has no
/// underscore, so a key with one is looked up as a proto name first.
fn field_for(message: &MessageDescriptor, key: &str) -> Option<FieldDescriptor> {
    if key.contains('_') {
        message.get_field_by_name(key).or_else(|| message.get_field_by_json_name(key))
    } else {
        message.get_field_by_json_name(key).or_else(|| message.get_field_by_name(key))
    }
}

/// The well-known types with a JSON form of their own: checked by `prost-reflect` where they occur.
fn is_well_known(message: &MessageDescriptor) -> bool {
    message.full_name().starts_with("google.protobuf.")
}

fn check_message(
    message: &MessageDescriptor,
    value: &Value,
    path: &mut String,
    depth: usize,
    max_depth: usize,
    out: &mut Errors,
) {
    if out.full() {
        return;
    }
    if depth > max_depth {
        return out.push(path, format!("the data nests deeper than {max_depth} levels"));
    }
    if is_well_known(message) {
        if let Err(e) = DynamicMessage::deserialize(message.clone(), value) {
            out.push(path, format!("not a valid {}: {e}", message.full_name()));
        }
        return;
    }
    let Some(object) = value.as_object() else {
        return out
            .push(path, format!("expected message '{}' (an object), found {}", message.full_name(), kind_of(value)));
    };
    let mut oneofs_set: Vec<String> = Vec::new();
    for (key, item) in object {
        if out.full() {
            return;
        }
        let len = path.len();
        push_segment(path, key);
        match field_for(message, key) {
            None => out.push(path, format!("unknown field '{}' in message '{}'", clip(key), message.full_name())),
            Some(field) => {
                if let Some(oneof) = field.containing_oneof().filter(|_| !item.is_null()) {
                    let name = oneof.full_name().to_string();
                    if oneofs_set.contains(&name) {
                        out.push(path, format!("another field of oneof '{}' is already set", oneof.name()));
                    } else {
                        oneofs_set.push(name);
                    }
                }
                check_field(&field, item, path, depth + 1, max_depth, out);
            }
        }
        path.truncate(len);
    }
}

fn check_field(
    field: &FieldDescriptor,
    value: &Value,
    path: &mut String,
    depth: usize,
    max_depth: usize,
    out: &mut Errors,
) {
    if value.is_null() {
        // null sets a field to its default; for Value and NullValue it is the value itself.
        return;
    }
    let kind = field.kind();
    if field.is_map() {
        let Some(object) = value.as_object() else {
            return out
                .push(path, format!("expected map field '{}' (an object), found {}", field.name(), kind_of(value)));
        };
        let Kind::Message(entry) = &kind else { return };
        let (key_kind, value_kind) = (entry.map_entry_key_field().kind(), entry.map_entry_value_field().kind());
        for (key, item) in object {
            if out.full() {
                return;
            }
            let len = path.len();
            push_segment(path, key);
            if let Err(message) = check_map_key(&key_kind, key) {
                out.push(path, message);
            }
            check_single(&value_kind, item, path, depth + 1, max_depth, out);
            path.truncate(len);
        }
        return;
    }
    if field.is_list() {
        let Some(items) = value.as_array() else {
            return out.push(
                path,
                format!("expected repeated field '{}' (an array), found {}", field.name(), kind_of(value)),
            );
        };
        for (i, item) in items.iter().enumerate() {
            if out.full() {
                return;
            }
            let len = path.len();
            push_index(path, i);
            check_single(&kind, item, path, depth + 1, max_depth, out);
            path.truncate(len);
        }
        return;
    }
    check_single(&kind, value, path, depth, max_depth, out);
}

/// One value of a field's type (an element of a list or map, or a singular field).
fn check_single(kind: &Kind, value: &Value, path: &mut String, depth: usize, max_depth: usize, out: &mut Errors) {
    let result = match kind {
        Kind::Message(message) => {
            if value.is_null() && message.full_name() == "google.protobuf.Value" {
                return;
            }
            return check_message(message, value, path, depth, max_depth, out);
        }
        Kind::Enum(e) => match value {
            Value::String(name) if e.get_value_by_name(name).is_some() => Ok(()),
            Value::String(name) => {
                let names: Vec<String> = e.values().take(20).map(|v| v.name().to_string()).collect();
                Err(format!(
                    "'{}' is not a value of enum '{}': use one of {}",
                    clip(name),
                    e.full_name(),
                    names.join(", ")
                ))
            }
            Value::Null if e.full_name() == "google.protobuf.NullValue" => Ok(()),
            Value::Number(n) if n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()) => Ok(()),
            other => Err(format!(
                "expected a value of enum '{}' (its name or number), found {}",
                e.full_name(),
                describe(other)
            )),
        },
        Kind::Bool => expect(value.is_boolean(), "a boolean", value),
        Kind::String => expect(value.is_string(), "a string", value),
        Kind::Bytes => match value.as_str() {
            Some(text) if is_base64(text) => Ok(()),
            Some(_) => Err("bytes are written in base64, and this is not base64".to_string()),
            None => Err(format!("expected bytes (a base64 string), found {}", describe(value))),
        },
        Kind::Double => check_float(value, false),
        Kind::Float => check_float(value, true),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            check_integer(value, i128::from(i32::MIN), i128::from(i32::MAX), "a 32-bit signed integer")
        }
        Kind::Uint32 | Kind::Fixed32 => check_integer(value, 0, i128::from(u32::MAX), "a 32-bit unsigned integer"),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            check_integer(value, i128::from(i64::MIN), i128::from(i64::MAX), "a 64-bit signed integer")
        }
        Kind::Uint64 | Kind::Fixed64 => check_integer(value, 0, i128::from(u64::MAX), "a 64-bit unsigned integer"),
    };
    if let Err(message) = result {
        out.push(path, message);
    }
}

fn expect(ok: bool, what: &str, value: &Value) -> Result<(), String> {
    if ok { Ok(()) } else { Err(format!("expected {what}, found {}", describe(value))) }
}

/// Numbers, or decimal strings, that are whole and in range (as `prost-reflect` reads them).
fn check_integer(value: &Value, min: i128, max: i128, what: &str) -> Result<(), String> {
    let n: Option<i128> = match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Some(i128::from(i)),
            (_, Some(u), _) => Some(i128::from(u)),
            (_, _, Some(f)) if f.fract() != 0.0 => return Err(format!("expected {what}, found the fraction {n}")),
            (_, _, Some(f)) if f.abs() < 1e38 => Some(f as i128),
            _ => return Err(format!("{n} is out of range for {what}")),
        },
        Value::String(s) => match s.parse::<i128>() {
            Ok(n) => Some(n),
            Err(_) => return Err(format!("expected {what}, found the string '{}'", clip(s))),
        },
        other => return Err(format!("expected {what}, found {}", describe(other))),
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(()),
        _ => Err(format!("{value} is out of range for {what}")),
    }
}

fn check_float(value: &Value, single: bool) -> Result<(), String> {
    let what = if single { "a float" } else { "a double" };
    let x = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => return Ok(()),
        Value::String(s) => match s.parse::<f64>() {
            Ok(x) => Some(x),
            Err(_) => return Err(format!("expected {what}, found the string '{}'", clip(s))),
        },
        other => return Err(format!("expected {what}, found {}", describe(other))),
    };
    match x {
        Some(x) if !single || !x.is_finite() || x.abs() <= f64::from(f32::MAX) => Ok(()),
        _ => Err(format!("{value} is out of range for {what}")),
    }
}

fn check_map_key(kind: &Kind, key: &str) -> Result<(), String> {
    let ok = match kind {
        Kind::String => true,
        Kind::Bool => key == "true" || key == "false",
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => key.parse::<i32>().is_ok(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => key.parse::<i64>().is_ok(),
        Kind::Uint32 | Kind::Fixed32 => key.parse::<u32>().is_ok(),
        Kind::Uint64 | Kind::Fixed64 => key.parse::<u64>().is_ok(),
        _ => true,
    };
    if ok { Ok(()) } else { Err(format!("'{}' is not a valid map key of type {kind:?}", clip(key))) }
}

/// Standard or URL-safe base64, padded or not (as `prost-reflect` reads bytes).
fn is_base64(text: &str) -> bool {
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
    STANDARD.decode(text).is_ok() || URL_SAFE.decode(text).is_ok()
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("the number {n}"),
        other => kind_of(other).to_string(),
    }
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}
