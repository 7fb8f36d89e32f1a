//! The Protobuf validator accepts plainly written documents with an allocation-free walk and leaves everything
//! else to `prost-reflect`. This checks the walk never accepts what `prost-reflect` refuses: on thousands of
//! generated documents (plain values of every field type, mixed with every unusual form the proto3 JSON mapping
//! allows or forbids: numbers as strings, fractions, nulls, enum numbers, map keys with signs or leading zeros,
//! one field under both names, two members of a oneof, unknown fields, well-known types) the validator's verdict is
//! exactly `prost-reflect`'s. (A unit test: it reads the compiled descriptor pool, which the crate does not expose.)

use crate::format::FormatSchema;
use crate::{Limits, NoReferences, SchemaType, UnparsedSchema, ValidateOptions, Validator, parse};
use base64::Engine;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

const PROTO: &str = r#"syntax = "proto3";
package p;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Root {
  int32 i32 = 1;
  int64 i64 = 2;
  uint32 u32 = 3;
  uint64 u64 = 4;
  sint32 s32 = 5;
  sfixed64 sf64 = 6;
  fixed32 f32 = 7;
  float fl = 8;
  double db = 9;
  bool flag = 10;
  string text = 11;
  bytes blob = 12;
  Color color = 13;
  repeated int32 list = 14;
  repeated Child children = 15;
  map<string, int32> counts = 16;
  map<int64, string> names = 17;
  map<bool, Child> flags = 18;
  map<uint32, Color> colors = 19;
  Child child = 20;
  oneof choice {
    string pick_a = 21;
    int32 pick_b = 22;
    Child pick_c = 23;
  }
  string snake_name = 24;
  google.protobuf.Timestamp at = 25;
  google.protobuf.Int64Value wrapped = 26;
  repeated Color palette = 27;
}

message Child {
  string label = 1;
  repeated Child kids = 2;
  int64 big_number = 3;
  float ratio_value = 4;
}

enum Color {
  COLOR_UNSPECIFIED = 0;
  RED = 1;
  GREEN = 2;
}
"#;

/// xorshift64*: the documents are a pure function of the case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Values that are valid somewhere and invalid elsewhere, or valid only in an unusual spelling.
fn unusual(rng: &mut Rng) -> Value {
    let strings = [
        "",
        "x",
        "12",
        "+5",
        "-0",
        "007",
        "1e2",
        "1.0",
        "1.5",
        "NaN",
        "Infinity",
        "-Infinity",
        "RED",
        "BLUE",
        "COLOR_UNSPECIFIED",
        "aGVsbG8=",
        "aGVsbG8",
        "aGV-bG8_",
        "a",
        "2024-01-01T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "true",
        "9223372036854775808",
        "18446744073709551616",
        " 1",
        "4294967296",
        "-2147483649",
    ];
    match rng.below(16) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.next() as i64),
        3 => json!(rng.next()),
        4 => json!(rng.below(5) as i64 - 2),
        5 => json!(*rng.pick(&[4_294_967_295_u64, 4_294_967_296, 2_147_483_648, 9_223_372_036_854_775_808])),
        6 => json!(*rng.pick(&[1.0, 1.5, -0.0, 1e20, 3.5e38, 1e300, -2.5, 2_147_483_647.0])),
        7 => json!([]),
        8 => json!({}),
        9 => json!([1, "a", null]),
        _ => json!(*rng.pick(&strings)),
    }
}

fn plain(kind: &Kind, rng: &mut Rng, depth: usize) -> Value {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!(rng.next() as i32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 if rng.chance(50) => json!((rng.next() as i64).to_string()),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!(rng.next() as i64),
        Kind::Uint64 | Kind::Fixed64 if rng.chance(50) => json!(rng.next().to_string()),
        Kind::Uint32 | Kind::Fixed32 => json!(rng.next() as u32),
        Kind::Uint64 | Kind::Fixed64 => json!(rng.next()),
        Kind::Float | Kind::Double if rng.chance(5) => json!(rng.pick(&["NaN", "Infinity", "-Infinity"])),
        Kind::Float => json!(f64::from((rng.next() as i32) as f32 / 8.0)),
        Kind::Double => json!((rng.next() as i64) as f64 / 1024.0),
        Kind::Bool => json!(rng.chance(50)),
        Kind::String => json!(format!("s{}", rng.below(1000))),
        Kind::Bytes => {
            let bytes: Vec<u8> = (0..rng.below(8)).map(|_| rng.next() as u8).collect();
            json!(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Kind::Enum(e) => json!(rng.pick(&e.values().map(|v| v.name().to_string()).collect::<Vec<_>>())),
        Kind::Message(m) if m.full_name() == "google.protobuf.Timestamp" => json!("2024-05-06T07:08:09Z"),
        Kind::Message(m) if m.full_name() == "google.protobuf.Int64Value" => json!(rng.next() as i64),
        Kind::Message(m) => document(m, rng, depth + 1),
    }
}

fn map_key(kind: &Kind, rng: &mut Rng) -> String {
    if rng.chance(15) {
        return rng.pick(&["+1", "01", "-0", "x", "true", "1.5", "", "4294967296", "-1"]).to_string();
    }
    match kind {
        Kind::Bool => rng.pick(&["true", "false"]).to_string(),
        Kind::String => format!("k{}", rng.below(100)),
        Kind::Uint32 | Kind::Fixed32 | Kind::Uint64 | Kind::Fixed64 => rng.below(1000).to_string(),
        _ => (rng.below(2000) as i64 - 1000).to_string(),
    }
}

fn field_value(field: &FieldDescriptor, rng: &mut Rng, depth: usize) -> Value {
    if rng.chance(12) {
        return unusual(rng);
    }
    let kind = field.kind();
    if field.is_map() {
        let Kind::Message(entry) = &kind else { unreachable!("a map field's kind is its entry message") };
        let (key, value) = (entry.map_entry_key_field().kind(), entry.map_entry_value_field().kind());
        let mut map = Map::new();
        for _ in 0..rng.below(3) {
            let item = if rng.chance(8) { unusual(rng) } else { plain(&value, rng, depth) };
            map.insert(map_key(&key, rng), item);
        }
        return Value::Object(map);
    }
    if field.is_list() {
        return Value::Array(
            (0..rng.below(3)).map(|_| if rng.chance(8) { unusual(rng) } else { plain(&kind, rng, depth) }).collect(),
        );
    }
    plain(&kind, rng, depth)
}

/// A document for `message`: a random subset of its fields, now and then under its other name, under both, with
/// two members of a oneof, or with a field it does not have.
fn document(message: &MessageDescriptor, rng: &mut Rng, depth: usize) -> Value {
    let mut object = Map::new();
    if depth > 3 {
        return Value::Object(object);
    }
    for field in message.fields() {
        if !rng.chance(if depth == 0 { 40 } else { 30 }) {
            continue;
        }
        if field.containing_oneof().is_some() && object.keys().any(|k| k.starts_with("pick")) && !rng.chance(20) {
            continue;
        }
        let value = field_value(&field, rng, depth);
        let name = if rng.chance(30) { field.name() } else { field.json_name() };
        if rng.chance(4) {
            object.insert(field.name().to_string(), value.clone());
            object.insert(field.json_name().to_string(), value);
        } else {
            object.insert(name.to_string(), value);
        }
    }
    if rng.chance(4) {
        object.insert("unknownField".to_string(), json!(1));
    }
    Value::Object(object)
}

#[test]
fn the_validator_agrees_with_prost_reflect_on_generated_documents() {
    let schema = UnparsedSchema::new(SchemaType::Protobuf, PROTO);
    let parsed = parse(&schema, &NoReferences, &Limits::default()).expect("the test schema parses");
    let FormatSchema::Protobuf(proto) = parsed.kind() else { panic!("a Protobuf schema") };
    let root = proto.pool().get_message_by_name("p.Root").expect("p.Root");
    let validator = Validator::compile(&parsed, &ValidateOptions::default()).expect("compiles");

    let (mut valid, mut invalid) = (0, 0);
    for case in 0..6000_u64 {
        let mut rng = Rng(case.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let data = document(&root, &mut rng, 0);
        let expected = DynamicMessage::deserialize(root.clone(), &data);
        let report = validator.validate(&data);
        assert_eq!(
            report.valid,
            expected.is_ok(),
            "case {case}: the validator says {} but prost-reflect says {:?} for {data}",
            report.valid,
            expected.err().map(|e| e.to_string())
        );
        if report.valid { valid += 1 } else { invalid += 1 }
    }
    // Both verdicts are well represented, so the walk's acceptances and its refusals are both exercised.
    assert!(valid >= 1000 && invalid >= 1000, "{valid} valid and {invalid} invalid documents");
}
