//! How a violation is recorded: [`Findings`] (what a comparison found, and the JSON pointer the walk is at),
//! the words naming the schema there, and the reason every violation shares.

use crate::compat::{Violation, ViolationKind};

/// A JSON pointer being built, in the reference registry's `#/a/b` style.
#[derive(Clone, Debug, Default)]
pub(super) struct Path(Vec<String>);

impl Path {
    pub(super) fn push(&mut self, segment: &str) {
        self.0.push(escape(segment));
    }

    pub(super) fn pop(&mut self) {
        self.0.pop();
    }

    pub(super) fn at(&self, keyword: Option<&str>) -> String {
        let mut s = String::from("#/");
        s.push_str(&self.0.join("/"));
        if let Some(k) = keyword {
            if !self.0.is_empty() {
                s.push('/');
            }
            s.push_str(k);
        }
        s
    }

    /// How a message names the schema at this path.
    pub(super) fn subject(&self) -> String {
        match self.0.as_slice() {
            [] => "the schema".into(),
            [.., parent, name] if parent == "properties" => format!("property `{}`", unescape(name)),
            _ => format!("`{}`", self.at(None)),
        }
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

pub(super) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The subject of the schema that holds the keyword at the end of `path`.
pub(super) fn path_parent(path: &Path) -> String {
    let mut parent = path.clone();
    parent.pop();
    parent.subject()
}

pub(super) const REJECTS: &str = "the reader rejects data the writer accepted";

/// What a comparison has found, and where in the schemas it is: the path grows and shrinks as the walk goes.
#[derive(Default)]
pub(super) struct Findings {
    pub(super) violations: Vec<Violation>,
    pub(super) path: Path,
    /// Kinds not recorded: the changes a lenient policy accepts.
    pub(super) tolerated: &'static [ViolationKind],
}

impl Findings {
    /// Records a violation of the schema at the path, or of its `keyword`.
    pub(super) fn report(&mut self, kind: ViolationKind, keyword: Option<&str>, message: String) {
        if self.tolerated.contains(&kind) {
            return;
        }
        let path = self.path.at(keyword);
        self.violations.push(Violation { kind, path, message });
    }
}
