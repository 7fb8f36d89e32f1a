//! JSON as Confluent's registry (Java, Jackson) reads and writes it, for the canonical texts of Avro and JSON
//! Schema: a tree that keeps object keys in the order given and each number as it was written, and a compact
//! writer with Jackson's escaping and Java's number formats.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON value with its object members in input order and its numbers as written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    /// A number, as written in the text.
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members in input order; a key given twice keeps its last value at its first position, as Jackson does.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// Parses `text`, which must be one JSON value (`serde_json` checks it; nesting was bounded before).
    pub(crate) fn parse(text: &'a str) -> Result<Node<'a>, serde_json::Error> {
        let raw: &'a RawValue = serde_json::from_str(text)?;
        Node::from_raw(raw)
    }

    fn from_raw(raw: &'a RawValue) -> Result<Node<'a>, serde_json::Error> {
        let text = raw.get();
        Ok(match text.as_bytes().first() {
            Some(b'{') => {
                let Members(members) = serde_json::from_str(text)?;
                let mut object: Vec<(Cow<'a, str>, Node<'a>)> = Vec::with_capacity(members.len());
                for (key, value) in members {
                    let value = Node::from_raw(value)?;
                    match object.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = value,
                        None => object.push((key, value)),
                    }
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
    let Some(parts) = Decimal::parse(literal) else {
        out.push_str(literal);
        return;
    };
    if parts.integer {
        // Integers keep their digits (Jackson reads them as int, long or BigInteger); "-0" is 0.
        let digits = parts.digits.trim_start_matches('0');
        if digits.is_empty() {
            out.push('0');
        } else {
            if parts.negative {
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
        Numbers::Decimal => parts.write_big_decimal(out),
    }
}

/// Java's `Double.toString`: plain from 10^-3 up to 10^7, else computerized scientific notation (`1.0E7`), with the
/// fewest digits that read back as the same double.
pub(crate) fn java_double(value: f64, out: &mut String) {
    java_floating(format!("{value:e}"), value == 0.0, value.is_sign_negative(), value.is_finite(), out);
}

/// Java's `Float.toString`, likewise for a `float`.
pub(crate) fn java_float(value: f32, out: &mut String) {
    java_floating(format!("{value:e}"), value == 0.0, value.is_sign_negative(), value.is_finite(), out);
}

fn java_floating(scientific: String, zero: bool, negative: bool, finite: bool, out: &mut String) {
    if !finite {
        out.push_str(if scientific.starts_with("NaN") {
            "NaN"
        } else if negative {
            "-Infinity"
        } else {
            "Infinity"
        });
        return;
    }
    if negative {
        out.push('-');
    }
    if zero {
        out.push_str("0.0");
        return;
    }
    // Rust writes the shortest digits as `d.ddde±x`.
    let scientific = scientific.trim_start_matches('-');
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific, "0"));
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

/// A JSON number literal taken apart: sign, digits without the point, and the power of ten they are scaled by.
struct Decimal<'a> {
    negative: bool,
    /// Integer and fraction digits together.
    digits: Cow<'a, str>,
    /// The value is `digits × 10^-scale`.
    scale: i64,
    /// Written without a fraction or exponent.
    integer: bool,
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
        let integer = exponent == 0 && !mantissa.contains('.') && !rest.contains(['e', 'E']);
        let digits = if fraction.is_empty() { Cow::Borrowed(whole) } else { Cow::Owned(format!("{whole}{fraction}")) };
        Some(Decimal { negative, digits, scale: fraction.len() as i64 - exponent, integer })
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
    let mut start = 0;
    for (at, byte) in s.bytes().enumerate() {
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
        ];
        for (text, as_double, as_decimal) in cases {
            assert_eq!(double(text), as_double, "{text} as a double");
            assert_eq!(decimal(text), as_decimal, "{text} as a BigDecimal");
        }
    }

    #[test]
    fn floats_are_written_as_java_does() {
        let mut out = String::new();
        java_float(std::f64::consts::PI as f32, &mut out);
        assert_eq!(out, "3.1415927");
        out.clear();
        java_float(1.0, &mut out);
        assert_eq!(out, "1.0");
    }

    #[test]
    fn strings_are_escaped_as_jackson_does() {
        let mut out = String::new();
        write_string("a\"b\\c\n\u{1}\u{1f}/\u{7f}é\u{2028}", &mut out);
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\\u001F/\u{7f}é\u{2028}\"");
    }

    #[test]
    fn objects_keep_their_order_and_a_repeated_key_its_last_value_at_its_first_place() {
        let node = Node::parse(r#" { "b" : 1, "a\u0041": [true, null, "x"], "b": 2.50 } "#).unwrap();
        let mut out = String::new();
        write(&node, Numbers::Decimal, &mut out);
        assert_eq!(out, r#"{"b":2.50,"aA":[true,null,"x"]}"#);
        out.clear();
        write(&node.sorted(), Numbers::Double, &mut out);
        assert_eq!(out, r#"{"aA":[true,null,"x"],"b":2.5}"#);
    }
}
