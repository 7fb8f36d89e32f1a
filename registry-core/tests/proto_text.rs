//! `.proto` rendering of descriptors: for each source, render the compiled descriptor and compile the result;
//! both must have the same identity (so a schema sent as a descriptor and fetched as text stays the same).

use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema, parse};

const SOURCES: &[&str] = &[
    "syntax = \"proto3\";\npackage a.b;\nmessage M { string s = 1; int64 n = 2; repeated bytes r = 3; }",
    "syntax = \"proto3\";\nmessage M { map<string, int32> counts = 1; map<int64, M> children = 2; }",
    "syntax = \"proto3\";\nmessage M { oneof kind { string a = 1; int32 b = 2; } optional bool flag = 3; double d = 4; }",
    "syntax = \"proto3\";\nmessage Outer { message Inner { enum E { X = 0; Y = 1; } E e = 1; } Inner inner = 1; Outer.Inner.E e = 2; }",
    "syntax = \"proto2\";\nmessage M { required int32 id = 1; optional string name = 2 [default = \"a \\\"b\\\"\"]; optional int32 n = 3 [default = -7]; repeated int32 packed = 4 [packed = true]; extensions 100 to 199; }\nextend M { optional int32 ext = 100; }",
    "syntax = \"proto3\";\nenum Color { option allow_alias = true; RED = 0; CRIMSON = 0; BLUE = 1 [deprecated = true]; reserved 5, 7 to 9; reserved \"GREEN\"; }\nmessage M { Color c = 1; reserved 2, 10 to 12; reserved \"old\"; string user_name = 3 [json_name = \"login\"]; }",
    "syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\noption java_package = \"com.acme\";\noption go_package = \"acme/pb\";\nmessage Event { google.protobuf.Timestamp at = 1; }\nservice Events { rpc Get(Event) returns (Event); rpc Watch(stream Event) returns (stream Event); }",
];

fn compile(text: &str) -> registry_core::ParsedSchema {
    parse(&UnparsedSchema::new(SchemaType::Protobuf, text), &NoReferences, &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn rendered_descriptors_compile_to_the_same_identity() {
    for source in SOURCES {
        let parsed = compile(source);
        let rendered = parsed.protobuf_source().expect("a Protobuf schema");
        let again = compile(&rendered);
        assert_eq!(
            parsed.fingerprint(),
            again.fingerprint(),
            "identity changed through rendering:\n{source}\n--- rendered ---\n{rendered}"
        );
    }
}
