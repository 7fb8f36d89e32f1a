//! Arrays: `items` as one schema, tuple items compared by position (added, removed), the open content past
//! the tuple, the item counts and `uniqueItems`.

use serde_json::Value;

use super::Diff;
use super::content::{Lone, Members, Rest};
use super::locations::Loc;
use super::nodes::facets;
use super::report::{Findings, REJECTS};
use super::scalars::{SizeLimit, size_limits};
use crate::compat::ViolationKind;

impl<'a> Diff<'a> {
    pub(super) fn compare_array(&mut self, found: &mut Findings, original: Loc<'a>, update: Loc<'a>, depth: usize) {
        let o = ArrayView::new(original);
        let u = ArrayView::new(update);

        found.path.push("items");
        self.compare(found, o.all.map(|v| original.child(v)), u.all.map(|v| update.child(v)), depth + 1);
        found.path.pop();

        let common = o.tuple.len().min(u.tuple.len());
        for i in 0..o.tuple.len().max(u.tuple.len()) {
            found.path.push(if i < o.tuple.len() { o.tuple_keyword } else { u.tuple_keyword });
            found.path.push(&i.to_string());
            if i < common {
                self.compare(found, Some(original.child(o.tuple[i])), Some(update.child(u.tuple[i])), depth + 1);
            } else if i < o.tuple.len() {
                let removed = original.child(o.tuple[i]);
                self.lone_member(found, removed, u.rest.content_model(), depth, |why| lone_item(i, why));
            } else {
                let added = update.child(u.tuple[i]);
                self.lone_member(found, added, o.rest.content_model(), depth, |why| lone_item(i, why));
            }
            found.path.pop();
            found.path.pop();
        }

        self.compare_rest(found, &o.rest, &u.rest, depth);
        size_limits(found, original, update, &ITEM_COUNTS);
        let unique = |loc: Loc<'_>| loc.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        if !unique(original) && unique(update) {
            let message = format!("{} now requires unique items: {REJECTS}", found.path.subject());
            found.report(ViolationKind::UniqueItemsAdded, Some("uniqueItems"), message);
        }
        size_limits(found, original, update, &CONTAINS_COUNTS);
    }
}

/// How a violation of a tuple item only one side declares is worded.
fn lone_item(index: usize, why: Lone) -> (ViolationKind, String) {
    match why {
        Lone::RemovedNotCovered => (
            ViolationKind::ItemRemovedNotCoveredByPartiallyOpenContentModel,
            format!(
                "tuple item {index} was removed and the reader's additional items schema rejects values the \
                 writer allowed there"
            ),
        ),
        Lone::RemovedFromClosed => (
            ViolationKind::ItemRemovedFromClosedContentModel,
            format!("tuple item {index} was removed and the reader allows no additional items: {REJECTS}"),
        ),
        Lone::AddedToOpen => (
            ViolationKind::ItemAddedToOpenContentModel,
            format!("tuple item {index} was added, but the writer allowed any additional item there: {REJECTS}"),
        ),
        Lone::AddedNotCovered => (
            ViolationKind::ItemAddedNotCoveredByPartiallyOpenContentModel,
            format!(
                "tuple item {index} was added with a schema that rejects values the writer's additional items \
                 schema allowed there"
            ),
        ),
    }
}

/// How many items an array may have.
const ITEM_COUNTS: [SizeLimit; 2] = [
    SizeLimit::upper("maxItems", ViolationKind::MaxItemsAdded, ViolationKind::MaxItemsDecreased),
    SizeLimit::lower("minItems", ViolationKind::MinItemsAdded, ViolationKind::MinItemsIncreased),
];

/// How many items may match `contains`.
const CONTAINS_COUNTS: [SizeLimit; 2] = [
    SizeLimit::upper("maxContains", ViolationKind::MaxContainsAdded, ViolationKind::MaxContainsDecreased),
    SizeLimit::lower("minContains", ViolationKind::MinContainsAdded, ViolationKind::MinContainsIncreased),
];

/// The array keywords of a schema, across drafts: `items` as one schema, tuple items (`items` as an array, or
/// `prefixItems`), and what follows the tuple (`additionalItems`, or `items` after `prefixItems`).
struct ArrayView<'a> {
    all: Option<&'a Value>,
    tuple: Vec<&'a Value>,
    tuple_keyword: &'static str,
    rest: Rest<'a>,
}

impl<'a> ArrayView<'a> {
    fn new(loc: Loc<'a>) -> Self {
        if let Some(Value::Array(prefix)) = loc.get("prefixItems") {
            return ArrayView {
                all: None,
                tuple: prefix.iter().collect(),
                tuple_keyword: "prefixItems",
                rest: Rest::new(loc, Members::Items, "items"),
            };
        }
        let (all, tuple) = match loc.get("items") {
            Some(Value::Array(items)) => (None, items.iter().collect()),
            Some(v) if v == &Value::Bool(true) || (v.is_object() && facets(v).is_empty()) => (None, Vec::new()),
            other => (other, Vec::new()),
        };
        ArrayView { all, tuple, tuple_keyword: "items", rest: Rest::new(loc, Members::Items, "additionalItems") }
    }
}
