//! JSON as Confluent's registry (Java, Jackson) reads and writes it, for the canonical texts of Avro and JSON
//! Schema: a tree that keeps object keys in the order given and each number as it was written, and a compact
//! writer with Jackson's escaping and Java's number formats.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON value with its object members in input order and its numbers as written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    /// A number, as written in the text (an integer's digits, when read in one pass).
    Number(Cow<'a, str>),
    /// A number with a fraction or an exponent, read as a double (in one pass, where its spelling cannot matter).
    Float(f64),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members in input order; a key given twice keeps its last value at its first position, as Jackson does.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// Parses `text`, which must be one JSON value (`serde_json` checks it; nesting was bounded before), for
    /// numbers written as `numbers` says. In one pass when no number's spelling can matter (no integer past 64 bits;
    /// for decimals, no fraction or exponent at all); else level by level, keeping each number as written.
    pub(crate) fn parse(text: &'a str, numbers: Numbers) -> Result<Node<'a>, serde_json::Error> {
        if !needs_literals(text, numbers) {
            return serde_json::from_str(text);
        }
        let raw: &'a RawValue = serde_json::from_str(text)?;
        Node::from_raw(raw)
    }

    fn from_raw(raw: &'a RawValue) -> Result<Node<'a>, serde_json::Error> {
        let text = raw.get();
        Ok(match text.as_bytes().first() {
            Some(b'{') => {
                let Members(members) = serde_json::from_str(text)?;
                let (mut object, mut index) = (Vec::with_capacity(members.len()), None);
                for (key, value) in members {
                    put(&mut object, &mut index, key, Node::from_raw(value)?);
                }
                Node::Object(object)
            }
            Some(b'[') => {
                let items: Vec<&'a RawValue> = serde_json::from_str(text)?;
                Node::Array(items.into_iter().map(Node::from_raw).collect::<Result<_, _>>()?)
            }
            Some(b'"') => Node::String(string(text)?),
            Some(b't') => Node::Bool(true),
            Some(b'f') => Node::Bool(false),
            Some(b'n') => Node::Null,
            _ => Node::Number(Cow::Borrowed(text)),
        })
    }

    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether it is a number written without a fraction or an exponent (an integer to Jackson).
    pub(crate) fn is_integer(&self) -> bool {
        matches!(self, Node::Number(n) if !n.contains(['.', 'e', 'E']))
    }

    /// The value `serde_json` reads from the text this tree was read from: each number by `serde_json`'s own
    /// parser, a key given twice with its last value. `None` for a number it cannot hold (past a double's range).
    pub(crate) fn to_value(&self) -> Option<serde_json::Value> {
        use serde_json::{Number, Value};
        Some(match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(text) => Value::Number(text.parse::<Number>().ok()?),
            Node::Float(f) => Value::Number(Number::from_f64(*f)?),
            Node::String(s) => Value::String(s.to_string()),
            Node::Array(items) => Value::Array(items.iter().map(Node::to_value).collect::<Option<_>>()?),
            Node::Object(members) => Value::Object(
                members.iter().map(|(key, value)| Some((key.to_string(), value.to_value()?))).collect::<Option<_>>()?,
            ),
        })
    }

    /// The same value with every object's keys sorted (Java's string order), at every depth.
    pub(crate) fn sorted(&self) -> Node<'a> {
        match self {
            Node::Object(members) => {
                let mut members: Vec<_> = members.iter().map(|(k, v)| (k.clone(), v.sorted())).collect();
                members.sort_by(|a, b| java_order(&a.0, &b.0));
                Node::Object(members)
            }
            Node::Array(items) => Node::Array(items.iter().map(Node::sorted).collect()),
            other => other.clone(),
        }
    }
}

/// Members past which an object being read keeps an index of its keys: finding a repeated key by scanning made
/// reading a schema of 47,000 properties quadratic.
const INDEXED_MEMBERS: usize = 64;

/// Adds a member to an object being read: a key given twice keeps its last value at its first position, as Jackson
/// does. `index` (each key's position) is built once the object is large.
fn put<'a>(
    members: &mut Vec<(Cow<'a, str>, Node<'a>)>,
    index: &mut Option<HashMap<Cow<'a, str>, usize>>,
    key: Cow<'a, str>,
    value: Node<'a>,
) {
    if index.is_none() && members.len() >= INDEXED_MEMBERS {
        *index = Some(members.iter().enumerate().map(|(at, (k, _))| (k.clone(), at)).collect());
    }
    let at = match index {
        Some(index) => index.get(&key).copied(),
        None => members.iter().position(|(k, _)| *k == key),
    };
    match at {
        Some(at) => members[at].1 = value,
        None => {
            if let Some(index) = index {
                index.insert(key.clone(), members.len());
            }
            members.push((key, value));
        }
    }
}

/// Whether a number in `text` must keep its spelling: an integer too long for 64 bits (Jackson keeps its digits),
/// `-0`, or, for decimals, any number with a fraction or an exponent. Strings are skipped; outside them only numbers hold
/// a `.` or digits, and an exponent is an `e` or `E` right after a digit.
fn needs_literals(text: &str, numbers: Numbers) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut digits = 0usize;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b'"' => {
                at += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[at.min(bytes.len())..]) {
                        Some(offset) if bytes[at + offset] == b'\\' => at += offset + 2,
                        Some(offset) => {
                            at += offset;
                            break;
                        }
                        None => return false,
                    }
                }
                digits = 0;
            }
            b'0'..=b'9' => {
                digits += 1;
                if digits >= 19 {
                    return true;
                }
            }
            // `-0` is the integer 0 to Jackson, and a negative zero double to serde_json.
            b'-' if bytes.get(at + 1) == Some(&b'0') && !matches!(bytes.get(at + 2), Some(b'.' | b'e' | b'E')) => {
                return true;
            }
            b'.' if numbers == Numbers::Decimal => return true,
            b'e' | b'E' if numbers == Numbers::Decimal && digits > 0 => return true,
            _ => digits = 0,
        }
        at += 1;
    }
    false
}

impl<'de> Deserialize<'de> for Node<'de> {
    /// The one-pass read: integers keep their digits, other numbers are doubles.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = Node<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_unit<E>(self) -> Result<Node<'de>, E> {
                Ok(Node::Null)
            }

            fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
                Ok(Node::Bool(b))
            }

            fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
                Ok(Node::Number(Cow::Owned(n.to_string())))
            }

            fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
                Ok(Node::Number(Cow::Owned(n.to_string())))
            }

            fn visit_f64<E>(self, n: f64) -> Result<Node<'de>, E> {
                Ok(Node::Float(n))
            }

            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
                Ok(Node::String(Cow::Borrowed(s)))
            }

            fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
                Ok(Node::String(Cow::Owned(s.to_string())))
            }

            fn visit_string<E>(self, s: String) -> Result<Node<'de>, E> {
                Ok(Node::String(Cow::Owned(s)))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
                let (mut members, mut index) = (Vec::new(), None);
                while let Some(Key(key)) = map.next_key()? {
                    put(&mut members, &mut index, key, map.next_value()?);
                }
                Ok(Node::Object(members))
            }
        }
        deserializer.deserialize_any(Any)
    }
}

/// A string literal's text: borrowed when it has no escapes.
fn string(literal: &str) -> Result<Cow<'_, str>, serde_json::Error> {
    let inner = &literal[1..literal.len() - 1];
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(literal).map(Cow::Owned)
}

/// An object's members in order, each value still raw.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Each;
        impl<'de> Visitor<'de> for Each {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    members.push((key.0, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Each)
    }
}

/// An object key: borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }

            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// Java's `String.compareTo`: by UTF-16 code units.
pub(crate) fn java_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// How numbers are written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Numbers {
    /// As Avro's Jackson reads them: integers exact, anything with a fraction or an exponent as a Java `double`.
    Double,
    /// As Confluent's JSON Schema mapper reads them: integers exact, the others as Java `BigDecimal`s.
    Decimal,
}

/// Writes `node` as compact JSON, the way Jackson writes a tree.
pub(crate) fn write(node: &Node<'_>, numbers: Numbers, out: &mut String) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(n) => write_number(n, numbers, out),
        Node::Float(value) => match numbers {
            Numbers::Double => java_double(*value, out),
            // Not read in one pass (`needs_literals`); the shortest spelling of the double, as a last resort.
            Numbers::Decimal => write_number(&format!("{value:?}"), numbers, out),
        },
        Node::String(s) => write_string(s, out),
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, numbers, out);
            }
            out.push(']');
        }
        Node::Object(members) => {
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(value, numbers, out);
            }
            out.push('}');
        }
    }
}

/// A number literal as Jackson writes the value it reads from it.
pub(crate) fn write_number(literal: &str, numbers: Numbers, out: &mut String) {
    if !literal.contains(['.', 'e', 'E']) {
        // Integers keep their digits (Jackson reads them as int, long or BigInteger); "-0" is 0.
        let digits = literal.trim_start_matches('-').trim_start_matches('0');
        if digits.is_empty() {
            out.push('0');
        } else {
            if literal.starts_with('-') {
                out.push('-');
            }
            out.push_str(digits);
        }
        return;
    }
    match numbers {
        Numbers::Double => match literal.parse::<f64>() {
            Ok(value) => java_double(value, out),
            Err(_) => out.push_str(literal),
        },
        // A scale past Java's 32 bits is a literal no `BigDecimal` holds: written as it came.
        Numbers::Decimal => match Decimal::parse(literal) {
            Some(parts) => parts.write_big_decimal(out),
            None => out.push_str(literal),
        },
    }
}

/// Java's `Double.toString`: plain from 10^-3 up to 10^7, else computerized scientific notation (`1.0E7`), with the
/// fewest digits that read back as the same double.
pub(crate) fn java_double(value: f64, out: &mut String) {
    if !value.is_finite() {
        // Jackson quotes what JSON has no number for.
        out.push_str(if value.is_nan() {
            "\"NaN\""
        } else if value < 0.0 {
            "\"-Infinity\""
        } else {
            "\"Infinity\""
        });
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    if value == 0.0 {
        out.push_str("0.0");
        return;
    }
    let scientific = format!("{:e}", value.abs());
    // Rust writes the shortest digits as `d.ddde±x`.
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-3..7).contains(&exponent) {
        if exponent >= 0 {
            let point = exponent as usize + 1;
            if digits.len() > point {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            } else {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        let _ = write!(out, "E{exponent}");
    }
}

/// The double a Java `float` is written as: the one with the float's shortest digits, so that [`java_double`]
/// writes what Java's `Float.toString` writes (the same layout, those digits).
pub(crate) fn float_as_double(value: f32) -> f64 {
    format!("{value:e}").parse().unwrap_or(f64::from(value))
}

/// A JSON number literal taken apart: sign, digits without the point, and the power of ten they are scaled by.
struct Decimal<'a> {
    negative: bool,
    /// Integer and fraction digits together.
    digits: Cow<'a, str>,
    /// The value is `digits × 10^-scale`; within Java's 32 bits.
    scale: i64,
}

impl<'a> Decimal<'a> {
    fn parse(literal: &'a str) -> Option<Decimal<'a>> {
        let (negative, rest) = match literal.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, literal),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let exponent: i64 = match exponent {
            Some(e) => e.strip_prefix('+').unwrap_or(e).parse().ok()?,
            None => 0,
        };
        let scale = i64::try_from(fraction.len()).ok()?.checked_sub(exponent).filter(|s| i32::try_from(*s).is_ok())?;
        let digits = if fraction.is_empty() { Cow::Borrowed(whole) } else { Cow::Owned(format!("{whole}{fraction}")) };
        Some(Decimal { negative, digits, scale })
    }

    /// Java's `BigDecimal.toString` of the value with its scale.
    fn write_big_decimal(&self, out: &mut String) {
        let trimmed = self.digits.trim_start_matches('0');
        let digits = if trimmed.is_empty() { "0" } else { trimmed };
        if self.negative && digits != "0" {
            out.push('-');
        }
        let count = digits.len() as i64;
        let adjusted = -self.scale + (count - 1);
        if self.scale >= 0 && adjusted >= -6 {
            if self.scale == 0 {
                out.push_str(digits);
            } else if count > self.scale {
                let point = (count - self.scale) as usize;
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (self.scale - count) as usize));
                out.push_str(digits);
            }
        } else {
            out.push_str(&digits[..1]);
            if count > 1 {
                out.push('.');
                out.push_str(&digits[1..]);
            }
            out.push('E');
            if adjusted > 0 {
                out.push('+');
            }
            let _ = write!(out, "{adjusted}");
        }
    }
}

/// Writes `s` as a JSON string as Jackson does: only `"`, `\` and control characters escaped (`\uXXXX` in upper
/// case where there is no short form); everything else as it is.
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    // Most strings hold no control character: then only quotes and backslashes need escaping, found by `memchr`,
    // and the runs between them are copied whole.
    // (A fold, not `any`: without the early exit the compiler checks many bytes at a time.)
    if !bytes.iter().fold(false, |control, &byte| control | (byte < 0x20)) {
        for at in memchr::memchr2_iter(b'"', b'\\', bytes) {
            out.push_str(&s[start..at]);
            out.push_str(if bytes[at] == b'"' { "\\\"" } else { "\\\\" });
            start = at + 1;
        }
        out.push_str(&s[start..]);
        out.push('"');
        return;
    }
    for (at, &byte) in bytes.iter().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..at]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04X}");
        } else {
            out.push_str(escape);
        }
        start = at + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(text: &str) -> String {
        let mut out = String::new();
        write_number(text, Numbers::Double, &mut out);
        out
    }

    fn decimal(text: &str) -> String {
        let mut out = String::new();
        write_number(text, Numbers::Decimal, &mut out);
        out
    }

    /// A key given twice keeps its last value at its first position, in a small object (scanned) and in a large
    /// one (indexed once it passes `INDEXED_MEMBERS`), at every depth.
    #[test]
    fn a_repeated_key_keeps_its_first_position_and_last_value() {
        for width in [3, INDEXED_MEMBERS, INDEXED_MEMBERS + 5, 200] {
            let keys: Vec<String> = (0..width).map(|i| format!("\"k{i}\":{i}")).collect();
            let text = format!("{{{},\"k1\":\"last\",\"n\":{{{},\"k0\":true}}}}", keys.join(","), keys.join(","));
            let (written, _) = super::super::json::canonical_text(&text, false, false).unwrap();
            let mut expected: Vec<String> = keys.clone();
            expected[1] = "\"k1\":\"last\"".into();
            let mut nested: Vec<String> = keys.clone();
            nested[0] = "\"k0\":true".into();
            assert_eq!(written, format!("{{{},\"n\":{{{}}}}}", expected.join(","), nested.join(",")), "width {width}");
        }
    }

    #[test]
    fn numbers_are_written_as_java_reads_them() {
        let cases = [
            ("0", "0", "0"),
            ("-0", "0", "0"),
            ("12", "12", "12"),
            ("123456789012345678901234567890", "123456789012345678901234567890", "123456789012345678901234567890"),
            ("1.0", "1.0", "1.0"),
            ("1.50", "1.5", "1.50"),
            ("1e3", "1000.0", "1E+3"),
            ("1.5e3", "1500.0", "1.5E+3"),
            ("1e20", "1.0E20", "1E+20"),
            ("0.0001", "1.0E-4", "0.0001"),
            ("0.001", "0.001", "0.001"),
            ("0.0000001", "1.0E-7", "1E-7"),
            ("-0.0", "-0.0", "0.0"),
            ("1234567.0", "1234567.0", "1234567.0"),
            ("12345678.9", "1.23456789E7", "12345678.9"),
            ("3.141592653589793", "3.141592653589793", "3.141592653589793"),
            ("1E-2", "0.01", "0.01"),
            ("0e2", "0.0", "0E+2"),
            ("-2.50e-1", "-0.25", "-0.250"),
            ("1e-9223372036854775808", "0.0", "1e-9223372036854775808"),
            ("1.5e-9223372036854775807", "0.0", "1.5e-9223372036854775807"),
            ("1e400", "\"Infinity\"", "1E+400"),
            ("-1e400", "\"-Infinity\"", "-1E+400"),
        ];
        for (text, as_double, as_decimal) in cases {
            assert_eq!(double(text), as_double, "{text} as a double");
            assert_eq!(decimal(text), as_decimal, "{text} as a BigDecimal");
        }
    }

    #[test]
    fn floats_are_written_as_java_does() {
        let mut out = String::new();
        java_double(float_as_double(std::f64::consts::PI as f32), &mut out);
        assert_eq!(out, "3.1415927");
        out.clear();
        java_double(float_as_double(1.0), &mut out);
        assert_eq!(out, "1.0");
        for (value, java) in [(1e-4f32, "1.0E-4"), (f32::MAX, "3.4028235E38"), (f32::NAN, "\"NaN\"")] {
            out.clear();
            java_double(float_as_double(value), &mut out);
            assert_eq!(out, java, "{value}");
        }
        // The double keeps the float's shortest digits, across the float range.
        for bits in (0..u32::MAX).step_by(7_919_993) {
            let value = f32::from_bits(bits);
            if value.is_finite() {
                assert_eq!(format!("{:e}", float_as_double(value)), format!("{value:e}"), "{value}");
            }
        }
    }

    /// The one-pass read writes what the level-by-level read writes, wherever it is taken.
    #[test]
    fn both_reads_write_the_same_text() {
        let texts = [
            r#"{"a":1,"b":-2,"c":1.50,"d":1e3,"e":[0,-0,-0.0,3.141592653589793,1E-7],"f":{"g":"h\"é\u0001"}}"#,
            r#"[true,false,null,{"e":"1e5","x.y":12345678901234567}]"#,
            r#"{"type":"record","name":"R","fields":[{"name":"f","type":"double","default":0.1}]}"#,
        ];
        for text in texts {
            for numbers in [Numbers::Double, Numbers::Decimal] {
                let raw: &RawValue = serde_json::from_str(text).unwrap();
                let (mut slow, mut one_pass) = (String::new(), String::new());
                write(&Node::from_raw(raw).unwrap(), numbers, &mut slow);
                let fast: Node<'_> = serde_json::from_str(text).unwrap();
                if !needs_literals(text, numbers) {
                    write(&fast, numbers, &mut one_pass);
                    assert_eq!(one_pass, slow, "{text} ({numbers:?})");
                }
                let mut chosen = String::new();
                write(&Node::parse(text, numbers).unwrap(), numbers, &mut chosen);
                assert_eq!(chosen, slow, "{text} ({numbers:?})");
            }
        }
        assert!(needs_literals(r#"{"a":12345678901234567890}"#, Numbers::Double));
        assert!(!needs_literals(r#"{"a.b":"1.5e3","t":true}"#, Numbers::Decimal));
        assert!(needs_literals(r#"{"a":1e3}"#, Numbers::Decimal));
    }

    /// A tree read as decimals gives the value `serde_json` reads from the same text, or nothing where `serde_json`
    /// refuses a number; over numbers in every spelling, repeated keys and escapes.
    #[test]
    fn a_tree_gives_the_value_serde_json_reads() {
        let numbers = [
            "0",
            "-0",
            "-0.0",
            "12",
            "-12",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "1.0",
            "1.50",
            "1e3",
            "1E+3",
            "1.5e-3",
            "1e20",
            "0.1",
            "3.141592653589793",
            "1e-9223372036854775808",
            "2.2250738585072014e-308",
            "1e400",
            "-1e400",
            "1.7976931348623157e308",
            "0e2",
        ];
        let mut texts: Vec<String> = numbers.iter().map(|n| format!(r#"{{"n":{n},"a":[{n},{{"m":{n}}}]}}"#)).collect();
        texts.extend(numbers.iter().map(|n| n.to_string()));
        texts.push(r#"{"b":1,"a":2,"b":{"c":"\u00e9\ud83d\ude00\n"},"a":[]}"#.into());
        texts.push(r#"[null,true,false,"",{},[],{"":""}]"#.into());
        for text in &texts {
            let expected: Result<serde_json::Value, _> = serde_json::from_str(text);
            let node = Node::parse(text, Numbers::Decimal).unwrap();
            assert_eq!(node.to_value(), expected.ok(), "{text}");
        }
    }

    fn json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "[a-z.\"\\\\é0-9 ]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[a-c]{1,2}", inner), 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whichever read `Node::parse` takes, it writes what the level-by-level read writes.
        #[test]
        fn the_chosen_read_writes_what_the_literal_read_writes(value in json()) {
            let text = value.to_string();
            for numbers in [Numbers::Double, Numbers::Decimal] {
                let raw: &RawValue = serde_json::from_str(&text).unwrap();
                let (mut literal, mut chosen) = (String::new(), String::new());
                write(&Node::from_raw(raw).unwrap(), numbers, &mut literal);
                write(&Node::parse(&text, numbers).unwrap(), numbers, &mut chosen);
                proptest::prop_assert_eq!(chosen, literal);
            }
            let tree = Node::parse(&text, Numbers::Decimal).unwrap();
            proptest::prop_assert_eq!(tree.to_value(), Some(value));
        }
    }

    /// `write_string` as first written, a byte at a time: the reference its faster scan must agree with.
    fn string_by_bytes(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn strings_are_escaped_as_a_byte_at_a_time(s in "[a\"\\\\\u{0}-\u{1f}é\u{2028}/ ]{0,40}") {
            // As drawn (mostly with control characters) and without them (the scan by `memchr`).
            let plain: String = s.chars().filter(|c| *c as u32 >= 0x20).collect();
            for s in [s, plain] {
                let mut out = String::new();
                write_string(&s, &mut out);
                proptest::prop_assert_eq!(out, string_by_bytes(&s));
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_jackson_does() {
        let mut out = String::new();
        write_string("a\"b\\c\n\u{1}\u{1f}/\u{7f}é\u{2028}", &mut out);
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\\u001F/\u{7f}é\u{2028}\"");
    }

    #[test]
    fn objects_keep_their_order_and_a_repeated_key_its_last_value_at_its_first_place() {
        let text = r#" { "b" : 1, "a\u0041": [true, null, "x"], "b": 2.50 } "#;
        let node = Node::parse(text, Numbers::Decimal).unwrap();
        // Read in one pass, the same tree but for the number's spelling.
        assert!(matches!(Node::parse(text, Numbers::Double).unwrap().get("b"), Some(Node::Float(f)) if *f == 2.5));
        let mut out = String::new();
        write(&node, Numbers::Decimal, &mut out);
        assert_eq!(out, r#"{"b":2.50,"aA":[true,null,"x"]}"#);
        out.clear();
        write(&node.sorted(), Numbers::Double, &mut out);
        assert_eq!(out, r#"{"aA":[true,null,"x"],"b":2.5}"#);
    }
}
