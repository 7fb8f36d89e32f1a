//! Open content: what an object or an array allows past the members it declares (`additionalProperties`,
//! `additionalItems`, `unevaluated*`), and the rules that read it the same way for properties and tuple
//! items: the reader may not close or constrain what the writer left open, and a member one side declares
//! and the other does not must fit the other side's open content. How a violation is worded is the caller's.

use serde_json::Value;

use super::Diff;
use super::locations::{Loc, Side};
use super::nodes::{Node, facets};
use super::report::{Findings, REJECTS, path_parent};
use crate::compat::ViolationKind;

/// `additionalProperties`/`additionalItems`/`unevaluated*`: whether extra members are allowed, and the schema
/// they must match. An empty schema (`{}`) is read as `true`.
#[derive(Clone, Copy, Debug)]
struct Extra<'a> {
    permits: bool,
    schema: Option<&'a Value>,
}

impl<'a> Extra<'a> {
    fn of(value: Option<&'a Value>) -> Self {
        match value {
            None => Extra { permits: true, schema: None },
            Some(Value::Bool(b)) => Extra { permits: *b, schema: None },
            Some(v) if facets(v).is_empty() => Extra { permits: true, schema: None },
            Some(v) => Extra { permits: true, schema: Some(v) },
        }
    }
}

/// The members a schema declares: an object's properties, or an array's tuple items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Members {
    Properties,
    Items,
}

/// What a schema allows past the members it declares.
pub(super) struct Rest<'a> {
    loc: Loc<'a>,
    members: Members,
    /// The keyword for what follows the declared members: `additionalProperties`, `additionalItems`, or
    /// `items` after `prefixItems`.
    keyword: &'static str,
    additional: Extra<'a>,
    additional_present: bool,
    unevaluated_keyword: &'static str,
    unevaluated: Option<&'a Value>,
}

/// Whether a member a schema does not declare is allowed, and what it must match.
#[derive(Clone, Copy, Debug)]
pub(super) enum ContentModel<'a> {
    /// Any member with any value.
    Open,
    /// A member that matches this schema.
    PartiallyOpen(Loc<'a>),
    /// No member.
    Closed,
}

/// Why a member (a property, a tuple item) only one side declares makes the reader reject data the writer
/// accepted; the kinds name it the same way.
#[derive(Clone, Copy, Debug)]
pub(super) enum Lone {
    /// The writer declared it, and the reader's schema for undeclared members rejects values the writer
    /// allowed for it.
    RemovedNotCovered,
    /// The writer declared it, and the reader allows no undeclared member.
    RemovedFromClosed,
    /// The reader declared it with a constraint, where the writer allowed any undeclared member.
    AddedToOpen,
    /// The reader declared it with a schema that rejects values the writer's schema for undeclared members
    /// allowed.
    AddedNotCovered,
}

impl<'a> Rest<'a> {
    /// What `loc` allows past its `members`, `keyword` saying what follows them.
    pub(super) fn new(loc: Loc<'a>, members: Members, keyword: &'static str) -> Self {
        let unevaluated_keyword = match members {
            Members::Properties => "unevaluatedProperties",
            Members::Items => "unevaluatedItems",
        };
        Rest {
            loc,
            members,
            keyword,
            additional: Extra::of(loc.get(keyword)),
            additional_present: loc.get(keyword).is_some(),
            unevaluated_keyword,
            unevaluated: loc.get(unevaluated_keyword),
        }
    }

    /// What a member it does not declare may be.
    pub(super) fn content_model(&self) -> ContentModel<'a> {
        if self.is_open() { ContentModel::Open } else { self.partially_open() }
    }

    /// Partially open where a schema is given for undeclared members, else closed.
    pub(super) fn partially_open(&self) -> ContentModel<'a> {
        let schema = match self.additional.schema {
            Some(schema) => Some(schema),
            None if !self.additional_present => Extra::of(self.unevaluated).schema,
            None => None,
        };
        schema.map_or(ContentModel::Closed, |s| ContentModel::PartiallyOpen(self.loc.child(s)))
    }

    /// Open: any undeclared member with any value is allowed.
    fn is_open(&self) -> bool {
        if !self.additional.permits || self.additional.schema.is_some() {
            return false;
        }
        self.additional_present || (Extra::of(self.unevaluated).permits && Extra::of(self.unevaluated).schema.is_none())
    }
}

impl<'a> Diff<'a> {
    /// What the writer left open past its declared members (`additional*`, then `unevaluated*`) must stay open
    /// enough: closing it or constraining it with a schema rejects data the writer accepted.
    pub(super) fn compare_rest(&mut self, found: &mut Findings, original: &Rest<'a>, update: &Rest<'a>, depth: usize) {
        use ViolationKind as Kind;
        let [additional, unevaluated] = match update.members {
            Members::Properties => [
                ("additional properties", Kind::AdditionalPropertiesRemoved, Kind::AdditionalPropertiesNarrowed),
                ("unevaluated properties", Kind::UnevaluatedPropertiesRemoved, Kind::UnevaluatedPropertiesNarrowed),
            ],
            Members::Items => [
                ("additional items", Kind::AdditionalItemsRemoved, Kind::AdditionalItemsNarrowed),
                ("unevaluated items", Kind::UnevaluatedItemsRemoved, Kind::UnevaluatedItemsNarrowed),
            ],
        };
        let locs = (original.loc, update.loc);
        let extras = (original.additional, update.additional);
        self.compare_open_content(found, update.keyword, additional, locs, extras, depth);
        let extras = (Extra::of(original.unevaluated), Extra::of(update.unevaluated));
        self.compare_open_content(found, update.unevaluated_keyword, unevaluated, locs, extras, depth);
    }

    /// One open-content keyword: closing it, or constraining with a schema what the writer left open to any
    /// value, rejects data the writer accepted.
    fn compare_open_content(
        &mut self,
        found: &mut Findings,
        keyword: &str,
        (noun, removed, narrowed): (&str, ViolationKind, ViolationKind),
        (original, update): (Loc<'a>, Loc<'a>),
        (o, u): (Extra<'a>, Extra<'a>),
        depth: usize,
    ) {
        found.path.push(keyword);
        match (o, u) {
            (Extra { permits: true, .. }, Extra { permits: false, .. }) => {
                let message = format!("{} no longer allows {noun} (`{keyword}`): {REJECTS}", path_parent(&found.path));
                found.report(removed, None, message);
            }
            (Extra { permits: true, schema: None }, Extra { schema: Some(_), .. }) => {
                let message = format!(
                    "{} now constrains {noun} (`{keyword}`) with a schema, where the writer allowed any: {REJECTS}",
                    path_parent(&found.path)
                );
                found.report(narrowed, None, message);
            }
            (Extra { schema: Some(os), .. }, Extra { schema: Some(us), .. }) => {
                self.compare(found, Some(original.child(os)), Some(update.child(us)), depth + 1)
            }
            _ => {}
        }
        found.path.pop();
    }

    /// A member (a property, a tuple item) only one side declares, judged by the other side's content model:
    /// a removed member's values must fit what the reader allows past its declared members, and an added
    /// member must take the values the writer allowed there. `word` says what a violation is.
    pub(super) fn lone_member(
        &mut self,
        found: &mut Findings,
        member: Loc<'a>,
        other: ContentModel<'a>,
        depth: usize,
        word: impl FnOnce(Lone) -> (ViolationKind, String),
    ) {
        let removed = member.side == Side::Writer;
        let why = match other {
            ContentModel::PartiallyOpen(schema) => {
                let (original, update) = if removed { (member, schema) } else { (schema, member) };
                let reasons = self.sub(&found.path, Some(original), Some(update), depth + 1);
                if reasons.is_empty() {
                    return;
                }
                found.violations.extend(reasons);
                if removed { Lone::RemovedNotCovered } else { Lone::AddedNotCovered }
            }
            // An open reader takes whatever the writer held for a removed member, and an added member that
            // constrains nothing takes whatever the writer's data holds for it.
            ContentModel::Open if removed || matches!(self.node(self.normalize(member)), Node::Empty) => return,
            ContentModel::Open => Lone::AddedToOpen,
            // A closed writer's data holds no member it did not declare, and a removed member declared `false`
            // held no value.
            ContentModel::Closed if !removed || matches!(self.node(self.normalize(member)), Node::False) => return,
            ContentModel::Closed => Lone::RemovedFromClosed,
        };
        let (kind, message) = word(why);
        found.report(kind, None, message);
    }
}
