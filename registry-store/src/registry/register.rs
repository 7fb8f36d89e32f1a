//! Registration: the fast paths answered from memory, the precheck on the caller's thread, and the rule that
//! runs inside the group commit (`Shared::register_in`): dedup, id choice, version numbering, the
//! compatibility check at commit, and the semver bump.

use std::sync::Arc;

use registry_core::compat::{CompatReport, CompatibilityLevel};
use registry_core::{
    DEFAULT_CONTEXT, Fingerprint, ParsedSchema, ResolveError, SchemaError, SchemaId, Subject, UnparsedSchema, Version,
};

use super::audit::{self, AuditAction, Event};
use super::compat::Judging;
use super::config::{self, Effective};
use super::contexts::{public_id, referenced};
use super::inherit::{self, Basis};
use super::options::registrable;
use super::read::{Identified, text_key};
use super::{RegisterOptions, Registry, Shared};
use crate::RegistryError;
use crate::cache::Caches;
use crate::codec::VersionRecord;
use crate::commit::{Answer, Committed, Heard};
use crate::records::{Mode, Registered, ScopeSettings, SemVer, StoredSchema, VersionState};
use crate::store::{Lazy, Result, Snapshot, Transaction};

impl Registry {
    /// Registers `schema` under `subject`: the existing version if the subject already has it, else a new
    /// version after the subject's compatibility check. The same schema has the same id in every subject.
    pub fn register(&self, subject: &Subject, schema: &UnparsedSchema) -> Result<Registered> {
        self.register_with(subject, schema, RegisterOptions::default())
    }

    /// `register` with an explicit id and version (IMPORT mode).
    pub fn register_with(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        options: RegisterOptions,
    ) -> Result<Registered> {
        self.begin_register(subject, schema, options)?.wait()
    }

    /// [`Registry::register_with`] in two halves, for a caller that must not hold a thread while a commit is
    /// made (an async server): the mode, the parse and the compatibility checks run now, on this thread, and the
    /// returned [`Registration`] is answered once the group commit holding it is durable, through
    /// [`Registration::wait`] or as a `Future` (no particular async runtime). A registration the caches can
    /// answer comes back answered already.
    pub fn begin_register(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        options: RegisterOptions,
    ) -> Result<Registration> {
        self.begin_attempt(subject, schema, options, ATTEMPTS)
    }

    /// One attempt at [`Registry::begin_register`]; `attempts` more are made if the subject's newest version
    /// changes under a registration that inherits from it.
    fn begin_attempt(
        &self,
        subject: &Subject,
        request: &UnparsedSchema,
        options: RegisterOptions,
        attempts: u32,
    ) -> Result<Registration> {
        registrable(subject)?;
        let mode = self.effective_mode(subject)?;
        config::admit(subject, mode, &options)?;
        let explicit = options.is_explicit();
        let blank = request.text.trim().is_empty();
        // A request naming version -1 is answered by the newest version alone, or by a new one.
        let latest_only = options.versioned && options.version.is_none();
        // Configured defaults or overrides change what a request registers: it is never answered as sent.
        let settings = if mode == Mode::Import { ScopeSettings::default() } else { self.effective_settings(subject)? };
        // Normalized when asked or configured, never in IMPORT mode (Confluent's rule: an import keeps its text).
        let normalize = mode != Mode::Import && (request.normalize || settings.normalize == Some(true));
        let adjusted;
        let request = if normalize == request.normalize {
            request
        } else {
            adjusted = request.clone().normalized(normalize);
            &adjusted
        };
        let as_sent_answers = !explicit && !settings.has_defaults_or_overrides();
        // The fast path: the schema exactly as sent, seen before, already in this subject. No parse, no
        // transaction.
        let mut parsed = None;
        if !blank {
            let known = self.identify_checked(subject, request, &settings)?;
            if as_sent_answers
                && let Identified::Seen(fingerprint) = known
                && let Some(registered) = self.answerable(subject, fingerprint, latest_only)?
            {
                return Ok(Registration::answered(registered));
            }
            let as_sent = match known {
                Identified::Parsed(parsed) => parsed,
                Identified::Seen(_) => self.parse_keyed(request, None, subject.context())?,
            };
            if as_sent_answers && let Some(registered) = self.answerable(subject, as_sent.fingerprint(), latest_only)? {
                return Ok(Registration::answered(registered));
            }
            parsed = Some(as_sent);
        }
        // Outside IMPORT mode, what the request omits comes from the subject's newest live version.
        let (schema, parsed, inheritance) = match (mode, parsed) {
            (Mode::Import, Some(parsed)) => (request.clone(), parsed, None),
            (Mode::Import, None) => return Err(RegistryError::InvalidSchema(SchemaError::Empty)),
            (_, parsed) => match self.inherit(subject, request, parsed, &settings, options)? {
                Inherited::Found(registered) => return Ok(Registration::answered(registered)),
                Inherited::Schema(prepared) => {
                    let (schema, parsed, basis) = *prepared;
                    (schema, parsed, Some(Inheritance { request: request.clone(), basis }))
                }
            },
        };
        let fingerprint = parsed.fingerprint();
        let inherited = inheritance.as_ref().is_some_and(|i| i.request != schema);
        // A request naming a version makes a new one unless the fast path found it (Confluent's rule).
        if inherited
            && !options.versioned
            && let Some(registered) = self.cached_registration(subject, fingerprint)
        {
            return Ok(Registration::answered(Registered { inherited, ..registered }));
        }

        let judging = Judging::of(&settings);
        judging.check_names(&parsed, mode)?;
        // A semantic version given is taken as it is: whether only documentation changed is not asked then.
        let bump = options.semver.is_none();
        let precheck = match mode {
            Mode::Import => None,
            _ => Some(self.precheck(subject, &parsed, judging, bump, inheritance.as_ref().map(|i| &i.basis))?),
        };
        // Once the new version lands, the next check at a level that is not transitive reads it, not the version it
        // supersedes: that version's tree gives up its room in the parsed cache to the new one.
        let superseded =
            precheck.as_ref().filter(|p| !p.level.is_transitive()).and_then(|p| p.live.first()).map(|(_, id)| *id);
        let given_version = options.version.is_some();
        let admission = Admission { options, actor: self.actor.clone(), precheck, inheritance };
        // Read before the job is queued: an id it makes can only be removed after that.
        let removals = self.inner.shared.caches.removals();
        let answer = self.submit_registration(subject, &schema, &parsed, admission)?;
        let finish = Finish {
            caches: self.inner.shared.caches.clone(),
            key: (subject.clone(), fingerprint),
            parsed,
            superseded,
            given_version,
            cache_record: options.cache_record.then_some(removals),
        };
        let retry = (attempts > 0).then(|| {
            Box::new(Retry {
                registry: self.clone(),
                subject: subject.clone(),
                request: request.clone(),
                options,
                attempts: attempts - 1,
            })
        });
        Ok(Registration { step: Step::Committing { answer, finish: Some(finish), retry } })
    }

    /// What `request` stands for under `subject` ([`inherit::effective`]), parsed (`as_sent` is the request's own
    /// parse; none for an empty text), or the version it loosely matches ([`inherit::loose_match`]).
    fn inherit(
        &self,
        subject: &Subject,
        request: &UnparsedSchema,
        as_sent: Option<Arc<ParsedSchema>>,
        settings: &ScopeSettings,
        options: RegisterOptions,
    ) -> Result<Inherited> {
        let snapshot = Lazy::new(&*self.inner.store);
        let newest = self.newest_live(subject)?;
        let previous = newest.map(|(_, id)| self.schema_in(&snapshot, id)).transpose()?;
        let mut next = None;
        let schema = inherit::effective(request, previous.as_deref(), settings, options.versioned, || {
            let version = next_version(&snapshot.subject_versions(subject)?, subject)?;
            next = Some(version);
            Ok(version)
        })?;
        let changed = schema != *request;
        // `confluent:version` on either side: a version may match without being equal.
        let versioned = options.versioned
            || inherit::has_confluent_version(&request.contract)
            || previous.as_ref().is_some_and(|p| inherit::has_confluent_version(&p.contract));
        // An Avro text may be a live version's in other orders of its properties, aliases or default members: one
        // schema to Confluent's lookups (`loose_match` below), though its fingerprint is another. Not when the text
        // has an id already (in another subject): Confluent then registers that id here.
        let as_sent_key = if newest.is_some() { as_sent.as_deref().and_then(inherit::equivalence_key) } else { None };
        let reorderable = match &as_sent {
            Some(as_sent) if as_sent_key.is_some() => snapshot.id_of(&as_sent.fingerprint())?.is_none(),
            _ => false,
        };
        let live =
            if versioned || changed || reorderable { self.live_schemas(subject, &snapshot)? } else { Vec::new() };
        // Confluent's fast path, which the caches may not hold: the request as sent, exactly or loosely, in a live
        // version (version -1: the newest alone). A request naming a version number makes a new one.
        if let Some(as_sent) = &as_sent
            && changed
            && options.version.is_none()
            && !settings.has_defaults_or_overrides()
        {
            let candidates = if options.versioned { &live[..live.len().min(1)] } else { &live[..] };
            let fingerprint = as_sent.fingerprint();
            let exact = candidates.iter().find(|(.., stored)| stored.fingerprint == fingerprint);
            if let Some(found) = exact.map(|(version, _, stored)| (*version, stored.id)) {
                return Ok(Inherited::Found(registered_at(&live, found, false)));
            }
            if let Some(found) = inherit::loose_match(as_sent, as_sent_key.as_deref(), versions_of(candidates)) {
                return Ok(Inherited::Found(registered_at(&live, found, false)));
            }
        }
        let (parsed, key) = match as_sent {
            Some(parsed) if !changed => (parsed, as_sent_key),
            Some(parsed) if schema.text == request.text => {
                (Arc::new(parsed.with_contract(schema.contract.clone())), as_sent_key)
            }
            _ => {
                let parsed = self.parse_keyed(&schema, None, subject.context())?;
                let key = if changed { inherit::equivalence_key(&parsed) } else { None };
                (parsed, key)
            }
        };
        if (changed || reorderable)
            && !options.versioned
            && let Some(found) = inherit::loose_match(&parsed, key.as_deref(), versions_of(&live))
        {
            return Ok(Inherited::Found(registered_at(&live, found, changed)));
        }
        let basis = Basis { newest, previous, next, settings: settings.clone() };
        Ok(Inherited::Schema(Box::new((schema, parsed, basis))))
    }

    /// The subject's newest live version and its id: from the cache, else the store.
    fn newest_live(&self, subject: &Subject) -> Result<Option<(Version, SchemaId)>> {
        match self.caches().latest.get(subject) {
            Some(latest) => Ok(latest.map(|(version, id, ..)| (version, id))),
            None => self.snapshot()?.newest_live_version(subject),
        }
    }

    /// The subject's live versions, newest first, with their schemas.
    fn live_schemas(&self, subject: &Subject, snapshot: &dyn Snapshot) -> Result<Vec<LiveSchema>> {
        let versions = snapshot.subject_versions(subject)?;
        let live = versions.iter().rev().filter(|(_, record)| !record.deleted);
        live.map(|(version, record)| Ok((*version, record.semver, self.schema_in(snapshot, record.id)?))).collect()
    }

    /// The answer `register` would give if it can be given from memory alone: the same text already registered
    /// in this subject, in a mode that accepts registrations. `None` means `register` must do real work (parse,
    /// check, write); a server calls this inline and `register` on its blocking pool only when it is `None`.
    pub fn registered_already(&self, subject: &Subject, schema: &UnparsedSchema) -> Result<Option<Registered>> {
        registrable(subject)?;
        let settings = self.effective_settings(subject)?;
        // A configured normalization parses what the request does not say to.
        let normalized_here = settings.normalize == Some(true) && !schema.normalize;
        if self.effective_mode(subject)?.is_read_only() || settings.has_defaults_or_overrides() || normalized_here {
            return Ok(None);
        }
        let fingerprint = text_key(schema).and_then(|key| self.caches().text_fingerprints.get(&key));
        let fingerprint = fingerprint.map(|fingerprint| fingerprint.in_context(subject.context()));
        Ok(fingerprint.and_then(|fingerprint| self.cached_registration(subject, fingerprint)))
    }

    /// The answer from the cache to a registration of `fingerprint` as sent: the subject's live version holding it,
    /// which must be the newest when the request named version -1 (`latest_only`).
    fn answerable(&self, subject: &Subject, fingerprint: Fingerprint, latest_only: bool) -> Result<Option<Registered>> {
        let Some(registered) = self.cached_registration(subject, fingerprint) else { return Ok(None) };
        if latest_only && self.newest_live(subject)?.is_none_or(|(version, _)| version != registered.version) {
            return Ok(None);
        }
        Ok(Some(registered))
    }

    /// The subject's live version holding `fingerprint`, from the cache.
    fn cached_registration(&self, subject: &Subject, fingerprint: Fingerprint) -> Option<Registered> {
        let (version, id, semver) = self.caches().subject_fingerprints.get(&(subject.clone(), fingerprint))?;
        Some(Registered { id, version, semver, deduplicated: true, inherited: false })
    }

    /// The compatibility checks of a registration, run before it joins the group commit, against a read
    /// snapshot of the subject: the commit reuses them when the subject's live versions and level are still
    /// those, so parsing earlier versions and comparing runs on the caller's thread, in parallel, rather than
    /// on the one committer thread every registration waits for.
    ///
    /// The level and the newest live version come from the caches when they hold them, and the store is read only
    /// for what they miss: the commit checks again against what it sees whenever either has moved.
    /// `bump`: the new version's semantic version is to be derived (none was given). `basis`: what the
    /// contract's inheritance read of the subject's newest live version moments before, read no more here.
    fn precheck(
        &self,
        subject: &Subject,
        parsed: &ParsedSchema,
        judging: Judging,
        bump: bool,
        basis: Option<&Basis>,
    ) -> Result<Precheck> {
        let snapshot = Lazy::new(&*self.inner.store);
        let level = self.effective(subject)?.level;
        // A level that is not transitive checks the newest live version alone: the one the inheritance read, the
        // cached latest, or read back from the end to it. Under a compatibility group, the newest of the group's,
        // among them all.
        let live = if level.is_transitive() || judging.group.is_some() {
            live_versions(&snapshot.subject_versions(subject)?)
        } else if let Some(basis) = basis {
            basis.newest.into_iter().collect()
        } else {
            match self.caches().latest.get(subject) {
                Some(latest) => latest.map(|(version, id, ..)| (version, id)).into_iter().collect(),
                None => snapshot.newest_live_version(subject)?.into_iter().collect(),
            }
        };
        let shared = &self.inner.shared;
        // At a level that is not transitive the newest version is the only one checked, and the candidate
        // supersedes it once registered: a tree parsed for it now is not worth a place in the cache.
        let keep = level.is_transitive();
        let report = shared.judge(parsed, level, &judging, &live, &snapshot, keep)?;
        let backward_with_newest = match live.first() {
            Some(newest) if !level.checks_backward() => Some(shared.reads_data_of(parsed, *newest, &snapshot, keep)?),
            _ => None,
        };
        let documentation_alone = match live.first() {
            Some(&(_, newest)) if bump => {
                let read = basis.and_then(|basis| basis.previous.clone()).filter(|previous| previous.id == newest);
                let record = match read {
                    Some(record) => record,
                    None => self.schema_in(&snapshot, newest)?,
                };
                // The newest version's tree, when cached, keeps its text without documentation from the last time.
                let tree = self.caches().parsed.get(&newest);
                Some((newest, documentation_alone(&record, parsed, tree.as_deref())))
            }
            _ => None,
        };
        Ok(Precheck { level, judging, live, report, backward_with_newest, documentation_alone })
    }

    /// Queues a registration for the committer's next batch; the answer comes once that batch's commit is decided.
    fn submit_registration(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        parsed: &Arc<ParsedSchema>,
        admission: Admission,
    ) -> Result<Answer<Heard>> {
        let shared = self.inner.shared.clone();
        let (job_subject, schema, parsed) = (subject.clone(), schema.clone(), parsed.clone());
        let referenced = schema.references.iter().map(|reference| subject.referenced(&reference.subject)).collect();
        self.inner.committer.submit(
            subject.clone(),
            referenced,
            parsed.fingerprint(),
            Box::new(move |txn| shared.register_in(txn, &job_subject, &schema, &parsed, admission)),
        )
    }
}

impl Shared {
    /// The body of a registration inside its write transaction. Returns whether it wrote a new version.
    fn register_in(
        &self,
        txn: &mut dyn Transaction,
        subject: &Subject,
        schema: &UnparsedSchema,
        parsed: &ParsedSchema,
        admission: Admission,
    ) -> Committed {
        let Admission { options, actor, precheck, inheritance } = admission;
        // The mode and level as this transaction sees them: a change committed since the caller's checks counts.
        let (Effective { level, mode }, settings) = config::in_force(&*txn, subject)?;
        config::admit(subject, mode, &options)?;
        let fingerprint = parsed.fingerprint();
        let versions = txn.subject_versions(subject)?;
        if let Some(inheritance) = &inheritance {
            inheritance.still_holds(&*txn, subject, &versions, &settings, schema, options.versioned)?;
        }
        // The newest live version the registration's look at the subject saw (`inherit`), if it looked.
        let looked_up_to = inheritance.as_ref().map(|i| i.basis.newest.map(|(version, _)| version));
        let inherited = inheritance.is_some_and(|i| i.request != *schema);
        let known_id = txn.id_of(&fingerprint)?;
        // An id given outside the default context is the context's own: with the stored id it names, if any yet.
        let context = subject.context();
        let given = match options.id {
            Some(given) if context != DEFAULT_CONTEXT => {
                txn.hold_ids()?;
                Some((given, txn.context_id(context, given.0)?))
            }
            Some(given) => Some((given, Some(given))),
            None => None,
        };

        if let Some(known) = known_id {
            let existing = versions.iter().rev().find(|(_, r)| !r.deleted && r.id == known);
            // Outside IMPORT mode, a request naming a version makes a new one (the fast path answered the rest).
            if let Some((version, record)) = existing
                && given.is_none_or(|(_, stored)| stored == Some(known))
                && options.version.is_none_or(|v| v == *version)
                && (mode == Mode::Import || !options.versioned)
            {
                let registered =
                    Registered { id: known, version: *version, semver: record.semver, deduplicated: true, inherited };
                return Ok((registered, false, None, None));
            }
        }
        // Known elsewhere but not here: this subject may hold the same text under an id that kept an older identity
        // when texts became canonical; that version is the answer, as Confluent's lookup by equivalence finds it.
        // Such ids share the text's GUID, so the GUID index names them without reading the subject's records.
        if known_id.is_some_and(|known| !versions.iter().any(|(_, r)| r.id == known))
            && !options.is_explicit()
            && !options.versioned
        {
            let contract = parsed.contract();
            let guid = registry_core::SchemaGuid::compute(
                parsed.text(),
                parsed.references(),
                contract.metadata.as_ref(),
                contract.rule_set.as_ref(),
            );
            let same_text = txn.ids_by_guid(&guid)?;
            let candidates = versions.iter().rev().filter(|(_, r)| same_text.contains(&r.id));
            if let Some(registered) = live_holding(&*txn, candidates, inherited, |stored| stored.holds(parsed))? {
                return Ok((registered, false, None, None));
            }
        }

        // Another order of this Avro text's properties, aliases or default members, registered in the subject since
        // the registration looked (`inherit` found none then): that version is the answer, as it would have been.
        let since = || versions.iter().rev().take_while(|(v, _)| looked_up_to.flatten().is_none_or(|seen| *v > seen));
        if looked_up_to.is_some()
            && known_id.is_none()
            && !options.is_explicit()
            && !options.versioned
            && since().any(|(_, r)| !r.deleted)
            && let Some(key) = inherit::equivalence_key(parsed)
        {
            let equivalent = |stored: &StoredSchema| stored.equivalent(parsed, Some(&key));
            if let Some(registered) = live_holding(&*txn, since(), inherited, equivalent)? {
                return Ok((registered, false, None, None));
            }
        }

        let id = match (given, known_id) {
            (Some((given, stored)), Some(known)) if stored != Some(known) => {
                return Err(RegistryError::IdMismatch { given, known: public_id(&*txn, known)? });
            }
            (Some((given, Some(stored))), _) => {
                // Held first: another transaction allocating `given` right now would otherwise bind it unseen.
                txn.hold_ids()?;
                if txn.fingerprint_of(stored)?.is_some_and(|bound| bound != fingerprint) {
                    return Err(RegistryError::IdTaken(given));
                }
                IdChoice::Given(stored)
            }
            (Some((given, None)), _) => IdChoice::GivenInContext(given.0),
            (None, Some(known)) => IdChoice::Known(known),
            (None, None) => IdChoice::Allocate,
        };
        let version = match options.version {
            Some(given) if mode != Mode::Import => {
                let next = next_version(&versions, subject)?;
                if given != next {
                    return Err(RegistryError::VersionNotNext { subject: subject.clone(), given, next });
                }
                given
            }
            Some(given) => {
                if versions.iter().any(|(v, _)| *v == given) {
                    return Err(RegistryError::VersionExists { subject: subject.clone(), version: given });
                }
                given
            }
            None => next_version(&versions, subject)?,
        };

        // The references resolved when the schema was parsed, before this transaction: the versions they name must
        // still be there (the transaction holds their subjects' locks, so a delete cannot race it).
        for reference in &schema.references {
            if txn.version(&subject.referenced(&reference.subject), reference.version)?.is_none() {
                let source = ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version };
                let name = reference.name.clone();
                return Err(RegistryError::InvalidSchema(SchemaError::ReferenceNotResolved { name, source }));
            }
        }
        let live = live_versions(&versions);
        let judging = Judging::of(&settings);
        let seen_documentation = precheck.as_ref().and_then(|p| p.documentation_alone);
        // Whether the candidate is the newest live version but for its documentation, as the precheck saw it
        // when that version is still the newest.
        let documentation_only = |txn: &dyn Transaction| -> Result<bool> {
            let Some(&(_, newest)) = live.first() else { return Ok(false) };
            match seen_documentation {
                Some((seen, alone)) if seen == newest => Ok(alone),
                _ => Ok(txn.schema(newest)?.is_some_and(|stored| documentation_alone(&stored, parsed, None))),
            }
        };
        // The checks made before the transaction still hold when the subject is as they saw it: ids never change
        // meaning, so the same live (version, id) list at the same level and group gives the same verdict.
        let (checked_report, checked_backward) = precheck
            .filter(|p| p.level == level && p.judging == judging && p.saw(&live))
            .map_or((None, None), |p| (Some(p.report), p.backward_with_newest));
        if mode != Mode::Import {
            let report = match checked_report {
                Some(report) => report,
                None => self.judge(parsed, level, &judging, &live, &*txn, level.is_transitive())?,
            };
            if !report.is_compatible() {
                return Err(RegistryError::Incompatible { subject: subject.clone(), report });
            }
        }
        let latest_semver = versions.iter().map(|(_, r)| r.semver).max();
        let semver = match (options.semver, latest_semver) {
            (Some(given), Some(latest)) if given <= latest => {
                return Err(RegistryError::SemVerNotIncreasing { subject: subject.clone(), given, latest });
            }
            (Some(given), _) => given,
            (None, None) => SemVer::FIRST,
            (None, Some(latest)) if documentation_only(&*txn)? => {
                // The newest live version but for its documentation: a patch.
                latest.bump_patch()
            }
            (None, Some(latest)) => {
                // Backward compatible with the latest live version: a minor bump; otherwise a major one.
                let checked = level.checks_backward() && mode != Mode::Import;
                let backward = checked
                    || match (live.first(), checked_backward) {
                        (None, _) => true,
                        (Some(_), Some(backward)) => backward,
                        (Some(newest), None) => self.reads_data_of(parsed, *newest, &*txn, level.is_transitive())?,
                    };
                if backward { latest.bump_minor() } else { latest.bump_major() }
            }
        };

        // Every check has passed: from here on the job writes. A job that fails before this line wrote nothing,
        // so it cannot disturb the other jobs of its group commit.
        let in_default = context == DEFAULT_CONTEXT;
        let (id, fresh) = match id {
            IdChoice::Given(id) if in_default => {
                txn.reserve_id(id)?;
                (id, false)
            }
            IdChoice::Given(id) | IdChoice::Known(id) => (id, false),
            IdChoice::GivenInContext(given) => (txn.reserve_in_context(context, given)?, true),
            IdChoice::Allocate if in_default => (txn.allocate_id()?, true),
            IdChoice::Allocate => (txn.allocate_in_context(context)?.0, true),
        };
        if !in_default {
            txn.add_context(context)?;
        }
        // A record at `id` is this schema's (ids are bound to one fingerprint, checked above), so it is kept, and held
        // so that a delete cannot take it away before this commits; an id allocated just now has none.
        let mut written = None;
        if fresh || !txn.hold_schema(id)? {
            // The canonical text (normalized if asked) and references, as Confluent stores them.
            let stored = StoredSchema::new(
                id,
                schema.schema_type,
                parsed.text().to_string(),
                parsed.references().to_vec(),
                fingerprint,
                schema.contract.clone(),
            );
            txn.put_schema(&stored)?;
            written = Some(Arc::new(stored));
        }
        txn.bind(&fingerprint, id)?;
        let state = if options.draft { VersionState::Draft } else { VersionState::Active };
        let mut record = VersionRecord::new(id, semver, state);
        if mode == Mode::Import {
            // Registered elsewhere, at a time its source does not say.
            record.registered = None;
        }
        // Numbered past every version the subject has and not a draft, it is the subject's latest from now on.
        let newest = (record.is_current() && versions.iter().all(|(existing, _)| *existing < version))
            .then(|| (version, id, semver, record.effective_state()));
        txn.put_version(subject, version, record)?;
        txn.add_use(id, subject, version)?;
        // The references are part of the fingerprint, so a kept record names the same ones.
        for reference in parsed.references() {
            txn.add_referrer(&referenced(subject, reference), id)?;
        }
        let event = Event::new(AuditAction::Register).subject(subject.as_str()).version(version).id(&*txn, id)?;
        let event = match (mode, options.draft) {
            (Mode::Import, _) => event.detail("import"),
            (_, true) => event.detail("draft"),
            _ => event,
        };
        audit::append(txn, actor.as_deref(), event)?;
        Ok((Registered { id, version, semver, deduplicated: false, inherited }, true, written, newest))
    }
}

/// Whether `parsed` is `newest` but for its documentation: the same format, references and contract, and texts
/// equal once their docs, titles, descriptions, examples and comments are set aside. `newest_tree`, a parsed
/// tree of `newest`'s text, is compared instead of the text when it is one, for what it remembers.
fn documentation_alone(newest: &StoredSchema, parsed: &ParsedSchema, newest_tree: Option<&ParsedSchema>) -> bool {
    newest.schema_type == parsed.schema_type()
        && newest.references == parsed.references()
        && newest.contract == *parsed.contract()
        && match newest_tree {
            Some(tree) if tree.text() == newest.text => tree.differs_only_in_documentation(parsed),
            _ => registry_core::format::differs_only_in_documentation(newest.schema_type, &newest.text, parsed.text()),
        }
}

/// Where a new version's id comes from.
enum IdChoice {
    /// Given by an import: the stored id it names.
    Given(SchemaId),
    /// Given by an import into a context other than the default one, naming no stored id yet.
    GivenInContext(u32),
    /// The id this schema was registered with before, in any subject.
    Known(SchemaId),
    /// A new one.
    Allocate,
}

/// A registration under way ([`Registry::begin_register`]): answered already, or waiting for its group commit.
/// [`Registration::wait`] blocks for the answer; as a `Future` it resolves to the same answer without blocking.
#[must_use = "a registration is only known to have landed once it is waited for"]
pub struct Registration {
    step: Step,
}

enum Step {
    Answered(Option<Registered>),
    Committing { answer: Answer<Heard>, finish: Option<Finish>, retry: Option<Box<Retry>> },
}

/// What a committed registration leaves to do on the caller's side: teach the caches what it made.
struct Finish {
    caches: Arc<Caches>,
    key: (Subject, Fingerprint),
    parsed: Arc<ParsedSchema>,
    /// The subject's newest live version before this one, when its level checks only the newest.
    superseded: Option<SchemaId>,
    /// Whether the version was given (IMPORT mode): it may be older than a live version holding the same schema.
    given_version: bool,
    /// Whether the record of a new schema goes into the record cache ([`RegisterOptions::cache_record`]): if so,
    /// the count of removals before the registration was queued.
    cache_record: Option<u64>,
}

/// How to begin a registration again when the subject's newest version changed under it
/// ([`RegistryError::SubjectMoving`]).
struct Retry {
    registry: Registry,
    subject: Subject,
    request: UnparsedSchema,
    options: RegisterOptions,
    /// Attempts left after the next.
    attempts: u32,
}

/// How many times a registration that inherits from its subject's newest version is begun again when that
/// version changes before it commits.
const ATTEMPTS: u32 = 16;

impl Registration {
    fn answered(registered: Registered) -> Self {
        Self { step: Step::Answered(Some(registered)) }
    }

    /// Blocks until the registration's commit is durable (or it failed) and returns the outcome.
    pub fn wait(mut self) -> Result<Registered> {
        loop {
            let outcome = match &mut self.step {
                Step::Answered(registered) => return registered.take().ok_or_else(answered_twice),
                Step::Committing { answer, finish, .. } => settle(finish.take(), answer.wait()),
            };
            if let Some(outcome) = self.answer_or_retry(outcome) {
                return outcome;
            }
        }
    }

    /// `outcome` as the answer; or, when the subject moved under this registration and it may be tried again,
    /// `None`, with this registration become the next attempt.
    fn answer_or_retry(&mut self, outcome: Result<Registered>) -> Option<Result<Registered>> {
        let Step::Committing { retry, .. } = &mut self.step else { return Some(outcome) };
        match (outcome, retry.take()) {
            (Err(RegistryError::SubjectMoving(_)), Some(retry)) => {
                let Retry { registry, subject, request, options, attempts } = *retry;
                match registry.begin_attempt(&subject, &request, options, attempts) {
                    Ok(next) => {
                        *self = next;
                        None
                    }
                    Err(e) => Some(Err(e)),
                }
            }
            (outcome, _) => Some(outcome),
        }
    }
}

impl std::future::Future for Registration {
    type Output = Result<Registered>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let outcome = match &mut this.step {
                Step::Answered(registered) => {
                    return std::task::Poll::Ready(registered.take().ok_or_else(answered_twice));
                }
                Step::Committing { answer, finish, .. } => match answer.poll(cx) {
                    std::task::Poll::Pending => return std::task::Poll::Pending,
                    std::task::Poll::Ready(heard) => settle(finish.take(), heard),
                },
            };
            if let Some(outcome) = this.answer_or_retry(outcome) {
                return std::task::Poll::Ready(outcome);
            }
        }
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let step = match &self.step {
            Step::Answered(_) => "answered",
            Step::Committing { .. } => "committing",
        };
        f.debug_struct("Registration").field("step", &step).finish()
    }
}

fn answered_twice() -> RegistryError {
    crate::error::StorageError::message("registry", "a registration's answer was taken twice").into()
}

/// The caller's answer to a registration whose job has answered (`None`: the committer stopped before it ran).
fn settle(finish: Option<Finish>, heard: Option<Heard>) -> Result<Registered> {
    let (outcome, retractions) = heard.ok_or(RegistryError::Closing)?;
    let (registered, wrote, record, _) = outcome?;
    let Finish { caches, key, parsed, superseded, given_version, cache_record } = finish.ok_or_else(answered_twice)?;
    // A version written where it was given may be older than a live one holding the same schema, which is what a
    // plain registration answers (the newest): the fast path does not learn it. It may be newer, too, than the one
    // the fast path knows: that one is forgotten (the next registration of the schema reads the subject).
    let key = if wrote && given_version {
        caches.subject_fingerprints.invalidate(&key);
        None
    } else {
        Some(key)
    };
    // The committer has already dropped what the new version made stale, before answering; a delete or settings
    // change since then (this instance's or another's) takes back what is remembered here.
    caches.after_registered(retractions, key, &registered, wrote.then_some((parsed, superseded)));
    if let (Some(record), Some(removals)) = (record, cache_record) {
        caches.record_registered(removals, record);
    }
    Ok(registered)
}

/// How a registration is to be admitted: the caller's options, and the checks made ahead.
struct Admission {
    options: RegisterOptions,
    /// Who registers, for the audit log.
    actor: Option<Arc<str>>,
    precheck: Option<Precheck>,
    /// What the registration took from its subject's newest version (outside IMPORT mode).
    inheritance: Option<Inheritance>,
}

/// A registration's request as sent, and the subject as the registration read it to work out what it inherits.
struct Inheritance {
    request: UnparsedSchema,
    basis: Basis,
}

impl Inheritance {
    /// Whether `schema`, worked out from the request before the transaction, is what the request stands for in
    /// the subject as the transaction sees it (`versions`, `settings`): else the subject moved, and the
    /// registration is to be begun again (its fingerprint, which the transaction locks, may be another).
    fn still_holds(
        &self,
        txn: &dyn Transaction,
        subject: &Subject,
        versions: &[(Version, VersionRecord)],
        settings: &ScopeSettings,
        schema: &UnparsedSchema,
        versioned: bool,
    ) -> Result<()> {
        let newest = versions.iter().rev().find(|(_, r)| r.is_current()).map(|(v, r)| (*v, r.id));
        let next = next_version(versions, subject)?;
        if newest == self.basis.newest
            && self.basis.next.is_none_or(|given| given == next)
            && *settings == self.basis.settings
        {
            return Ok(());
        }
        let previous = match newest {
            Some((_, id)) => Some(txn.schema(id)?.ok_or_else(|| {
                RegistryError::Corrupt(format!("a version refers to schema id {id}, which is not stored"))
            })?),
            None => None,
        };
        match inherit::effective(&self.request, previous.as_ref(), settings, versioned, || Ok(next)) {
            Ok(now) if now == *schema => Ok(()),
            _ => Err(RegistryError::SubjectMoving(subject.clone())),
        }
    }
}

/// What a registration stands for once inheritance is worked out.
enum Inherited {
    /// A version the subject has already, loosely matched: the answer.
    Found(Registered),
    /// The schema to register, parsed, and what it was worked out from.
    Schema(Box<(UnparsedSchema, Arc<ParsedSchema>, Basis)>),
}

/// A live version, its semantic version and its schema.
type LiveSchema = (Version, SemVer, Arc<StoredSchema>);

/// The versions of `live` and their schemas.
fn versions_of(live: &[LiveSchema]) -> impl Iterator<Item = (Version, &StoredSchema)> {
    live.iter().map(|(version, _, stored)| (*version, &**stored))
}

/// The first live version among `versions` whose stored schema passes `test`, as the answer of a registration that
/// finds its schema there (`inherited`: whether the request took part of it from the newest version).
fn live_holding<'a>(
    txn: &dyn Transaction,
    versions: impl Iterator<Item = &'a (Version, VersionRecord)>,
    inherited: bool,
    test: impl Fn(&StoredSchema) -> bool,
) -> Result<Option<Registered>> {
    for (version, record) in versions.filter(|(_, r)| !r.deleted) {
        if txn.schema(record.id)?.is_some_and(|stored| test(&stored)) {
            let (id, version, semver) = (record.id, *version, record.semver);
            return Ok(Some(Registered { id, version, semver, deduplicated: true, inherited }));
        }
    }
    Ok(None)
}

/// The answer naming the live version `found` among `live`.
fn registered_at(live: &[LiveSchema], found: (Version, SchemaId), inherited: bool) -> Registered {
    let semver = live.iter().find(|(version, ..)| *version == found.0).map_or(SemVer::FIRST, |(_, semver, _)| *semver);
    Registered { id: found.1, version: found.0, semver, deduplicated: true, inherited }
}

/// The number a new version of `subject` takes: one past its last (live or soft-deleted), or the first.
fn next_version(versions: &[(Version, VersionRecord)], subject: &Subject) -> Result<Version> {
    match versions.last() {
        None => Ok(Version::FIRST),
        Some((latest, _)) => latest.next().ok_or_else(|| RegistryError::VersionsExhausted(subject.clone())),
    }
}

/// A registration's compatibility checks, made against a read snapshot before the write transaction.
struct Precheck {
    /// The subject's level in the snapshot.
    level: CompatibilityLevel,
    /// How the subject's settings judge (its compatibility group, policy and field checks).
    judging: Judging,
    /// Its live versions, newest first, in the snapshot: all of them at a transitive level, else the newest.
    live: Vec<(Version, SchemaId)>,
    /// The candidate against the versions `level` names.
    report: CompatReport,
    /// Whether the candidate can read the newest live version's data, when `level` does not already say so
    /// (it decides the semver bump).
    backward_with_newest: Option<bool>,
    /// The newest live version's id, and whether the candidate is that schema but for its documentation (a patch
    /// bump): decided here, where registrations run side by side, not in the one write transaction at a time.
    documentation_alone: Option<(SchemaId, bool)>,
}

impl Precheck {
    /// Whether the checks still hold for a subject whose live versions (newest first) are `live` at the same
    /// level: the versions they read are the ones the level would read now.
    fn saw(&self, live: &[(Version, SchemaId)]) -> bool {
        if self.level.is_transitive() || self.judging.group.is_some() {
            self.live == live
        } else {
            self.live.first() == live.first()
        }
    }
}

/// A subject's live versions, newest first, from its versions in ascending order.
pub(super) fn live_versions(versions: &[(Version, VersionRecord)]) -> Vec<(Version, SchemaId)> {
    versions.iter().rev().filter(|(_, r)| r.is_current()).map(|(v, r)| (*v, r.id)).collect()
}
