//! Arrays: `items` as one schema, tuple items compared by position (added, removed), the open content past
//! the tuple, the item counts and `uniqueItems`.

use serde_json::{Map, Value};

use super::Diff;
use super::content::Extra;
use super::locations::Loc;
use super::nodes::{Node, facets};
use super::report::{Path, REJECTS, report};
use super::scalars::{Limit, bound};
use crate::compat::{Violation, ViolationKind};

impl<'a> Diff<'a> {
    pub(super) fn compare_array(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        original: Loc<'a>,
        update: Loc<'a>,
        depth: usize,
    ) {
        let o = ArrayView::new(original);
        let u = ArrayView::new(update);

        path.push("items");
        self.compare(out, path, o.all.map(|v| original.child(v)), u.all.map(|v| update.child(v)), depth + 1);
        path.pop();

        let common = o.tuple.len().min(u.tuple.len());
        for i in 0..o.tuple.len().max(u.tuple.len()) {
            path.push(if i < o.tuple.len() { o.tuple_keyword } else { u.tuple_keyword });
            path.push(&i.to_string());
            if i < common {
                self.compare(out, path, Some(original.child(o.tuple[i])), Some(update.child(u.tuple[i])), depth + 1);
            } else if i < o.tuple.len() {
                self.item_removed(out, path, i, original.child(o.tuple[i]), &u, update, depth);
            } else {
                self.item_added(out, path, i, &o, original, update.child(u.tuple[i]), depth);
            }
            path.pop();
            path.pop();
        }

        self.compare_open_content(
            out,
            path,
            (u.additional_keyword, "additional items"),
            (original, o.additional),
            (update, u.additional),
            (ViolationKind::AdditionalItemsRemoved, ViolationKind::AdditionalItemsNarrowed),
            depth,
        );

        self.compare_unevaluated(
            out,
            path,
            "unevaluatedItems",
            (original, o.unevaluated),
            (update, u.unevaluated),
            (ViolationKind::UnevaluatedItemsRemoved, ViolationKind::UnevaluatedItemsNarrowed),
            depth,
        );

        let (om, um) = (original.object(), update.object());
        bound(
            out,
            path,
            om,
            um,
            "maxItems",
            Limit::Upper,
            (ViolationKind::MaxItemsAdded, ViolationKind::MaxItemsDecreased),
        );
        bound(
            out,
            path,
            om,
            um,
            "minItems",
            Limit::Lower,
            (ViolationKind::MinItemsAdded, ViolationKind::MinItemsIncreased),
        );
        let unique = |m: Option<&Map<String, Value>>| {
            m.and_then(|m| m.get("uniqueItems")).and_then(Value::as_bool) == Some(true)
        };
        if !unique(om) && unique(um) {
            let message = format!("{} now requires unique items: {REJECTS}", path.subject());
            report(out, ViolationKind::UniqueItemsAdded, path.at(Some("uniqueItems")), message);
        }
        bound(
            out,
            path,
            om,
            um,
            "maxContains",
            Limit::Upper,
            (ViolationKind::MaxContainsAdded, ViolationKind::MaxContainsDecreased),
        );
        bound(
            out,
            path,
            om,
            um,
            "minContains",
            Limit::Lower,
            (ViolationKind::MinContainsAdded, ViolationKind::MinContainsIncreased),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn item_removed(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        index: usize,
        original: Loc<'a>,
        u: &ArrayView<'a>,
        update: Loc<'a>,
        depth: usize,
    ) {
        if u.is_open() {
            return;
        }
        if let Some(partial) = u.partial() {
            let found = self.sub(path, Some(original), Some(update.child(partial)), depth + 1);
            if !found.is_empty() {
                out.extend(found);
                let message = format!(
                    "tuple item {index} was removed and the reader's additional items schema rejects values the \
                     writer allowed there"
                );
                report(out, ViolationKind::ItemRemovedNotCoveredByPartiallyOpenContentModel, path.at(None), message);
            }
            return;
        }
        if !matches!(self.node(self.normalize(original)), Node::False) {
            let message =
                format!("tuple item {index} was removed and the reader allows no additional items: {REJECTS}");
            report(out, ViolationKind::ItemRemovedFromClosedContentModel, path.at(None), message);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn item_added(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        index: usize,
        o: &ArrayView<'a>,
        original: Loc<'a>,
        update: Loc<'a>,
        depth: usize,
    ) {
        if o.is_open() {
            if !matches!(self.node(self.normalize(update)), Node::Empty) {
                let message = format!(
                    "tuple item {index} was added, but the writer allowed any additional item there: {REJECTS}"
                );
                report(out, ViolationKind::ItemAddedToOpenContentModel, path.at(None), message);
            }
            return;
        }
        if let Some(partial) = o.partial() {
            let found = self.sub(path, Some(original.child(partial)), Some(update), depth + 1);
            if !found.is_empty() {
                out.extend(found);
                let message = format!(
                    "tuple item {index} was added with a schema that rejects values the writer's additional items \
                     schema allowed there"
                );
                report(out, ViolationKind::ItemAddedNotCoveredByPartiallyOpenContentModel, path.at(None), message);
            }
        }
    }
}

/// The array keywords of a schema, across drafts: `items` as one schema, tuple items (`items` as an array, or
/// `prefixItems`), and what follows the tuple (`additionalItems`, or `items` after `prefixItems`).
struct ArrayView<'a> {
    all: Option<&'a Value>,
    tuple: Vec<&'a Value>,
    tuple_keyword: &'static str,
    additional: Extra<'a>,
    additional_keyword: &'static str,
    additional_present: bool,
    unevaluated: Option<&'a Value>,
}

impl<'a> ArrayView<'a> {
    fn new(loc: Loc<'a>) -> Self {
        let unevaluated = loc.get("unevaluatedItems");
        if let Some(Value::Array(prefix)) = loc.get("prefixItems") {
            return ArrayView {
                all: None,
                tuple: prefix.iter().collect(),
                tuple_keyword: "prefixItems",
                additional: Extra::of(loc.get("items")),
                additional_keyword: "items",
                additional_present: loc.get("items").is_some(),
                unevaluated,
            };
        }
        let (all, tuple) = match loc.get("items") {
            Some(Value::Array(items)) => (None, items.iter().collect()),
            Some(v) if v == &Value::Bool(true) || (v.is_object() && facets(v).is_empty()) => (None, Vec::new()),
            other => (other, Vec::new()),
        };
        ArrayView {
            all,
            tuple,
            tuple_keyword: "items",
            additional: Extra::of(loc.get("additionalItems")),
            additional_keyword: "additionalItems",
            additional_present: loc.get("additionalItems").is_some(),
            unevaluated,
        }
    }

    /// Open: any item after the tuple is allowed.
    fn is_open(&self) -> bool {
        if !self.additional.permits || self.additional.schema.is_some() {
            return false;
        }
        self.additional_present || (Extra::of(self.unevaluated).permits && Extra::of(self.unevaluated).schema.is_none())
    }

    /// Partially open: the schema items after the tuple must match.
    fn partial(&self) -> Option<&'a Value> {
        if let Some(schema) = self.additional.schema {
            return Some(schema);
        }
        if !self.additional_present {
            return Extra::of(self.unevaluated).schema;
        }
        None
    }
}
