//! Search on every store: subjects found by name and by what their schemas declare or document, ranked exact
//! name > prefix > part > documentation, paged, filtered by format and state, and current after every write (another
//! instance's included).

use registry_core::{SchemaType, Subject, UnparsedSchema, Version, VersionSelector};
use registry_store::{Deletion, RegistryOptions, SearchQuery, VersionState};

mod support;

fn subject(name: &str) -> Subject {
    Subject::new(name).unwrap()
}

fn query(text: &str) -> SearchQuery {
    SearchQuery { text: text.into(), limit: 100, ..SearchQuery::default() }
}

/// Polls `seen` for as long as one instance may take to see another's change (`docs/scaling.md`'s bound).
fn eventually(mut seen: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(1) {
        if seen() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    seen()
}

fn found(results: &registry_store::SearchResults) -> Vec<(&str, u32)> {
    results.hits.iter().map(|hit| (hit.subject.as_str(), hit.score)).collect()
}

const ORDER: &str = r#"{"type":"record","name":"Order","doc":"A customer's order","fields":[{"name":"orderId","type":"long"},{"name":"customer","type":"string","doc":"Who placed it"}]}"#;
const CUSTOMER: &str = r##"{"title":"Customer","type":"object","properties":{"email":{"type":"string","description":"Where invoices go"}}}"##;
const PAYMENT: &str = "syntax = \"proto3\";\n// Paid by card or transfer\nmessage Payment { string order_ref = 1; }\n";

#[test]
fn search_ranks_pages_filters_and_stays_current() {
    support::backends().into_iter().for_each(search_ranks_pages_filters_and_stays_current_on);
}

fn search_ranks_pages_filters_and_stays_current_on(backend: support::Backend) {
    let registries = backend.instances(2, RegistryOptions::default());
    let (writer, reader) = (&registries[0], &registries[1]);
    writer.register(&subject("orders-value"), &UnparsedSchema::new(SchemaType::Avro, ORDER)).unwrap();
    writer.register(&subject("customer-value"), &UnparsedSchema::new(SchemaType::Json, CUSTOMER)).unwrap();
    writer.register(&subject("payments-value"), &UnparsedSchema::new(SchemaType::Protobuf, PAYMENT)).unwrap();

    // "customer": a JSON Schema title is documentation, an Avro field is a name, a subject name a prefix.
    let results = reader.search(&query("customer")).unwrap();
    assert_eq!(found(&results), [("orders-value", 100), ("customer-value", 50)], "{results:?}");
    let field = &results.hits[0].matches;
    assert!(field.iter().any(|m| m.kind == "name" && m.path.as_deref() == Some("/fields/1/name")), "{field:?}");
    // A name part, and documentation alone.
    assert_eq!(found(&reader.search(&query("order")).unwrap())[0], ("orders-value", 100));
    assert_eq!(found(&reader.search(&query("invoices")).unwrap()), [("customer-value", 10)]);
    // A Protobuf comment is not kept (the stored text is Confluent's printing of the file), so it finds nothing.
    assert_eq!(found(&reader.search(&query("transfer")).unwrap()), []);
    assert_eq!(found(&reader.search(&query("ORDER_REF")).unwrap()), [("payments-value", 100)]);
    // Paging and the total.
    let all = reader.search(&query("-value")).unwrap();
    assert_eq!(all.total, 3);
    let page = reader.search(&SearchQuery { offset: 1, limit: 1, ..query("-value") }).unwrap();
    assert_eq!((page.total, page.hits.len(), page.hits[0].subject.as_str()), (3, 1, all.hits[1].subject.as_str()));
    // By format.
    let json = reader.search(&SearchQuery { schema_type: Some(SchemaType::Json), ..query("customer") }).unwrap();
    assert_eq!(found(&json), [("customer-value", 50)]);

    // Current after writes, made by the other instance: a new version, a state, a delete.
    let order_v2 = ORDER.replace(r#""type":"string","doc""#, r#""type":"string","default":"","doc""#);
    let order_v2 = order_v2.replace("]}", r#",{"name":"coupon","type":["null","string"],"default":null}]}"#);
    writer.register(&subject("orders-value"), &UnparsedSchema::new(SchemaType::Avro, &order_v2)).unwrap();
    let versions = |text: &str| -> Vec<u32> {
        reader.search(&query(text)).unwrap().hits.iter().map(|h| h.version.get()).collect()
    };
    assert!(eventually(|| versions("coupon") == [2]), "{:?}", versions("coupon"));
    let v2 = VersionSelector::Number(Version::new(2).unwrap());
    writer.set_state(&subject("orders-value"), v2, VersionState::Deprecated).unwrap();
    let deprecated = SearchQuery { state: Some(VersionState::Deprecated), ..query("coupon") };
    assert!(eventually(|| found(&reader.search(&deprecated).unwrap()) == [("orders-value", 100)]));
    writer.delete_subject(&subject("customer-value"), Deletion::Soft).unwrap();
    let gone = eventually(|| reader.search(&query("invoices")).unwrap().hits.is_empty());
    assert!(gone, "a deleted subject is not found");
    let archived = SearchQuery { state: Some(VersionState::Archived), ..query("invoices") };
    assert_eq!(found(&reader.search(&archived).unwrap()), [("customer-value", 10)]);
    assert!(reader.search(&query("nothing-like-this")).unwrap().hits.is_empty());
}

/// Browsing on every store: subjects by name prefix, paged, with their newest versions; by format (through the
/// search index, kept current as another instance writes); soft-deleted subjects only when asked.
#[test]
fn browse_lists_by_prefix_and_format_pages_and_stays_current() {
    support::backends().into_iter().for_each(browse_lists_by_prefix_and_format_pages_and_stays_current_on);
}

fn browse_lists_by_prefix_and_format_pages_and_stays_current_on(backend: support::Backend) {
    use registry_store::BrowseQuery;
    let registries = backend.instances(2, RegistryOptions::default());
    let (writer, reader) = (&registries[0], &registries[1]);
    writer.register(&subject("orders-value"), &UnparsedSchema::new(SchemaType::Avro, ORDER)).unwrap();
    let evolved = ORDER.replace(
        r#"{"name":"orderId","type":"long"}"#,
        r#"{"name":"orderId","type":"long"},{"name":"n","type":"int","default":0}"#,
    );
    writer.register(&subject("orders-value"), &UnparsedSchema::new(SchemaType::Avro, &evolved)).unwrap();
    writer.register(&subject("customer-value"), &UnparsedSchema::new(SchemaType::Json, CUSTOMER)).unwrap();
    writer.register(&subject("payments-value"), &UnparsedSchema::new(SchemaType::Protobuf, PAYMENT)).unwrap();
    writer.register(&subject("old-value"), &UnparsedSchema::new(SchemaType::Avro, r#""string""#)).unwrap();
    writer
        .delete_version(&subject("old-value"), VersionSelector::Number(Version::new(1).unwrap()), Deletion::Soft)
        .unwrap();
    let browse = |query: BrowseQuery| reader.browse(&BrowseQuery { limit: query.limit.max(50), ..query }).unwrap();
    let names = |page: &registry_store::BrowsePage| {
        page.subjects.iter().map(|s| s.subject.as_str().to_string()).collect::<Vec<_>>()
    };

    let all = browse(BrowseQuery::default());
    assert_eq!(
        (all.total, names(&all)),
        (3, vec!["customer-value".into(), "orders-value".into(), "payments-value".into()])
    );
    let orders = &all.subjects[1];
    assert_eq!(
        (orders.schema_type, orders.versions, orders.latest.get(), orders.semver.to_string()),
        (SchemaType::Avro, 2, 2, "1.1.0".into())
    );
    assert_eq!((orders.state, orders.deleted), (VersionState::Active, false));
    let with_deleted = browse(BrowseQuery { deleted: true, ..BrowseQuery::default() });
    assert_eq!(with_deleted.total, 4);
    assert!(
        with_deleted
            .subjects
            .iter()
            .any(|s| s.subject.as_str() == "old-value" && s.deleted && s.state == VersionState::Archived)
    );
    assert_eq!(
        names(&browse(BrowseQuery { prefix: "p".into(), ..BrowseQuery::default() })),
        vec!["payments-value".to_string()]
    );
    let page = reader.browse(&BrowseQuery { offset: 1, limit: 1, ..BrowseQuery::default() }).unwrap();
    assert_eq!((page.total, names(&page)), (3, vec!["orders-value".to_string()]));
    let by_format = |schema_type, deleted| {
        names(&browse(BrowseQuery { schema_type: Some(schema_type), deleted, ..BrowseQuery::default() }))
    };
    assert_eq!(by_format(SchemaType::Protobuf, false), vec!["payments-value".to_string()]);
    assert_eq!(by_format(SchemaType::Avro, false), vec!["orders-value".to_string()]);
    assert_eq!(by_format(SchemaType::Avro, true), vec!["old-value".to_string(), "orders-value".to_string()]);

    // Another instance's write reaches the format filter (the index is kept current), and the plain listing.
    writer
        .register(
            &subject("pings-value"),
            &UnparsedSchema::new(SchemaType::Protobuf, "syntax = \"proto3\";\nmessage Ping {}\n"),
        )
        .unwrap();
    assert!(
        eventually(|| by_format(SchemaType::Protobuf, false).len() == 2),
        "{:?}",
        by_format(SchemaType::Protobuf, false)
    );
    assert!(eventually(|| browse(BrowseQuery::default()).total == 4));
}
