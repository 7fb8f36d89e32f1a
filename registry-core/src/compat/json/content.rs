//! Open content: what an object or an array allows past the members it declares (`additionalProperties`,
//! `additionalItems`, `unevaluated*`), and how a reader may not close or constrain what the writer left open.

use serde_json::Value;

use super::Diff;
use super::locations::Loc;
use super::nodes::facets;
use super::report::{Path, REJECTS, path_parent, report};
use crate::compat::{Violation, ViolationKind};

/// `additionalProperties`/`additionalItems`/`unevaluated*`: whether extra members are allowed, and the schema
/// they must match. An empty schema (`{}`) is read as `true`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Extra<'a> {
    pub(super) permits: bool,
    pub(super) schema: Option<&'a Value>,
}

impl<'a> Extra<'a> {
    pub(super) fn of(value: Option<&'a Value>) -> Self {
        match value {
            None => Extra { permits: true, schema: None },
            Some(Value::Bool(b)) => Extra { permits: *b, schema: None },
            Some(v) if facets(v).is_empty() => Extra { permits: true, schema: None },
            Some(v) => Extra { permits: true, schema: Some(v) },
        }
    }
}

impl<'a> Diff<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn compare_unevaluated(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        keyword: &'static str,
        (original, ov): (Loc<'a>, Option<&'a Value>),
        (update, uv): (Loc<'a>, Option<&'a Value>),
        kinds: (ViolationKind, ViolationKind),
        depth: usize,
    ) {
        let noun = if keyword == "unevaluatedItems" { "unevaluated items" } else { "unevaluated properties" };
        self.compare_open_content(
            out,
            path,
            (keyword, noun),
            (original, Extra::of(ov)),
            (update, Extra::of(uv)),
            kinds,
            depth,
        );
    }

    /// What the writer left open (`additionalProperties`, `additionalItems`, `unevaluated*`) must stay open
    /// enough: closing it or constraining it with a schema rejects data the writer accepted.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn compare_open_content(
        &mut self,
        out: &mut Vec<Violation>,
        path: &mut Path,
        (keyword, noun): (&str, &str),
        (original, o): (Loc<'a>, Extra<'a>),
        (update, u): (Loc<'a>, Extra<'a>),
        (removed, narrowed): (ViolationKind, ViolationKind),
        depth: usize,
    ) {
        path.push(keyword);
        match (o, u) {
            (Extra { permits: true, .. }, Extra { permits: false, .. }) => {
                let message = format!("{} no longer allows {noun} (`{keyword}`): {REJECTS}", path_parent(path));
                report(out, removed, path.at(None), message);
            }
            (Extra { permits: true, schema: None }, Extra { schema: Some(_), .. }) => {
                let message = format!(
                    "{} now constrains {noun} (`{keyword}`) with a schema, where the writer allowed any: {REJECTS}",
                    path_parent(path)
                );
                report(out, narrowed, path.at(None), message);
            }
            (Extra { schema: Some(os), .. }, Extra { schema: Some(us), .. }) => {
                self.compare(out, path, Some(original.child(os)), Some(update.child(us)), depth + 1)
            }
            _ => {}
        }
        path.pop();
    }
}
