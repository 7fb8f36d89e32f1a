//! Data contracts: the [`Metadata`] and [`RuleSet`] a schema carries, as Confluent's clients send and read them.
//!
//! The registry stores and returns them; the clients run the rules (CEL and JSONata conditions, transforms,
//! migrations, field-level encryption). What the registry decides is which rule sets are well formed
//! ([`RuleSet::validate`]), how a new version's metadata and rules combine with the previous version's and the
//! configured defaults and overrides ([`Metadata::merge`], [`RuleSet::merge`]), and that both are part of a
//! schema's identity.
//!
//! Maps and sets are sorted, as Confluent keeps them, so equal contracts serialize and hash alike whatever order a
//! client sent them in. Empty collections are omitted from the JSON, as Confluent omits them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The metadata property that pins a version number: a registration carrying it must land at that version.
pub const CONFLUENT_VERSION: &str = "confluent:version";

/// The longest rule name Confluent accepts, in UTF-16 code units.
pub const RULE_NAME_MAX_LENGTH: usize = 256;

/// What a schema carries beside its text and references: its metadata and its rules. Part of its identity:
/// the same text with another contract is another schema. `None` (not sent) and an empty value are different
/// contracts, as they are to Confluent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DataContract {
    /// The metadata, if any was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The rule set, if any was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSet>,
}

impl DataContract {
    /// True when neither metadata nor a rule set was given.
    pub fn is_none(&self) -> bool {
        self.metadata.is_none() && self.rule_set.is_none()
    }

    /// About the bytes it holds: the length of its JSON, which is what counts against a schema's size limit and
    /// a cache's weight.
    pub fn approximate_bytes(&self) -> usize {
        if self.is_none() { 0 } else { serde_json::to_vec(self).map_or(0, |json| json.len()) }
    }
}

/// A schema's metadata: tags by field path, free-form properties, and the names of sensitive properties.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Metadata {
    /// Tags by the path of the element they mark (e.g. `"Order.card" -> {"PII"}`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "nullable")]
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// Free-form properties (e.g. `owner`, `application.major.version`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "nullable")]
    pub properties: BTreeMap<String, String>,
    /// The names of properties whose values are secret.
    #[serde(skip_serializing_if = "BTreeSet::is_empty", deserialize_with = "nullable")]
    pub sensitive: BTreeSet<String>,
}

impl Metadata {
    /// True when it has no tags, properties or sensitive names.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.properties.is_empty() && self.sensitive.is_empty()
    }

    /// `old` overlaid with `new`, as Confluent merges them: each of tags, properties and sensitive is taken from
    /// `new` alone, or `old` alone, when the other is empty; otherwise the maps are joined with `new`'s value
    /// winning a key, and the sets are united.
    pub fn merge(old: Option<&Metadata>, new: Option<&Metadata>) -> Option<Metadata> {
        match (old, new) {
            (None, new) => new.cloned(),
            (old, None) => old.cloned(),
            (Some(old), Some(new)) => Some(Metadata {
                tags: overlay(&old.tags, &new.tags),
                properties: overlay(&old.properties, &new.properties),
                sensitive: old.sensitive.union(&new.sensitive).cloned().collect(),
            }),
        }
    }

    /// The version number pinned by the `confluent:version` property, if it holds one.
    pub fn confluent_version(&self) -> Option<i32> {
        self.properties.get(CONFLUENT_VERSION)?.parse().ok()
    }
}

/// `new`'s entries over `old`'s.
fn overlay<V: Clone>(old: &BTreeMap<String, V>, new: &BTreeMap<String, V>) -> BTreeMap<String, V> {
    let mut merged = old.clone();
    merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
}

/// What a rule does: change a field's value, or check a condition on the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleKind {
    /// Rewrites values (e.g. encrypts a field).
    #[default]
    Transform,
    /// Accepts or refuses the message.
    Condition,
}

impl RuleKind {
    /// Confluent's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Transform => "TRANSFORM",
            RuleKind::Condition => "CONDITION",
        }
    }
}

/// When a rule runs: on migration between versions (up, down, both), or on write, read, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RuleMode {
    /// Migrating data from an older version to a newer one.
    Upgrade,
    /// Migrating data from a newer version to an older one.
    Downgrade,
    /// Both migrations.
    Updown,
    /// When a producer serializes.
    Write,
    /// When a consumer deserializes.
    Read,
    /// Both.
    #[default]
    Writeread,
}

impl RuleMode {
    /// Confluent's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleMode::Upgrade => "UPGRADE",
            RuleMode::Downgrade => "DOWNGRADE",
            RuleMode::Updown => "UPDOWN",
            RuleMode::Write => "WRITE",
            RuleMode::Read => "READ",
            RuleMode::Writeread => "WRITEREAD",
        }
    }

    /// Whether a migration rule may have this mode.
    pub fn is_migration(self) -> bool {
        matches!(self, RuleMode::Upgrade | RuleMode::Downgrade | RuleMode::Updown)
    }

    /// Whether a domain or encoding rule may have this mode.
    pub fn is_domain_or_encoding(self) -> bool {
        matches!(self, RuleMode::Write | RuleMode::Read | RuleMode::Writeread)
    }
}

/// Where a rule set's rules are enabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExecutionEnvironment {
    /// Everywhere.
    All,
    /// In clients.
    Client,
    /// In gateways.
    Gateway,
    /// In servers.
    Server,
    /// Nowhere.
    None,
}

impl ExecutionEnvironment {
    /// Confluent's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionEnvironment::All => "ALL",
            ExecutionEnvironment::Client => "CLIENT",
            ExecutionEnvironment::Gateway => "GATEWAY",
            ExecutionEnvironment::Server => "SERVER",
            ExecutionEnvironment::None => "NONE",
        }
    }
}

/// One rule of a rule set. The registry keeps it as sent (with Confluent's defaults filled in); clients run it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Rule {
    /// Its name, unique within the rule set (required: a rule without one is refused by [`Rule::validate`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Transform or condition (default transform).
    #[serde(deserialize_with = "nullable")]
    pub kind: RuleKind,
    /// When it runs (default WRITEREAD).
    #[serde(deserialize_with = "nullable")]
    pub mode: RuleMode,
    /// The executor that runs it: `CEL`, `CEL_FIELD`, `JSONATA`, `ENCRYPT`, ...
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<String>,
    /// The tags of the fields it applies to.
    #[serde(skip_serializing_if = "BTreeSet::is_empty", deserialize_with = "nullable")]
    pub tags: BTreeSet<String>,
    /// Parameters for its executor.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "nullable")]
    pub params: BTreeMap<String, String>,
    /// Its expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    /// The action when it succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_success: Option<String>,
    /// The action when it fails (e.g. `ERROR`, `DLQ`, `NONE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
    /// Whether it is switched off (always written, as Confluent writes it).
    #[serde(deserialize_with = "nullable")]
    pub disabled: bool,
}

impl Rule {
    /// Checks the rule alone, as Confluent does: a name (a letter or `_`, then letters, digits, `_` or `-`, at
    /// most 256 long), a type, and at most one action unless the mode is WRITEREAD or UPDOWN.
    pub fn validate(&self) -> Result<(), RuleError> {
        let fail = |message: String| Err(RuleError { rule: self.name.clone().unwrap_or_default(), message });
        let Some(name) = &self.name else { return fail("Missing rule name".into()) };
        let mut chars = name.chars();
        match chars.next() {
            None => return fail("Empty rule name".into()),
            Some(first) if !(first.is_alphabetic() || first == '_') => {
                return fail(format!("Illegal initial character in rule name: {name}"));
            }
            Some(_) => {}
        }
        if name.encode_utf16().count() > RULE_NAME_MAX_LENGTH {
            return fail("Rule name too long".into());
        }
        if !chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return fail(format!("Illegal character in rule name: {name}"));
        }
        if self.rule_type.is_none() {
            return fail("Missing rule type".into());
        }
        let single_action = !matches!(self.mode, RuleMode::Writeread | RuleMode::Updown);
        for action in [&self.on_success, &self.on_failure].into_iter().flatten() {
            if single_action && action.contains(',') {
                return fail("Multiple actions only valid with WRITEREAD and UPDOWN".into());
            }
        }
        Ok(())
    }
}

/// A schema's rules, by phase: migrations between versions, domain rules on values, encoding rules on bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RuleSet {
    /// Run when data moves between versions (UPGRADE, DOWNGRADE, UPDOWN).
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub migration_rules: Vec<Rule>,
    /// Run on values when a message is written or read.
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub domain_rules: Vec<Rule>,
    /// Run on the encoded bytes when a message is written or read.
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub encoding_rules: Vec<Rule>,
    /// Where the rules are enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_at: Option<ExecutionEnvironment>,
}

impl RuleSet {
    /// True when it has no rules.
    pub fn is_empty(&self) -> bool {
        self.migration_rules.is_empty() && self.domain_rules.is_empty() && self.encoding_rules.is_empty()
    }

    /// Every rule, migrations first, then domain, then encoding rules.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.migration_rules.iter().chain(&self.domain_rules).chain(&self.encoding_rules)
    }

    /// Checks the set as Confluent does: names unique across all phases, each rule valid, migration rules
    /// UPGRADE, DOWNGRADE or UPDOWN, domain and encoding rules WRITE, READ or WRITEREAD.
    pub fn validate(&self) -> Result<(), RuleError> {
        let mut names = BTreeSet::new();
        let phases = [
            (&self.migration_rules, Phase::Migration),
            (&self.domain_rules, Phase::Domain),
            (&self.encoding_rules, Phase::Encoding),
        ];
        for (rules, phase) in phases {
            for rule in rules {
                if !names.insert(rule.name.as_deref()) {
                    let name = rule.name.as_deref().unwrap_or("null");
                    return Err(RuleError {
                        rule: name.to_string(),
                        message: format!("Found rule with duplicate name '{name}'"),
                    });
                }
                rule.validate()?;
                if !phase.allows(rule.mode) {
                    let rule = rule.name.clone().unwrap_or_default();
                    return Err(RuleError { rule, message: phase.modes_message().into() });
                }
            }
        }
        Ok(())
    }

    /// `old` overlaid with `new`, as Confluent merges them: in each phase, `new`'s rules follow `old`'s, and a rule
    /// of `new` replaces the rule of `old` with its name; `new`'s `enableAt` wins when it has one.
    pub fn merge(old: Option<&RuleSet>, new: Option<&RuleSet>) -> Option<RuleSet> {
        match (old, new) {
            (None, new) => new.cloned(),
            (old, None) => old.cloned(),
            (Some(old), Some(new)) => Some(RuleSet {
                migration_rules: merge_rules(&old.migration_rules, &new.migration_rules),
                domain_rules: merge_rules(&old.domain_rules, &new.domain_rules),
                encoding_rules: merge_rules(&old.encoding_rules, &new.encoding_rules),
                enable_at: new.enable_at.or(old.enable_at),
            }),
        }
    }
}

/// The three lists of a rule set.
#[derive(Clone, Copy)]
enum Phase {
    Migration,
    Domain,
    Encoding,
}

impl Phase {
    fn allows(self, mode: RuleMode) -> bool {
        match self {
            Phase::Migration => mode.is_migration(),
            Phase::Domain | Phase::Encoding => mode.is_domain_or_encoding(),
        }
    }

    /// Confluent's words for a rule in a mode its list does not allow.
    fn modes_message(self) -> &'static str {
        match self {
            Phase::Migration => "Migration rules can only be UPGRADE, DOWNGRADE, UPDOWN",
            Phase::Domain => "Domain rules can only be WRITE, READ, WRITEREAD",
            Phase::Encoding => "Encoding rules can only be WRITE, READ, WRITEREAD",
        }
    }
}

/// `old`'s rules not named in `new`, then `new`'s.
fn merge_rules(old: &[Rule], new: &[Rule]) -> Vec<Rule> {
    let replaced: BTreeSet<Option<&str>> = new.iter().map(|r| r.name.as_deref()).collect();
    old.iter().filter(|r| !replaced.contains(&r.name.as_deref())).chain(new).cloned().collect()
}

/// A rule set that is not well formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Invalid rule: {message}")]
pub struct RuleError {
    /// The rule's name (possibly empty).
    pub rule: String,
    /// What is wrong, in Confluent's words.
    pub message: String,
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RuleMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field that may be sent as `null`, read as its default (Jackson reads a null collection or a null enum as
/// absent, and the constructors fill in the default).
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
