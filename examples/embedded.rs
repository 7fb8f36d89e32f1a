//! Embedding the registry: open it in a temporary directory, register an Avro, a JSON Schema and a Protobuf
//! schema (one with a reference), evolve one compatibly and one incompatibly, and print what happens.
//!
//! Run: `cargo run -p registry-examples --example embedded`

use registry_core::{SchemaReference, SchemaType, Subject, UnparsedSchema, Version};
use registry_store::{Registry, RegistryError, RegistryOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let registry = Registry::open(dir.path().join("registry.redb"), RegistryOptions::default())?;
    println!("registry opened at {}", dir.path().display());

    // Avro.
    let orders = Subject::new("orders-value")?;
    let v1 = UnparsedSchema::new(
        SchemaType::Avro,
        r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"amount","type":"long"}]}"#,
    );
    let registered = registry.register(&orders, &v1)?;
    println!("avro     {orders}: id {} version {}", registered.id, registered.version);

    // JSON Schema.
    let users = Subject::new("users-value")?;
    let user = UnparsedSchema::new(
        SchemaType::Json,
        r#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#,
    );
    let registered = registry.register(&users, &user)?;
    println!("json     {users}: id {} version {}", registered.id, registered.version);

    // Protobuf, with a reference to another registered file.
    let money = Subject::new("money.proto")?;
    let money_proto = UnparsedSchema::new(
        SchemaType::Protobuf,
        "syntax = \"proto3\";\npackage shop;\nmessage Money { string currency = 1; int64 units = 2; }\n",
    );
    let registered = registry.register(&money, &money_proto)?;
    println!("protobuf {money}: id {} version {}", registered.id, registered.version);
    let payments = Subject::new("payments-value")?;
    let payment = UnparsedSchema::new(
        SchemaType::Protobuf,
        "syntax = \"proto3\";\npackage shop;\nimport \"money.proto\";\nmessage Payment { string id = 1; Money amount = 2; }\n",
    )
    .with_references(vec![SchemaReference {
        name: "money.proto".into(),
        subject: money.clone(),
        version: Version::FIRST,
    }]);
    let registered = registry.register(&payments, &payment)?;
    println!("protobuf {payments}: id {} version {} (imports money.proto)", registered.id, registered.version);

    // Evolve compatibly: a new field with a default reads old data (BACKWARD, the default level).
    let v2 = UnparsedSchema::new(
        SchemaType::Avro,
        r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"amount","type":"long"},{"name":"note","type":"string","default":""}]}"#,
    );
    let registered = registry.register(&orders, &v2)?;
    println!("avro     {orders}: evolved to version {} (id {})", registered.version, registered.id);

    // Registering the same schema again is deduplicated: same id, same version, nothing written.
    let again = registry.register(&orders, &v2)?;
    println!("avro     {orders}: same schema again -> version {} deduplicated={}", again.version, again.deduplicated);

    // Evolve incompatibly: narrowing `amount` from long to int cannot read old data.
    let v3 = UnparsedSchema::new(
        SchemaType::Avro,
        r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"amount","type":"int"},{"name":"note","type":"string","default":""}]}"#,
    );
    match registry.register(&orders, &v3) {
        Err(RegistryError::Incompatible { report, .. }) => {
            println!("avro     {orders}: refused at level {}:", report.level);
            for violation in &report.violations {
                println!("           {violation}");
            }
        }
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }
    Ok(())
}
