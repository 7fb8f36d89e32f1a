//! Avro data validation: a datum in Avro's JSON encoding, or a binary datum, checked against the schema.
//!
//! The schema is first flattened into an arena of nodes (named types defined once, references to them by
//! index, found through [`AvroSchema::named_types`]), so a check is a walk over plain indices. The JSON
//! encoding: unions as `{"branch": value}` (the branch's type name, full name for named types) or plain
//! `null`; bytes and fixed as strings of code points 0-255; logical types as their underlying type, with
//! decimals, uuids and times also checked for sense. A binary datum is scanned with every length bounded by
//! the bytes left before `apache_avro::from_avro_datum_schemata` decodes it, so hostile input cannot make it
//! allocate or recurse without bound.

use std::collections::HashMap;

use apache_avro::Schema;
use serde_json::Value;

use super::{Errors, ValidateError, ValidateOptions, kind_of, push_index, push_segment};
use crate::format::avro::{AvroSchema, full_name};

/// Deepest chain of schema nesting and named-type references flattened before giving up.
const MAX_COMPILE_DEPTH: usize = 2048;
/// Items (array elements, map entries) a binary datum may hold beyond one per byte, for zero-width items.
const ZERO_WIDTH_ITEMS: usize = 4096;

#[derive(Clone, Debug)]
enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array(usize),
    Map(usize),
    Union(Vec<Branch>),
    Record {
        name: String,
        fields: Vec<Field>,
        /// The indexes of `fields` in the order of their names: a data key is looked up, not searched for.
        by_name: Vec<usize>,
    },
    Enum {
        name: String,
        symbols: Vec<String>,
    },
    Fixed {
        name: String,
        size: usize,
    },
    Decimal {
        precision: usize,
        fixed: Option<(String, usize)>,
    },
    BigDecimal,
    Uuid,
    Date,
    TimeMillis,
    TimeMicros,
    /// The timestamp and local-timestamp logical types: a long.
    Timestamp,
    Duration,
}

#[derive(Clone, Debug)]
struct Branch {
    name: String,
    node: usize,
}

#[derive(Clone, Debug)]
struct Field {
    name: String,
    node: usize,
    has_default: bool,
}

#[derive(Clone)]
pub(crate) struct AvroValidator {
    nodes: Vec<Node>,
    root: usize,
    /// The schema and its references' schemas, for `from_avro_datum_schemata`.
    schemata: Vec<Schema>,
    size: usize,
}

impl AvroValidator {
    pub(crate) fn compile(schema: &AvroSchema) -> Result<Self, ValidateError> {
        let lookup = schema.named_types();
        let mut builder = Builder { nodes: Vec::new(), named: HashMap::new(), lookup: &lookup };
        let root = builder.add(schema.root(), 0)?;
        let mut schemata = Vec::with_capacity(schema.referenced().len() + 1);
        schemata.push(schema.root().clone());
        schemata.extend(schema.referenced().iter().cloned());
        let fields: usize = builder
            .nodes
            .iter()
            .map(|node| if let Node::Record { fields, .. } = node { fields.len() } else { 0 })
            .sum();
        // A node, and a record's field with its name and its place in the index by name.
        let size = builder
            .nodes
            .len()
            .saturating_mul(std::mem::size_of::<Node>() + 32)
            .saturating_add(fields.saturating_mul(std::mem::size_of::<Field>() + 40));
        Ok(Self { nodes: builder.nodes, root, schemata, size })
    }

    pub(crate) fn size_estimate(&self) -> usize {
        self.size
    }

    pub(crate) fn validate(&self, data: &Value, options: &ValidateOptions, out: &mut Errors) {
        let mut path = String::new();
        self.check(self.root, data, &mut path, 0, options.max_depth, out);
    }

    fn node(&self, index: usize) -> &Node {
        // Indices come from the builder; a missing one reads as null rather than panicking.
        self.nodes.get(index).unwrap_or(&Node::Null)
    }

    fn check(&self, node: usize, value: &Value, path: &mut String, depth: usize, max_depth: usize, out: &mut Errors) {
        if out.full() {
            return;
        }
        if depth > max_depth {
            out.push(path, format!("the data nests deeper than {max_depth} levels"));
            return;
        }
        let expected = |out: &mut Errors, path: &str, what: &str| {
            out.push(path, format!("expected {what}, found {}", kind_of(value)));
        };
        match self.node(node) {
            Node::Null => {
                if !value.is_null() {
                    expected(out, path, "null");
                }
            }
            Node::Boolean => {
                if !value.is_boolean() {
                    expected(out, path, "a boolean");
                }
            }
            Node::Int => check_int(value, i64::from(i32::MIN), i64::from(i32::MAX), "an int", path, out),
            Node::Date => {
                check_int(value, i64::from(i32::MIN), i64::from(i32::MAX), "a date (days, an int)", path, out)
            }
            Node::TimeMillis => {
                check_int(value, 0, 86_400_000 - 1, "a time-millis (0 to 86399999, an int)", path, out);
            }
            Node::TimeMicros => {
                check_int(value, 0, 86_400_000_000 - 1, "a time-micros (0 to 86399999999, a long)", path, out);
            }
            Node::Long => check_int(value, i64::MIN, i64::MAX, "a long", path, out),
            Node::Timestamp => check_int(value, i64::MIN, i64::MAX, "a timestamp (a long)", path, out),
            Node::Float => check_float(value, true, path, out),
            Node::Double => check_float(value, false, path, out),
            Node::String => {
                if !value.is_string() {
                    expected(out, path, "a string");
                }
            }
            Node::Uuid => match value.as_str() {
                Some(text) if is_uuid(text) => {}
                Some(text) => out.push(path, format!("'{}' is not a UUID (8-4-4-4-12 hex digits)", clip(text))),
                None => expected(out, path, "a UUID string"),
            },
            Node::Bytes | Node::BigDecimal => {
                if let Some(text) = value.as_str() {
                    if let Err(message) = code_points(text) {
                        out.push(path, message);
                    }
                } else {
                    expected(out, path, "bytes (a string of code points 0-255)");
                }
            }
            Node::Fixed { name, size } => check_fixed(value, name, *size, path, out),
            Node::Duration => check_fixed(value, "duration", 12, path, out),
            Node::Decimal { precision, fixed } => {
                let Some(text) = value.as_str() else {
                    return expected(out, path, "a decimal (a string of code points 0-255)");
                };
                let bytes = match code_points(text) {
                    Ok(bytes) => bytes,
                    Err(message) => return out.push(path, message),
                };
                if let Some((name, size)) = fixed
                    && bytes.len() != *size
                {
                    return out.push(path, format!("fixed '{name}' holds {size} bytes, found {}", bytes.len()));
                }
                if !fits_precision(&bytes, *precision) {
                    out.push(path, format!("the decimal has more than {precision} digits (its precision)"));
                }
            }
            Node::Enum { name, symbols } => match value.as_str() {
                Some(symbol) if symbols.iter().any(|s| s == symbol) => {}
                Some(symbol) => out.push(
                    path,
                    format!("'{}' is not a symbol of enum '{name}': use one of {}", clip(symbol), list(symbols)),
                ),
                None => expected(out, path, &format!("a symbol of enum '{name}'")),
            },
            Node::Array(items) => {
                let Some(values) = value.as_array() else {
                    return expected(out, path, "an array");
                };
                for (i, item) in values.iter().enumerate() {
                    let len = path.len();
                    push_index(path, i);
                    self.check(*items, item, path, depth + 1, max_depth, out);
                    path.truncate(len);
                }
            }
            Node::Map(values) => {
                let Some(map) = value.as_object() else {
                    return expected(out, path, "a map (an object)");
                };
                for (key, item) in map {
                    let len = path.len();
                    push_segment(path, key);
                    self.check(*values, item, path, depth + 1, max_depth, out);
                    path.truncate(len);
                }
            }
            Node::Record { name, fields, by_name } => {
                let Some(map) = value.as_object() else {
                    return expected(out, path, &format!("record '{name}' (an object)"));
                };
                // Checking stops at the error bound: a wide record's every field is not visited for nothing.
                for field in fields {
                    if out.full() {
                        return;
                    }
                    let len = path.len();
                    push_segment(path, &field.name);
                    match map.get(&field.name) {
                        Some(item) => self.check(field.node, item, path, depth + 1, max_depth, out),
                        None if field.has_default => {}
                        None => out.push(path, format!("missing required field '{}' of record '{name}'", field.name)),
                    }
                    path.truncate(len);
                }
                let name_at = |i: usize| fields.get(i).map_or("", |f| f.name.as_str());
                for key in map.keys().filter(|key| by_name.binary_search_by(|&i| name_at(i).cmp(key)).is_err()) {
                    if out.full() {
                        return;
                    }
                    let len = path.len();
                    push_segment(path, key);
                    out.push(path, format!("unknown field '{}': record '{name}' has no such field", clip(key)));
                    path.truncate(len);
                }
            }
            Node::Union(branches) => self.check_union(branches, value, path, depth, max_depth, out),
        }
    }

    fn check_union(
        &self,
        branches: &[Branch],
        value: &Value,
        path: &mut String,
        depth: usize,
        max_depth: usize,
        out: &mut Errors,
    ) {
        let names = || branches.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ");
        if value.is_null() {
            if !branches.iter().any(|b| matches!(self.node(b.node), Node::Null)) {
                out.push(path, format!("null is not a branch of the union [{}]", names()));
            }
            return;
        }
        let Some((key, inner)) = value.as_object().filter(|map| map.len() == 1).and_then(|map| map.iter().next())
        else {
            return out.push(
                path,
                format!(
                    "a union value is written {{\"<branch>\": value}} (or null), with a branch of [{}]; found {}",
                    names(),
                    kind_of(value)
                ),
            );
        };
        let Some(branch) = branches.iter().find(|b| b.name == *key) else {
            return out.push(path, format!("'{}' is not a branch of the union [{}]", clip(key), names()));
        };
        let len = path.len();
        push_segment(path, key);
        self.check(branch.node, inner, path, depth + 1, max_depth, out);
        path.truncate(len);
    }

    /// Scans a binary datum, then decodes it with `apache-avro` once the scan has bounded it.
    pub(crate) fn validate_binary(&self, datum: &[u8], options: &ValidateOptions, out: &mut Errors) {
        let mut reader = Reader { bytes: datum, pos: 0, items_left: datum.len().saturating_add(ZERO_WIDTH_ITEMS) };
        let mut path = String::new();
        if let Err(message) = self.scan(self.root, &mut reader, &mut path, 0, options.max_depth) {
            return out.push(&path, format!("{message} (at byte {})", reader.pos));
        }
        if reader.pos != datum.len() {
            return out.push("", format!("{} bytes are left after the datum", datum.len() - reader.pos));
        }
        let schemata: Vec<&Schema> = self.schemata.iter().collect();
        let Some(root) = schemata.first().copied() else {
            return out.push("", "the schema is empty");
        };
        let mut input = datum;
        if let Err(e) = apache_avro::from_avro_datum_schemata(root, schemata, &mut input, None) {
            out.push("", format!("the datum cannot be decoded: {e}"));
        }
    }

    fn scan(
        &self,
        node: usize,
        r: &mut Reader<'_>,
        path: &mut String,
        depth: usize,
        max_depth: usize,
    ) -> Result<(), String> {
        if depth > max_depth {
            return Err(format!("the datum nests deeper than {max_depth} levels"));
        }
        match self.node(node) {
            Node::Null => Ok(()),
            Node::Boolean => match r.take(1)?.first() {
                Some(0 | 1) => Ok(()),
                _ => Err("a boolean byte is neither 0 nor 1".into()),
            },
            Node::Int | Node::Date => r.long_in(i64::from(i32::MIN), i64::from(i32::MAX), "an int").map(drop),
            Node::TimeMillis => r.long_in(0, 86_400_000 - 1, "a time-millis").map(drop),
            Node::TimeMicros => r.long_in(0, 86_400_000_000 - 1, "a time-micros").map(drop),
            Node::Long | Node::Timestamp => r.long().map(drop),
            Node::Float => r.take(4).map(drop),
            Node::Double => r.take(8).map(drop),
            Node::Bytes | Node::BigDecimal => r.length_prefixed().map(drop),
            Node::String => {
                let bytes = r.length_prefixed()?;
                std::str::from_utf8(bytes).map(drop).map_err(|_| "a string is not valid UTF-8".into())
            }
            Node::Uuid => {
                let bytes = r.length_prefixed()?;
                match std::str::from_utf8(bytes) {
                    Ok(text) if is_uuid(text) => Ok(()),
                    _ if bytes.len() == 16 => Ok(()),
                    _ => Err("a uuid is neither 16 bytes nor a UUID string".into()),
                }
            }
            Node::Fixed { size, .. } => r.take(*size).map(drop),
            Node::Duration => r.take(12).map(drop),
            Node::Decimal { precision, fixed } => {
                let bytes = match fixed {
                    Some((_, size)) => r.take(*size)?,
                    None => r.length_prefixed()?,
                };
                if fits_precision(bytes, *precision) {
                    Ok(())
                } else {
                    Err(format!("the decimal has more than {precision} digits (its precision)"))
                }
            }
            Node::Enum { name, symbols } => {
                let index = r.long()?;
                if usize::try_from(index).is_ok_and(|i| i < symbols.len()) {
                    Ok(())
                } else {
                    Err(format!("enum '{name}' has no symbol at index {index}"))
                }
            }
            Node::Union(branches) => {
                let index = r.long()?;
                let Some(branch) = usize::try_from(index).ok().and_then(|i| branches.get(i)) else {
                    return Err(format!("the union has no branch {index}; it has {}", branches.len()));
                };
                self.scan(branch.node, r, path, depth + 1, max_depth)
            }
            Node::Record { fields, .. } => {
                for field in fields {
                    let len = path.len();
                    push_segment(path, &field.name);
                    self.scan(field.node, r, path, depth + 1, max_depth)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Node::Array(items) => {
                let mut index = 0usize;
                while let Some(count) = r.block()? {
                    for _ in 0..count {
                        let len = path.len();
                        push_index(path, index);
                        self.scan(*items, r, path, depth + 1, max_depth)?;
                        path.truncate(len);
                        index += 1;
                    }
                }
                Ok(())
            }
            Node::Map(values) => {
                while let Some(count) = r.block()? {
                    for _ in 0..count {
                        let key = r.length_prefixed()?;
                        let key = std::str::from_utf8(key).map_err(|_| "a map key is not valid UTF-8".to_string())?;
                        let len = path.len();
                        push_segment(path, key);
                        self.scan(*values, r, path, depth + 1, max_depth)?;
                        path.truncate(len);
                    }
                }
                Ok(())
            }
        }
    }
}

/// Flattens `apache_avro::Schema` into the arena.
struct Builder<'a> {
    nodes: Vec<Node>,
    named: HashMap<String, usize>,
    lookup: &'a HashMap<String, &'a Schema>,
}

impl Builder<'_> {
    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Reserves a slot for a named type before its body, so recursive references find it.
    fn define(&mut self, name: String) -> Result<usize, usize> {
        if let Some(&index) = self.named.get(&name) {
            return Err(index);
        }
        let index = self.push(Node::Null);
        self.named.insert(name, index);
        Ok(index)
    }

    fn add(&mut self, schema: &Schema, depth: usize) -> Result<usize, ValidateError> {
        if depth > MAX_COMPILE_DEPTH {
            return Err(ValidateError::Invalid(format!("the schema nests deeper than {MAX_COMPILE_DEPTH} levels")));
        }
        let node = match schema {
            Schema::Null => Node::Null,
            Schema::Boolean => Node::Boolean,
            Schema::Int => Node::Int,
            Schema::Long => Node::Long,
            Schema::Float => Node::Float,
            Schema::Double => Node::Double,
            Schema::Bytes => Node::Bytes,
            Schema::String => Node::String,
            Schema::BigDecimal => Node::BigDecimal,
            Schema::Uuid => Node::Uuid,
            Schema::Date => Node::Date,
            Schema::TimeMillis => Node::TimeMillis,
            Schema::TimeMicros => Node::TimeMicros,
            Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => Node::Timestamp,
            Schema::Duration => Node::Duration,
            Schema::Array(array) => Node::Array(self.add(&array.items, depth + 1)?),
            Schema::Map(map) => Node::Map(self.add(&map.types, depth + 1)?),
            Schema::Union(union) => {
                let mut branches = Vec::with_capacity(union.variants().len());
                for variant in union.variants() {
                    let name = branch_name(variant);
                    branches.push(Branch { name, node: self.add(variant, depth + 1)? });
                }
                Node::Union(branches)
            }
            Schema::Decimal(decimal) => {
                let fixed = match decimal.inner.as_ref() {
                    Schema::Fixed(f) => Some((full_name(&f.name), f.size)),
                    _ => None,
                };
                Node::Decimal { precision: decimal.precision, fixed }
            }
            Schema::Record(record) => {
                let name = full_name(&record.name);
                let index = match self.define(name.clone()) {
                    Ok(index) => index,
                    Err(existing) => return Ok(existing),
                };
                let mut fields = Vec::with_capacity(record.fields.len());
                for field in &record.fields {
                    let node = self.add(&field.schema, depth + 1)?;
                    fields.push(Field { name: field.name.clone(), node, has_default: field.default.is_some() });
                }
                let mut by_name: Vec<usize> = (0..fields.len()).collect();
                by_name.sort_unstable_by(|&a, &b| fields[a].name.cmp(&fields[b].name));
                self.nodes[index] = Node::Record { name, fields, by_name };
                return Ok(index);
            }
            Schema::Enum(e) => {
                let name = full_name(&e.name);
                let index = match self.define(name.clone()) {
                    Ok(index) => index,
                    Err(existing) => return Ok(existing),
                };
                self.nodes[index] = Node::Enum { name, symbols: e.symbols.clone() };
                return Ok(index);
            }
            Schema::Fixed(f) => {
                let name = full_name(&f.name);
                let index = match self.define(name.clone()) {
                    Ok(index) => index,
                    Err(existing) => return Ok(existing),
                };
                self.nodes[index] = Node::Fixed { name, size: f.size };
                return Ok(index);
            }
            Schema::Ref { name } => {
                let name = full_name(name);
                if let Some(&index) = self.named.get(&name) {
                    return Ok(index);
                }
                let Some(definition) = self.lookup.get(&name).copied() else {
                    return Err(ValidateError::Invalid(format!("the named type '{name}' is not defined")));
                };
                if matches!(definition, Schema::Ref { .. }) {
                    return Err(ValidateError::Invalid(format!("the named type '{name}' is not defined")));
                }
                return self.add(definition, depth + 1);
            }
        };
        Ok(self.push(node))
    }
}

/// The name a union branch goes by in the JSON encoding: the type's name, full name for named types.
fn branch_name(schema: &Schema) -> String {
    match schema {
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int | Schema::Date | Schema::TimeMillis => "int".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes | Schema::BigDecimal => "bytes".into(),
        Schema::String | Schema::Uuid => "string".into(),
        Schema::Array(_) => "array".into(),
        Schema::Map(_) => "map".into(),
        Schema::Union(_) => "union".into(),
        Schema::Record(r) => full_name(&r.name),
        Schema::Enum(e) => full_name(&e.name),
        Schema::Fixed(f) => full_name(&f.name),
        Schema::Ref { name } => full_name(name),
        Schema::Decimal(d) => match d.inner.as_ref() {
            Schema::Fixed(f) => full_name(&f.name),
            _ => "bytes".into(),
        },
        Schema::Duration => "fixed".into(),
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "long".into(),
    }
}

fn check_int(value: &Value, min: i64, max: i64, what: &str, path: &str, out: &mut Errors) {
    match value.as_i64() {
        Some(n) if (min..=max).contains(&n) => {}
        Some(n) => out.push(path, format!("{n} is out of range for {what}")),
        None if value.is_u64() => out.push(path, format!("{value} is out of range for {what}")),
        None => out.push(path, format!("expected {what}, found {}", describe(value))),
    }
}

fn check_float(value: &Value, single: bool, path: &str, out: &mut Errors) {
    let what = if single { "a float" } else { "a double" };
    match value {
        Value::Number(n) => {
            let fits = n.as_f64().is_some_and(|x| !single || x.abs() <= f64::from(f32::MAX));
            if !fits {
                out.push(path, format!("{n} is out of range for {what}"));
            }
        }
        // The JSON encoders write the non-finite values as strings.
        Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {}
        other => out.push(path, format!("expected {what}, found {}", describe(other))),
    }
}

fn check_fixed(value: &Value, name: &str, size: usize, path: &str, out: &mut Errors) {
    let Some(text) = value.as_str() else {
        return out.push(
            path,
            format!("expected fixed '{name}' (a string of {size} code points 0-255), found {}", kind_of(value)),
        );
    };
    match code_points(text) {
        Ok(bytes) if bytes.len() == size => {}
        Ok(bytes) => out.push(path, format!("fixed '{name}' holds {size} bytes, found {}", bytes.len())),
        Err(message) => out.push(path, message),
    }
}

/// The bytes a JSON-encoded `bytes` or `fixed` value stands for: one per code point, each 0-255.
fn code_points(text: &str) -> Result<Vec<u8>, String> {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            u8::try_from(u32::from(c))
                .map_err(|_| format!("bytes are written as code points 0-255; character {i} is U+{:04X}", u32::from(c)))
        })
        .collect()
}

/// Whether a two's-complement big-endian unscaled value has at most `precision` decimal digits.
fn fits_precision(bytes: &[u8], precision: usize) -> bool {
    let Some(&first) = bytes.first() else { return true };
    let mut magnitude = bytes.to_vec();
    if first & 0x80 != 0 {
        for b in &mut magnitude {
            *b = !*b;
        }
        for b in magnitude.iter_mut().rev() {
            let (sum, carry) = b.overflowing_add(1);
            *b = sum;
            if !carry {
                break;
            }
        }
    }
    let start = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
    let magnitude = &magnitude[start..];
    let Some(&top) = magnitude.first() else { return true };
    let bits = (magnitude.len() - 1) * 8 + (8 - top.leading_zeros() as usize);
    const LOG10_2: f64 = std::f64::consts::LOG10_2;
    // A number of `bits` bits has between floor((bits-1)·log10 2)+1 and floor(bits·log10 2)+1 digits.
    let fewest = ((bits - 1) as f64 * LOG10_2).floor() as usize + 1;
    let most = (bits as f64 * LOG10_2).floor() as usize + 1;
    if fewest > precision {
        return false;
    }
    if most <= precision || magnitude.len() > 512 {
        return true;
    }
    decimal_digits(magnitude) <= precision
}

/// The number of decimal digits of a big-endian unsigned integer, by repeated division by 10.
fn decimal_digits(magnitude: &[u8]) -> usize {
    let mut n = magnitude.to_vec();
    let mut digits = 0;
    while n.iter().any(|&b| b != 0) {
        let mut remainder = 0u32;
        for b in &mut n {
            let current = (remainder << 8) | u32::from(*b);
            *b = (current / 10) as u8;
            remainder = current % 10;
        }
        digits += 1;
    }
    digits.max(1)
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("the number {n}"),
        other => kind_of(other).to_string(),
    }
}

fn list(symbols: &[String]) -> String {
    let shown: Vec<&str> = symbols.iter().take(20).map(String::as_str).collect();
    let more = if symbols.len() > 20 { format!(", ... ({} in all)", symbols.len()) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// At most 64 characters of data echoed back in a message.
fn clip(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// A bounded reader over a binary datum.
struct Reader<'b> {
    bytes: &'b [u8],
    pos: usize,
    /// Array items and map entries still allowed: every length is bounded by what the input can hold.
    items_left: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], String> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(format!("the datum ends early: {n} bytes needed, {left} left"));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// A zig-zag variable-length long.
    fn long(&mut self) -> Result<i64, String> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err("the datum ends inside a number".into());
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        Err("a variable-length number is longer than 10 bytes".into())
    }

    fn long_in(&mut self, min: i64, max: i64, what: &str) -> Result<i64, String> {
        let n = self.long()?;
        if (min..=max).contains(&n) { Ok(n) } else { Err(format!("{n} is out of range for {what}")) }
    }

    fn length_prefixed(&mut self) -> Result<&'b [u8], String> {
        let len = self.long()?;
        let len = usize::try_from(len).map_err(|_| format!("a length is negative: {len}"))?;
        self.take(len)
    }

    /// The item count of the next array or map block, `None` at the end marker.
    fn block(&mut self) -> Result<Option<usize>, String> {
        let count = self.long()?;
        if count == 0 {
            return Ok(None);
        }
        if count < 0 {
            // A negative count is followed by the block's size in bytes.
            let size = self.long()?;
            if size < 0 {
                return Err(format!("a block size is negative: {size}"));
            }
        }
        let count = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        if count > self.items_left {
            return Err(format!("a block claims {count} items, more than the datum can hold"));
        }
        self.items_left -= count;
        Ok(Some(count))
    }
}
