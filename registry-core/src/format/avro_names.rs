//! apache-avro's name checks without its regex engine, for a binary to install.
//!
//! apache-avro checks every schema name, namespace, enum symbol and field name against the Avro specification's
//! regexes, matched by `regex_lite`'s backtracking-free but slow engine: a few percent of a server's CPU under new
//! Avro registrations. [`ScanningValidator`] applies the same rules with a scan of the bytes and gives the same
//! results and the same errors (the tests below hold it to the regexes). apache-avro keeps its validators in
//! process-wide slots that can be set once, before the first parse, so a library must leave them alone; a binary
//! that owns its process calls [`install_scanning_validators`] first thing.

use apache_avro::AvroResult;
use apache_avro::error::Details;
use apache_avro::schema::Namespace;
use apache_avro::validator::{
    EnumSymbolNameValidator, RecordFieldNameValidator, SchemaNameValidator, SchemaNamespaceValidator,
};

/// The Avro specification's name rules, checked by scanning (see the module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanningValidator;

/// Makes apache-avro use a scanning validator (a name check that allocates nothing) for every name check in this
/// process. Returns `false` if a validator was already in place (set before, or a schema was parsed first), which
/// then stays.
pub fn install_scanning_validators() -> bool {
    let names = apache_avro::validator::set_schema_name_validator(Box::new(ScanningValidator)).is_ok();
    let namespaces = apache_avro::validator::set_schema_namespace_validator(Box::new(ScanningValidator)).is_ok();
    let symbols = apache_avro::validator::set_enum_symbol_name_validator(Box::new(ScanningValidator)).is_ok();
    let fields = apache_avro::validator::set_record_field_name_validator(Box::new(ScanningValidator)).is_ok();
    names && namespaces && symbols && fields
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Empty, or names joined by dots.
fn is_namespace(namespace: &str) -> bool {
    namespace.is_empty() || namespace.split('.').all(is_name)
}

impl SchemaNameValidator for ScanningValidator {
    fn validate(&self, schema_name: &str) -> AvroResult<(String, Namespace)> {
        // The name is what follows the last dot; what precedes it, possibly nothing, is the namespace.
        let (namespace, name) = match schema_name.rfind('.') {
            Some(dot) => (Some(&schema_name[..dot]), &schema_name[dot + 1..]),
            None => (None, schema_name),
        };
        if is_name(name) && namespace.is_none_or(is_namespace) {
            return Ok((name.to_string(), namespace.map(str::to_string)));
        }
        let regex = SchemaNameValidator::regex(self).as_str();
        Err(Details::InvalidSchemaName(schema_name.to_string(), regex).into())
    }
}

impl SchemaNamespaceValidator for ScanningValidator {
    fn validate(&self, namespace: &str) -> AvroResult<()> {
        if is_namespace(namespace) {
            return Ok(());
        }
        let regex = SchemaNamespaceValidator::regex(self).as_str();
        Err(Details::InvalidNamespace(namespace.to_string(), regex).into())
    }
}

impl EnumSymbolNameValidator for ScanningValidator {
    fn validate(&self, symbol: &str) -> AvroResult<()> {
        if is_name(symbol) { Ok(()) } else { Err(Details::EnumSymbolName(symbol.to_string()).into()) }
    }
}

impl RecordFieldNameValidator for ScanningValidator {
    fn validate(&self, field_name: &str) -> AvroResult<()> {
        if is_name(field_name) { Ok(()) } else { Err(Details::FieldName(field_name.to_string()).into()) }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What apache-avro's own validators answer: its regexes (the traits' default `regex`), used as it uses them.
    fn by_regex(text: &str) -> [Result<String, ()>; 4] {
        let v = ScanningValidator;
        let name = SchemaNameValidator::regex(&v)
            .captures(text)
            .map(|caps| format!("{}|{:?}", &caps["name"], caps.name("namespace").map(|m| m.as_str())))
            .ok_or(());
        let matches = |yes: bool| if yes { Ok(String::new()) } else { Err(()) };
        [
            name,
            matches(SchemaNamespaceValidator::regex(&v).is_match(text)),
            matches(EnumSymbolNameValidator::regex(&v).is_match(text)),
            matches(RecordFieldNameValidator::regex(&v).is_match(text)),
        ]
    }

    fn by_scan(text: &str) -> [Result<String, ()>; 4] {
        let v = ScanningValidator;
        let name = SchemaNameValidator::validate(&v, text)
            .map(|(name, namespace)| format!("{name}|{namespace:?}"))
            .map_err(drop);
        let ok = |result: AvroResult<()>| result.map(|()| String::new()).map_err(drop);
        [
            name,
            ok(SchemaNamespaceValidator::validate(&v, text)),
            ok(EnumSymbolNameValidator::validate(&v, text)),
            ok(RecordFieldNameValidator::validate(&v, text)),
        ]
    }

    #[test]
    fn the_scan_answers_as_the_regexes_do_on_chosen_names() {
        let cases = [
            "",
            "a",
            "_",
            "A1",
            "1a",
            "a.b",
            "a.b.C",
            ".B",
            "..B",
            "a..B",
            "a.",
            ".",
            "a.1b",
            "a.b_2.C3",
            "é",
            "a-b",
            "a b",
            "a\n",
            "\na",
            "a.b\n",
            "com.example.Event",
            "_._._",
            "a.$b",
            "ab.",
            "A.B.C.D.E.F",
        ];
        let mut rejected = 0;
        for case in cases {
            let expected = by_regex(case);
            rejected += expected.iter().filter(|r| r.is_err()).count();
            assert_eq!(by_scan(case), expected, "{case:?}");
        }
        assert!(rejected >= 40, "the cases must include invalid names: {rejected}");
    }

    #[test]
    fn errors_carry_the_regex_apache_avro_would_name() {
        let v = ScanningValidator;
        let error = SchemaNameValidator::validate(&v, "1bad").expect_err("not a name").to_string();
        assert!(error.contains("1bad") && error.contains(SchemaNameValidator::regex(&v).as_str()), "{error}");
        let error = SchemaNamespaceValidator::validate(&v, "a..b").expect_err("not a namespace").to_string();
        assert!(error.contains(SchemaNamespaceValidator::regex(&v).as_str()), "{error}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn the_scan_answers_as_the_regexes_do(text in "[A-Za-z0-9_.$é \\n-]{0,10}") {
            prop_assert_eq!(by_scan(&text), by_regex(&text), "{:?}", text);
        }

        #[test]
        fn the_scan_answers_as_the_regexes_do_on_dotted_names(
            parts in prop::collection::vec("[A-Za-z_0-9]{0,3}", 0..5),
            lead in any::<bool>(),
        ) {
            let text = format!("{}{}", if lead { "." } else { "" }, parts.join("."));
            prop_assert_eq!(by_scan(&text), by_regex(&text), "{:?}", text);
        }
    }
}
