//! Group commit: concurrent registrations batched into one durable commit.
//!
//! Each registration hands the committer thread a job and waits. The thread takes every job queued so far, runs
//! them in order inside one write transaction of the store, commits once (durably), drops what the new versions
//! made stale from the caches, and only then answers each caller. A job that is refused writes nothing, so it does
//! not disturb the others in its batch; a failed commit fails every job in the batch. No caller is answered before
//! the commit that holds its write.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use registry_core::{Fingerprint, Subject};

use crate::RegistryError;
use crate::cache::{Caches, Change, Latest};
use crate::error::StorageError;
use crate::records::{Registered, StoredSchema};
use crate::store::{Lock, Store, Transaction};

/// What a registration job answers: the registration, whether it wrote a new version, the schema record it
/// wrote, if it wrote one (a new id's), and the subject's newest current version when the new version is it.
pub(crate) type Committed = Result<(Registered, bool, Option<Arc<StoredSchema>>, Latest), RegistryError>;

/// What a caller hears: its registration's outcome, and the count of retractions (`Caches::retractions`) when it
/// was answered, for the caller to check that nothing it learned was taken back before it remembers it.
pub(crate) type Heard = (Committed, u64);

/// A registration to run inside a shared transaction.
pub(crate) type Run = Box<dyn FnOnce(&mut dyn Transaction) -> Committed + Send>;

/// A queued registration: its subject and fingerprint (which the store serializes), its work, and its caller's
/// answer.
struct Job {
    subject: Subject,
    /// The subjects of the versions its schema references: a delete of them must wait for it.
    referenced: Vec<Subject>,
    fingerprint: Fingerprint,
    run: Run,
    reply: Replier<Heard>,
}

/// Most jobs in one batch: bounds the latency a single commit adds to the first job in it.
const MAX_BATCH: usize = 256;

/// How many group commits ran and how many jobs they held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Durable commits made by the committer.
    pub commits: u64,
    /// Registration jobs those commits held.
    pub jobs: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    jobs: AtomicU64,
}

/// The committer thread and the queue to it.
pub(crate) struct Committer {
    sender: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Committer {
    /// Starts the committer over `store`, keeping `caches` coherent with what it commits.
    pub(crate) fn start(store: Arc<dyn Store>, caches: Arc<Caches>) -> Self {
        let (sender, receiver) = channel::<Job>();
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("registry-commit".into())
            .spawn(move || run(&*store, &caches, &receiver, &thread_counters))
            .expect("the committer thread starts");
        Self { sender: Some(sender), thread: Some(thread), counters }
    }

    /// Whether the committer thread still runs: a registration can commit.
    pub(crate) fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|thread| !thread.is_finished())
    }

    /// Commits and jobs so far.
    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            jobs: self.counters.jobs.load(Ordering::Relaxed),
        }
    }

    /// Queues a registration of `subject`; the answer comes once its batch's commit is decided. Fails only if
    /// the committer has stopped.
    pub(crate) fn submit(
        &self,
        subject: Subject,
        referenced: Vec<Subject>,
        fingerprint: Fingerprint,
        run: Run,
    ) -> Result<Answer<Heard>, RegistryError> {
        let sender = self.sender.as_ref().ok_or(RegistryError::Closing)?;
        let (reply, answer) = answer();
        sender.send(Job { subject, referenced, fingerprint, run, reply }).map_err(|_| RegistryError::Closing)?;
        Ok(answer)
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        // Closing the queue ends the thread's loop once queued jobs are done; joining releases the store.
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(store: &dyn Store, caches: &Caches, receiver: &Receiver<Job>, counters: &Counters) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        counters.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
        counters.commits.fetch_add(1, Ordering::Relaxed);
        commit_batch(store, caches, batch);
    }
}

fn commit_batch(store: &dyn Store, caches: &Caches, batch: Vec<Job>) {
    let size = batch.len();
    let (mut runs, mut answers, mut fingerprints, mut referenced) =
        (Vec::with_capacity(size), Vec::with_capacity(size), Vec::with_capacity(size), Vec::new());
    for Job { subject, referenced: subjects, fingerprint, run, reply } in batch {
        runs.push(run);
        answers.push((subject, reply));
        fingerprints.push(fingerprint);
        referenced.extend(subjects);
    }
    let subjects = answers.iter().map(|(subject, _)| subject).chain(&referenced).map(Lock::Subject);
    let mut locks: Vec<Lock<'_>> = subjects.chain(fingerprints.iter().map(Lock::Fingerprint)).collect();
    locks.sort_unstable();
    locks.dedup();
    let mut outcomes = Vec::with_capacity(size);
    // Read before the commit: every change applied to the caches after it moves it on.
    let epoch = caches.epoch();
    let write = || {
        store.write(
            &locks,
            Box::new(|txn| {
                for (run, (subject, _)) in runs.into_iter().zip(&answers) {
                    // A job that panics (a bug) fails alone: jobs check everything before they write, and their
                    // writes are plain inserts, so one that panics has written nothing of its own.
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(txn))).unwrap_or_else(|_| {
                            tracing::error!(%subject, "a registration panicked: it fails alone");
                            Err(StorageError::message("registry", "the registration failed on an internal error")
                                .into())
                        });
                    if let Ok((_, true, ..)) = &outcome {
                        txn.publish(&Change::Registered { subject: subject.clone() })?;
                    }
                    outcomes.push(outcome);
                }
                Ok(())
            }),
        )
    };
    // A panic in a job (a bug) rolls its batch back and fails its callers; the committer goes on.
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(write)).unwrap_or_else(|_| {
        Err(StorageError::message("registry", "a registration panicked: its group commit was rolled back").into())
    });
    metrics::histogram!("registry_store_commit_batch_size").record(size as f64);
    if let Err(error) = &written {
        tracing::error!(%error, jobs = size, "a group commit failed");
    }
    // A commit whose outcome is unknown may have landed: what its new versions would make stale is dropped.
    let landed = written.as_ref().map_or_else(RegistryError::is_outcome_unknown, |()| true);
    let mut outcomes = outcomes.into_iter();
    let mut applied = 0;
    for (subject, reply) in answers {
        let ran = outcomes.next();
        // What a new version makes stale is dropped here, on the committer, before anyone is answered: a caller
        // that stops waiting (a dropped future) must not leave a stale cache behind. A new version that is its
        // subject's newest is then remembered as its latest, if its commit is known to have landed (one whose
        // outcome is unknown may not have) and nothing else has changed since the batch began (`epoch`).
        if landed && let Some(Ok((_, true, _, newest))) = &ran {
            caches.apply(&Change::Registered { subject: subject.clone() });
            applied += 1;
            if written.is_ok() && newest.is_some() {
                caches.newest_registered(epoch, applied, subject, *newest);
            }
        }
        let outcome = match &written {
            Err(error) => Err(error.clone()),
            // The work ran to the end (the store committed it), so every job has its outcome.
            Ok(()) => ran.unwrap_or(Err(RegistryError::Closing)),
        };
        reply.send((outcome, caches.retracted()));
    }
}

/// A one-shot answer from the committer to one caller, which either blocks for it ([`Answer::wait`]) or polls
/// it from a future ([`Answer::poll`]): a caller in an async runtime waits without holding a thread.
pub(crate) struct Answer<T> {
    slot: Arc<Slot<T>>,
}

/// The committer's side of an [`Answer`]. Dropped without sending, it closes the answer: the caller learns the
/// job never ran instead of waiting forever.
pub(crate) struct Replier<T> {
    slot: Option<Arc<Slot<T>>>,
}

struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

enum State<T> {
    Waiting(Option<Waker>),
    Ready(T),
    Closed,
    Taken,
}

/// A new answer and the replier that fills it.
pub(crate) fn answer<T>() -> (Replier<T>, Answer<T>) {
    let slot = Arc::new(Slot { state: Mutex::new(State::Waiting(None)), ready: Condvar::new() });
    (Replier { slot: Some(slot.clone()) }, Answer { slot })
}

impl<T> Slot<T> {
    fn settle(&self, outcome: State<T>) {
        let previous = std::mem::replace(&mut *self.state.lock().unwrap_or_else(PoisonError::into_inner), outcome);
        self.ready.notify_all();
        if let State::Waiting(Some(waker)) = previous {
            waker.wake();
        }
    }
}

impl<T> Replier<T> {
    /// Answers the caller.
    pub(crate) fn send(mut self, value: T) {
        if let Some(slot) = self.slot.take() {
            slot.settle(State::Ready(value));
        }
    }
}

impl<T> Drop for Replier<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.settle(State::Closed);
        }
    }
}

impl<T> Answer<T> {
    /// Blocks until answered; `None` if the replier was dropped unanswered.
    pub(crate) fn wait(&self) -> Option<T> {
        let mut state = self.slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match std::mem::replace(&mut *state, State::Taken) {
                State::Ready(value) => return Some(value),
                State::Closed | State::Taken => return None,
                waiting @ State::Waiting(_) => {
                    *state = waiting;
                    state = self.slot.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// Ready once answered (`None` if the replier was dropped unanswered); until then, `cx` is woken on the answer.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *state, State::Taken) {
            State::Ready(value) => Poll::Ready(Some(value)),
            State::Closed | State::Taken => Poll::Ready(None),
            State::Waiting(_) => {
                *state = State::Waiting(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn committer() -> Committer {
        let store = Arc::new(crate::store::redb::RedbStore::in_memory().expect("a store"));
        Committer::start(store, Arc::new(Caches::new(&crate::RegistryOptions::default())))
    }

    fn subject() -> Subject {
        Subject::new("s").expect("a subject")
    }

    fn registered() -> Registered {
        let version = registry_core::Version::FIRST;
        Registered {
            id: registry_core::SchemaId(1),
            version,
            semver: crate::SemVer::FIRST,
            deduplicated: true,
            inherited: false,
        }
    }

    #[test]
    fn a_job_that_panics_fails_alone_and_the_committer_goes_on() {
        let committer = committer();
        let fingerprint = Fingerprint([1; 32]);
        let panics = committer
            .submit(subject(), Vec::new(), fingerprint, Box::new(|_| panic!("a bug in a registration")))
            .expect("queued");
        let fine =
            committer.submit(subject(), Vec::new(), fingerprint, Box::new(|_| Ok((registered(), false, None, None))));
        let (outcome, _) = panics.wait().expect("answered");
        assert!(matches!(outcome, Err(RegistryError::Storage(_))), "{outcome:?}");
        let (outcome, _) = fine.expect("queued").wait().expect("answered");
        assert_eq!(outcome.expect("the other job is untouched"), (registered(), false, None, None));
        assert!(committer.is_running());
        let after =
            committer.submit(subject(), Vec::new(), fingerprint, Box::new(|_| Ok((registered(), false, None, None))));
        assert!(after.expect("queued").wait().expect("answered").0.is_ok());
    }

    #[test]
    fn a_committer_whose_thread_ended_says_so() {
        let mut committer = committer();
        assert!(committer.is_running());
        drop(committer.sender.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while committer.is_running() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(!committer.is_running());
    }

    #[test]
    fn a_polled_answer_is_pending_until_sent_and_its_waker_is_woken_once() {
        let (replier, pending) = answer::<u32>();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(pending.poll(&mut cx), Poll::Pending);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
        replier.send(7);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(pending.poll(&mut cx), Poll::Ready(Some(7)));
    }

    #[test]
    fn an_answer_whose_replier_is_dropped_unsent_is_closed_for_both_ways_of_waiting() {
        let (replier, pending) = answer::<u32>();
        drop(replier);
        assert_eq!(pending.wait(), None);
        let (replier, pending) = answer::<u32>();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        assert_eq!(pending.poll(&mut Context::from_waker(&waker)), Poll::Pending);
        drop(replier);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(pending.poll(&mut Context::from_waker(&waker)), Poll::Ready(None));
    }

    #[test]
    fn a_blocked_wait_returns_what_another_thread_sends() {
        let (replier, pending) = answer::<String>();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            replier.send("committed".to_string());
        });
        assert_eq!(pending.wait().as_deref(), Some("committed"));
        sender.join().unwrap();
    }
}
