//! Strings, numbers and enums: lengths, `pattern`, numeric limits by their effect, `multipleOf`, the values
//! an `enum` or `const` allows; and the size limits (`maxLength`, `minItems`, `maxProperties`, ...) objects
//! and arrays share.

use serde_json::{Map, Value};

use super::locations::Loc;
use super::report::{Findings, REJECTS};
use crate::compat::ViolationKind;

/// Whether a bound limits from above (`maxLength`) or below (`minLength`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Limit {
    Upper,
    Lower,
}

/// A limit one keyword sets on a size (`maxLength`, `minItems`, `maxProperties`, ...), and the kinds reported
/// when the reader adds it or tightens it.
#[derive(Clone, Copy)]
pub(super) struct SizeLimit {
    keyword: &'static str,
    limit: Limit,
    added: ViolationKind,
    tightened: ViolationKind,
}

impl SizeLimit {
    pub(super) const fn upper(keyword: &'static str, added: ViolationKind, decreased: ViolationKind) -> Self {
        SizeLimit { keyword, limit: Limit::Upper, added, tightened: decreased }
    }

    pub(super) const fn lower(keyword: &'static str, added: ViolationKind, increased: ViolationKind) -> Self {
        SizeLimit { keyword, limit: Limit::Lower, added, tightened: increased }
    }

    /// Reports the limit where the reader added it, or tightened the writer's.
    fn compare(self, found: &mut Findings, original: Option<&Value>, update: Option<&Value>) {
        let SizeLimit { keyword, limit, added, tightened } = self;
        match (original.and_then(Value::as_f64), update.and_then(Value::as_f64)) {
            (None, Some(_)) => {
                let message = format!(
                    "{} gained `{keyword}: {}`: {REJECTS}",
                    found.path.subject(),
                    update.map(Value::to_string).unwrap_or_default()
                );
                found.report(added, Some(keyword), message);
            }
            (Some(o), Some(u)) if (limit == Limit::Upper && u < o) || (limit == Limit::Lower && u > o) => {
                let verb = if limit == Limit::Upper { "decreased" } else { "increased" };
                let message = format!(
                    "`{keyword}` of {} {verb} from {} to {}: {REJECTS}",
                    found.path.subject(),
                    original.map(Value::to_string).unwrap_or_default(),
                    update.map(Value::to_string).unwrap_or_default()
                );
                found.report(tightened, Some(keyword), message);
            }
            _ => {}
        }
    }
}

/// A string's lengths.
const LENGTHS: [SizeLimit; 2] = [
    SizeLimit::upper("maxLength", ViolationKind::MaxLengthAdded, ViolationKind::MaxLengthDecreased),
    SizeLimit::lower("minLength", ViolationKind::MinLengthAdded, ViolationKind::MinLengthIncreased),
];

/// Reports each size limit the reader added, or tightened.
pub(super) fn size_limits(found: &mut Findings, original: Loc<'_>, update: Loc<'_>, limits: &[SizeLimit]) {
    for limit in limits {
        let o = original.get(limit.keyword).filter(|v| v.is_number());
        let u = update.get(limit.keyword).filter(|v| v.is_number());
        limit.compare(found, o, u);
    }
}

pub(super) fn compare_string(found: &mut Findings, original: Loc<'_>, update: Loc<'_>) {
    size_limits(found, original, update, &LENGTHS);
    let (om, um) = (original.object(), update.object());
    let o_pattern = om.and_then(|m| m.get("pattern")).and_then(Value::as_str);
    let u_pattern = um.and_then(|m| m.get("pattern")).and_then(Value::as_str);
    match (o_pattern, u_pattern) {
        (None, Some(p)) => {
            let message = format!("{} gained `pattern` {p:?}: {REJECTS}", found.path.subject());
            found.report(ViolationKind::PatternAdded, Some("pattern"), message);
        }
        (Some(o), Some(u)) if o != u => {
            let message = format!("`pattern` of {} changed from {o:?} to {u:?}: {REJECTS}", found.path.subject());
            found.report(ViolationKind::PatternChanged, Some("pattern"), message);
        }
        _ => {}
    }
}

pub(super) fn compare_number(found: &mut Findings, original: Loc<'_>, update: Loc<'_>) {
    let (o, u) = (NumberBounds::new(original), NumberBounds::new(update));
    numeric_limit(found, Limit::Upper, o.upper(), u.upper(), o.exclusive_maximum.is_some());
    numeric_limit(found, Limit::Lower, o.lower(), u.lower(), o.exclusive_minimum.is_some());
    let multiple = |m: Option<&Map<String, Value>>| m.and_then(|m| m.get("multipleOf")).and_then(Value::as_f64);
    let (om, um) = (multiple(original.object()), multiple(update.object()));
    match (om, um) {
        (None, Some(u)) => {
            let message = format!("{} gained `multipleOf: {u}`: {REJECTS}", found.path.subject());
            found.report(ViolationKind::MultipleOfAdded, Some("multipleOf"), message);
        }
        (Some(o), Some(u)) if o != u => {
            if is_multiple(o, u) {
                return; // the reader's step divides the writer's: every old value is still a multiple
            }
            let (kind, how) = if is_multiple(u, o) {
                (ViolationKind::MultipleOfExpanded, "a multiple of")
            } else {
                (ViolationKind::MultipleOfChanged, "unrelated to")
            };
            let message = format!(
                "`multipleOf` of {} changed from {o} to {u}, {how} the writer's: {REJECTS}",
                found.path.subject()
            );
            found.report(kind, Some("multipleOf"), message);
        }
        _ => {}
    }
}

/// Whether `a` is an integer multiple of `b`.
fn is_multiple(a: f64, b: f64) -> bool {
    if b == 0.0 || !a.is_finite() || !b.is_finite() {
        return false;
    }
    let ratio = a / b;
    (ratio - ratio.round()).abs() <= 1e-9 * ratio.abs().max(1.0)
}

/// Numeric bounds, with draft 4's boolean `exclusiveMaximum`/`exclusiveMinimum` turned into draft 6 limits.
struct NumberBounds<'a> {
    maximum: Option<&'a Value>,
    minimum: Option<&'a Value>,
    exclusive_maximum: Option<&'a Value>,
    exclusive_minimum: Option<&'a Value>,
}

impl<'a> NumberBounds<'a> {
    fn new(loc: Loc<'a>) -> Self {
        let get = |k: &str| loc.get(k);
        let number = |v: Option<&'a Value>| v.filter(|v| v.is_number());
        let (mut maximum, mut exclusive_maximum) = (number(get("maximum")), number(get("exclusiveMaximum")));
        if get("exclusiveMaximum") == Some(&Value::Bool(true)) {
            exclusive_maximum = maximum.take();
        }
        let (mut minimum, mut exclusive_minimum) = (number(get("minimum")), number(get("exclusiveMinimum")));
        if get("exclusiveMinimum") == Some(&Value::Bool(true)) {
            exclusive_minimum = minimum.take();
        }
        NumberBounds { maximum, minimum, exclusive_maximum, exclusive_minimum }
    }

    /// The effective upper limit: the tighter of `maximum` and `exclusiveMaximum`.
    fn upper(&self) -> Option<Bound> {
        tighter(Limit::Upper, Bound::of(self.maximum, false), Bound::of(self.exclusive_maximum, true))
    }

    /// The effective lower limit: the tighter of `minimum` and `exclusiveMinimum`.
    fn lower(&self) -> Option<Bound> {
        tighter(Limit::Lower, Bound::of(self.minimum, false), Bound::of(self.exclusive_minimum, true))
    }
}

/// A numeric limit: its value, its JSON text, and whether the limit itself is excluded.
#[derive(Clone, Debug)]
struct Bound {
    value: f64,
    text: String,
    exclusive: bool,
}

impl Bound {
    fn of(value: Option<&Value>, exclusive: bool) -> Option<Bound> {
        let v = value?;
        Some(Bound { value: v.as_f64()?, text: v.to_string(), exclusive })
    }

    /// Whether every number within `writer` is within `self` too.
    fn admits(&self, writer: &Bound, limit: Limit) -> bool {
        let looser = match limit {
            Limit::Upper => self.value > writer.value,
            Limit::Lower => self.value < writer.value,
        };
        looser || (self.value == writer.value && (!self.exclusive || writer.exclusive))
    }
}

fn tighter(limit: Limit, a: Option<Bound>, b: Option<Bound>) -> Option<Bound> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.admits(&b, limit) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Compares numeric limits by their effect, so `maximum`, `exclusiveMaximum` and draft 4's boolean form can
/// be traded for each other; kinds follow the reference registry's names.
fn numeric_limit(
    found: &mut Findings,
    limit: Limit,
    original: Option<Bound>,
    update: Option<Bound>,
    original_has_exclusive: bool,
) {
    let Some(update) = update else { return };
    let (keyword, exclusive_keyword) = match limit {
        Limit::Upper => ("maximum", "exclusiveMaximum"),
        Limit::Lower => ("minimum", "exclusiveMinimum"),
    };
    let keyword = if update.exclusive { exclusive_keyword } else { keyword };
    let kind = match (&original, limit, update.exclusive) {
        (Some(o), _, _) if update.admits(o, limit) => return,
        (None, Limit::Upper, false) => ViolationKind::MaximumAdded,
        (None, Limit::Upper, true) => ViolationKind::ExclusiveMaximumAdded,
        (None, Limit::Lower, false) => ViolationKind::MinimumAdded,
        (None, Limit::Lower, true) => ViolationKind::ExclusiveMinimumAdded,
        (Some(_), Limit::Upper, false) => ViolationKind::MaximumDecreased,
        (Some(_), Limit::Lower, false) => ViolationKind::MinimumIncreased,
        (Some(_), Limit::Upper, true) if original_has_exclusive => ViolationKind::ExclusiveMaximumDecreased,
        (Some(_), Limit::Lower, true) if original_has_exclusive => ViolationKind::ExclusiveMinimumIncreased,
        (Some(_), Limit::Upper, true) => ViolationKind::ExclusiveMaximumAdded,
        (Some(_), Limit::Lower, true) => ViolationKind::ExclusiveMinimumAdded,
    };
    let describe = |b: &Bound| {
        let op = match (limit, b.exclusive) {
            (Limit::Upper, false) => "<=",
            (Limit::Upper, true) => "<",
            (Limit::Lower, false) => ">=",
            (Limit::Lower, true) => ">",
        };
        format!("{op} {}", b.text)
    };
    let message = match &original {
        None => format!("{} gained the limit {}: {REJECTS}", found.path.subject(), describe(&update)),
        Some(o) => format!(
            "{} now requires {} where the writer allowed {}: {REJECTS}",
            found.path.subject(),
            describe(&update),
            describe(o)
        ),
    };
    found.report(kind, Some(keyword), message);
}

pub(super) fn compare_enum(found: &mut Findings, original: &[&Value], update: &[&Value], keyword: &str) {
    let contains = |set: &[&Value], v: &Value| set.iter().any(|s| json_equal(s, v));
    let missing: Vec<String> = original.iter().filter(|v| !contains(update, v)).map(|v| v.to_string()).collect();
    if missing.is_empty() {
        return;
    }
    let narrowed = update.iter().all(|v| contains(original, v));
    let kind = if narrowed { ViolationKind::EnumArrayNarrowed } else { ViolationKind::EnumArrayChanged };
    let message = format!("`{keyword}` of {} no longer allows {}: {REJECTS}", found.path.subject(), missing.join(", "));
    found.report(kind, Some(keyword), message);
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
