//! Data contracts: rule sets well formed or not (`tests/contracts/rule_sets.json`), merges of metadata and rule
//! sets (`merges.json`), and schema GUIDs (`guids.json`, expected values computed outside this project).

use registry_core::contract::{Metadata, RuleSet};
use registry_core::{SchemaGuid, SchemaReference, Subject, Version};
use serde_json::Value;

fn cases(file: &str) -> Value {
    let path = format!("{}/tests/contracts/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

/// `"REPEAT:a:256"` in a case stands for `a` 256 times.
fn expand(value: &Value) -> Value {
    match value {
        Value::String(s) => match s.strip_prefix("REPEAT:").and_then(|rest| rest.split_once(':')) {
            Some((unit, count)) => Value::String(unit.repeat(count.parse().expect("a count"))),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn rule_sets_are_checked_as_confluent_checks_them() {
    let file = cases("rule_sets.json");
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let rule_set: RuleSet =
            serde_json::from_value(expand(&case["ruleSet"])).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = rule_set.validate().err().map(|e| e.message);
        assert_eq!(got.as_deref(), case["error"].as_str(), "{name}");
    }
    for case in file["unreadable"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        assert!(serde_json::from_value::<RuleSet>(case["ruleSet"].clone()).is_err(), "{name} was read");
    }
}

#[test]
fn a_rule_set_reads_back_as_it_was_written_with_defaults_filled_in() {
    let sent =
        serde_json::json!({"domainRules": [{"name": "r", "type": "CEL", "tags": ["b", "a", "b"], "disabled": false}]});
    let rule_set: RuleSet = serde_json::from_value(sent).unwrap();
    let written = serde_json::to_value(&rule_set).unwrap();
    assert_eq!(
        written,
        serde_json::json!({"domainRules": [{"name": "r", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "CEL", "tags": ["a", "b"], "disabled": false}]})
    );
    assert_eq!(serde_json::from_value::<RuleSet>(written).unwrap(), rule_set);
}

#[test]
fn metadata_and_rule_sets_merge_as_confluent_merges_them() {
    let file = cases("merges.json");
    let read = |v: &Value| (!v.is_null()).then(|| v.clone());
    for case in file["metadata"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let parse = |v: &Value| read(v).map(|v| serde_json::from_value::<Metadata>(v).unwrap());
        let merged = Metadata::merge(parse(&case["old"]).as_ref(), parse(&case["new"]).as_ref());
        assert_eq!(merged, parse(&case["merged"]), "{name}");
    }
    for case in file["ruleSets"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let parse = |v: &Value| read(v).map(|v| serde_json::from_value::<RuleSet>(v).unwrap());
        let merged = RuleSet::merge(parse(&case["old"]).as_ref(), parse(&case["new"]).as_ref());
        assert_eq!(merged, parse(&case["merged"]), "{name}");
    }
}

#[test]
fn schema_guids_are_derived_as_confluent_derives_them() {
    for case in cases("guids.json")["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let references: Vec<SchemaReference> = case["references"]
            .as_array()
            .map(|refs| {
                refs.iter()
                    .map(|r| SchemaReference {
                        name: r["name"].as_str().unwrap().into(),
                        subject: Subject::new(r["subject"].as_str().unwrap()).unwrap(),
                        version: Version::new(r["version"].as_u64().unwrap() as u32).unwrap(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let metadata: Option<Metadata> = case.get("metadata").map(|m| serde_json::from_value(m.clone()).unwrap());
        let rule_set: Option<RuleSet> = case.get("ruleSet").map(|r| serde_json::from_value(r.clone()).unwrap());
        let guid =
            SchemaGuid::compute(case["schema"].as_str().unwrap(), &references, metadata.as_ref(), rule_set.as_ref());
        assert_eq!(guid.to_string(), case["guid"].as_str().unwrap(), "{name}");
        assert_eq!(guid.to_string().parse::<SchemaGuid>(), Ok(guid), "{name}: read back");
    }
}

#[test]
fn guids_are_read_in_either_spelling_and_nothing_else() {
    let guid: SchemaGuid = "2809284b-6e54-d0d3-4017-715ffe5636bd".parse().unwrap();
    assert_eq!("2809284B-6E54-D0D3-4017-715FFE5636BD".parse(), Ok(guid));
    assert_eq!("2809284b6e54d0d34017715ffe5636bd".parse(), Ok(guid));
    for bad in [
        "",
        "2809284b-6e54-d0d3-4017-715ffe5636b",
        "2809284b-6e54-d0d3-4017-715ffe5636bdd",
        "2809284b6e54-d0d3-4017-715ffe5636bd-",
        "2809284b-6e54-d0d3-4017-715ffe5636bg",
        "+809284b-6e54-d0d3-4017-715ffe5636bd",
        "2809284b-6e54-d0d3-4017-715ffe5636é",
        "1",
    ] {
        assert!(bad.parse::<SchemaGuid>().is_err(), "{bad:?} was read");
    }
}

/// A schema without a contract keeps the fingerprint it had before contracts existed (stores hold these), and
/// any contract, even an empty one, makes another schema.
#[test]
fn a_contract_is_part_of_the_fingerprint_and_no_contract_changes_nothing() {
    use registry_core::contract::DataContract;
    use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema, parse};
    let fingerprint = |contract: DataContract| {
        let schema = UnparsedSchema::new(SchemaType::Avro, r#"{"type": "int"}"#).with_contract(contract);
        parse(&schema, &NoReferences, &Limits::default()).unwrap().fingerprint().to_hex()
    };
    let none = fingerprint(DataContract::default());
    // SHA-256 over the length-prefixed tag, format, canonical form (`"int"`) and reference count, as the code before
    // contracts computed it.
    assert_eq!(none, "51b77a564163443ae721758d8e0ec795f8fefeece115338e16118c5de5802547");
    let empty_metadata = fingerprint(DataContract { metadata: Some(Metadata::default()), rule_set: None });
    let empty_rules = fingerprint(DataContract { metadata: None, rule_set: Some(RuleSet::default()) });
    let both = fingerprint(DataContract { metadata: Some(Metadata::default()), rule_set: Some(RuleSet::default()) });
    let all = [&none, &empty_metadata, &empty_rules, &both];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

/// A contract counts against the schema size limit, and a new schema's rule set is checked when it is parsed
/// (a stored one is read as it was stored).
#[test]
fn a_contract_is_bounded_and_its_rules_checked_on_parse() {
    use registry_core::contract::DataContract;
    use registry_core::{Limits, NoReferences, SchemaError, SchemaType, UnparsedSchema, parse, parse_stored};
    let limits = Limits { max_schema_bytes: 200, ..Limits::default() };
    let metadata = |value: &str| DataContract {
        metadata: Some(Metadata { properties: [("k".into(), value.into())].into(), ..Metadata::default() }),
        rule_set: None,
    };
    let schema = |contract| UnparsedSchema::new(SchemaType::Avro, r#""int""#).with_contract(contract);
    parse(&schema(metadata(&"v".repeat(100))), &NoReferences, &limits).expect("fits");
    let error = parse(&schema(metadata(&"v".repeat(200))), &NoReferences, &limits).unwrap_err();
    assert!(matches!(error, SchemaError::TooLarge { max: 200, .. }), "{error}");

    let bad: RuleSet = serde_json::from_value(serde_json::json!({"domainRules": [{"name": "r"}]})).unwrap();
    let with_bad_rules = schema(DataContract { metadata: None, rule_set: Some(bad) });
    let error = parse(&with_bad_rules, &NoReferences, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::InvalidRuleSet(e) if e.message == "Missing rule type"), "{error}");
    parse_stored(&with_bad_rules, &NoReferences, &Limits::default()).expect("a stored schema is read as stored");
}
