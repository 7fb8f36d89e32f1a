//! Storage that fails on purpose, for tests and fuzzing: a redb storage backend over a file or memory that
//! fails reads, writes, syncs or growth at the points a test chooses, and a disk that fills up.
//!
//! A [`Faults`] handle is shared between the test and the store: the test arms a fault
//! ([`Faults::fail`], [`Faults::limit_size`]), drives the registry, and heals it ([`Faults::heal`]); the
//! registry, which opens its database again after an I/O failure, serves again once the faults stop.

use std::io;
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use redb::{BackendError, StorageBackend};

/// What a storage backend does, each of which can be made to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Reading bytes.
    Read,
    /// Writing bytes.
    Write,
    /// Flushing written bytes to the medium (`fsync`).
    Sync,
    /// Growing or shrinking the storage.
    SetLen,
}

impl Operation {
    /// Every operation, in a fixed order.
    pub const ALL: [Operation; 4] = [Operation::Read, Operation::Write, Operation::Sync, Operation::SetLen];

    fn index(self) -> usize {
        self as usize
    }
}

/// One operation's plan: succeed `pass` more times, then fail `fail` times (`u64::MAX`: until healed).
#[derive(Debug)]
struct Plan {
    pass: AtomicU64,
    fail: AtomicU64,
}

impl Plan {
    const fn healthy() -> Self {
        Self { pass: AtomicU64::new(u64::MAX), fail: AtomicU64::new(0) }
    }

    /// Whether this call fails, moving the plan on by one call.
    fn fails(&self) -> bool {
        // `pass` counts down to zero and stays there; while it is above zero the call succeeds.
        let passed = self.pass.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| match n {
            0 => None,
            u64::MAX => Some(u64::MAX),
            n => Some(n - 1),
        });
        if passed.is_ok() {
            return false;
        }
        self.fail
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| match n {
                0 => None,
                u64::MAX => Some(u64::MAX),
                n => Some(n - 1),
            })
            .is_ok()
    }
}

#[derive(Debug)]
struct State {
    plans: [Plan; 4],
    /// The disk of a registry opened in memory with these faults.
    disk: Arc<Disk>,
    /// Set by a power cut: every operation fails until healed.
    cut: std::sync::atomic::AtomicBool,
    /// The most bytes the storage may grow to (`u64::MAX`: no limit), as a disk with that much room.
    room: AtomicU64,
    /// Failures injected so far.
    injected: AtomicU64,
}

/// The faults a [`FaultyBackend`] injects; clones share them.
#[derive(Clone, Debug)]
pub struct Faults {
    state: Arc<State>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

impl Faults {
    /// No faults yet.
    pub fn new() -> Self {
        Self {
            state: Arc::new(State {
                plans: [Plan::healthy(), Plan::healthy(), Plan::healthy(), Plan::healthy()],
                disk: Arc::new(Disk::default()),
                cut: AtomicBool::new(false),
                room: AtomicU64::new(u64::MAX),
                injected: AtomicU64::new(0),
            }),
        }
    }

    /// After `after` more successful calls of `operation`, the next `times` fail with an I/O error (`u64::MAX`:
    /// every one until [`Faults::heal`]).
    pub fn fail(&self, operation: Operation, after: u64, times: u64) {
        let plan = &self.state.plans[operation.index()];
        plan.fail.store(times, Ordering::Release);
        plan.pass.store(after.min(u64::MAX - 1), Ordering::Release);
    }

    /// A disk with room for `bytes` of this storage: growing past it fails with "no space left on device".
    pub fn limit_size(&self, bytes: u64) {
        self.state.room.store(bytes, Ordering::Release);
    }

    /// Cuts the power of the memory disk: what was written since its last sync is lost, and every operation
    /// fails until [`Faults::heal`] (so the registry still open on it cannot write anything more). A registry
    /// opened on the same `Faults` afterwards sees what a machine sees after a crash. A file's writes are in the
    /// operating system's hands: a power cut reaches only the memory disk.
    pub fn power_cut(&self) {
        self.state.cut.store(true, Ordering::Release);
        self.state.disk.cut();
    }

    /// Every operation succeeds again, and the disk has room.
    pub fn heal(&self) {
        self.state.cut.store(false, Ordering::Release);
        for plan in &self.state.plans {
            plan.fail.store(0, Ordering::Release);
            plan.pass.store(u64::MAX, Ordering::Release);
        }
        self.state.room.store(u64::MAX, Ordering::Release);
    }

    /// How many bytes the memory disk holds now.
    pub fn disk_bytes(&self) -> u64 {
        self.state.disk.current().len() as u64
    }

    /// How many failures have been injected so far.
    pub fn injected(&self) -> u64 {
        self.state.injected.load(Ordering::Acquire)
    }

    fn check(&self, operation: Operation) -> Result<(), io::Error> {
        if self.state.cut.load(Ordering::Acquire) {
            return Err(io::Error::other("the power is cut"));
        }
        if self.state.plans[operation.index()].fails() {
            self.state.injected.fetch_add(1, Ordering::AcqRel);
            return Err(io::Error::other(format!("injected {operation:?} failure")));
        }
        Ok(())
    }

    fn check_room(&self, len: u64) -> Result<(), io::Error> {
        if len > self.state.room.load(Ordering::Acquire) {
            self.state.injected.fetch_add(1, Ordering::AcqRel);
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC: "No space left on device"
        }
        Ok(())
    }
}

/// Memory that behaves as a disk does across a crash: writes land in a volatile image, a sync makes them
/// durable, and a power cut brings back the durable image.
#[derive(Debug, Default)]
struct Disk {
    /// What reads see: every write so far.
    current: std::sync::RwLock<Vec<u8>>,
    /// What survives a power cut: the bytes as of the last sync.
    durable: std::sync::Mutex<Vec<u8>>,
    /// Whether a database has it open (memory has no file lock to keep a second one out).
    open: AtomicBool,
}

impl Disk {
    fn current(&self) -> std::sync::RwLockReadGuard<'_, Vec<u8>> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    fn current_mut(&self) -> std::sync::RwLockWriteGuard<'_, Vec<u8>> {
        self.current.write().unwrap_or_else(|e| e.into_inner())
    }

    fn durable(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.durable.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cut(&self) {
        let durable = self.durable().clone();
        *self.current_mut() = durable;
    }

    fn out_of_range() -> io::Error {
        io::Error::new(io::ErrorKind::UnexpectedEof, "beyond the end of the disk")
    }
}

impl StorageBackend for Disk {
    fn len(&self) -> Result<u64, io::Error> {
        Ok(self.current().len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let current = self.current();
        let start = usize::try_from(offset).map_err(|_| Self::out_of_range())?;
        let source = current.get(start..start + out.len()).ok_or_else(Self::out_of_range)?;
        out.copy_from_slice(source);
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.current_mut().resize(usize::try_from(len).map_err(|_| Self::out_of_range())?, 0);
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        let current = self.current();
        let mut durable = self.durable();
        durable.clear();
        durable.extend_from_slice(&current);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let mut current = self.current_mut();
        let start = usize::try_from(offset).map_err(|_| Self::out_of_range())?;
        let target = current.get_mut(start..start + data.len()).ok_or_else(Self::out_of_range)?;
        target.copy_from_slice(data);
        Ok(())
    }
}

/// Where a faulty store keeps its bytes.
#[derive(Clone, Debug)]
pub(crate) enum Medium {
    /// A file, opened anew each time the database is.
    File(PathBuf),
    /// The memory disk of a [`Faults`], which outlives each opening of the database, as a file would.
    Memory,
}

impl Medium {
    /// A backend over this medium that injects `faults`.
    pub(crate) fn backend(&self, faults: &Faults) -> io::Result<FaultyBackend> {
        let (inner, disk): (Arc<dyn StorageBackend>, _) = match self {
            Medium::File(path) => {
                let file =
                    std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
                (Arc::new(redb::backends::FileBackend::new(file).map_err(io::Error::other)?), None)
            }
            Medium::Memory => {
                let disk = faults.state.disk.clone();
                if disk.open.swap(true, Ordering::AcqRel) {
                    return Err(io::Error::new(io::ErrorKind::WouldBlock, "the memory disk is open already"));
                }
                (disk.clone() as Arc<dyn StorageBackend>, Some(disk))
            }
        };
        Ok(FaultyBackend { inner, disk, faults: faults.clone() })
    }
}

/// A redb storage backend that passes every call to the medium underneath unless [`Faults`] says it fails.
#[derive(Debug)]
pub(crate) struct FaultyBackend {
    inner: Arc<dyn StorageBackend>,
    /// The memory disk, marked closed when the database closes.
    disk: Option<Arc<Disk>>,
    faults: Faults,
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.faults.check(Operation::Read)?;
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.faults.check(Operation::SetLen)?;
        self.faults.check_room(len)?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.faults.check(Operation::Sync)?;
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.faults.check(Operation::Write)?;
        self.faults.check_room(offset.saturating_add(data.len() as u64))?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        let closed = self.inner.close();
        if let Some(disk) = &self.disk {
            disk.open.store(false, Ordering::Release);
        }
        closed
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}
