//! tokio's synchronization primitives as managers (`async with lock:`);
//! the table and the rules are in the parent module's docs.

use core::convert::Infallible;
use std::sync::Arc;

use ::tokio::sync::{
    AcquireError, Mutex, MutexGuard, OwnedSemaphorePermit, RwLock, RwLockReadGuard,
    RwLockWriteGuard, Semaphore, SemaphorePermit,
};

use crate::{ExitAction, Outcome, SendContextManager};

/// `async with lock:`: a shared `&tokio::sync::Mutex<T>` is a manager;
/// enter locks it, the block borrows the [`MutexGuard`] (so the value is
/// `**guard`), and the guard is dropped on every way out.
///
/// ```
/// use async_with::async_with;
/// use std::sync::Arc;
/// use tokio::sync::Mutex;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let total = runtime.block_on(async {
///     let counter = Arc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let counter = Arc::clone(&counter);
///             tokio::spawn(async move {
///                 async_with!(n = &*counter => {
///                     **n += 1;
///                 });
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     let total = *counter.try_lock().expect("every guard was released");
///     total
/// });
/// assert_eq!(total, 10);
/// ```
impl<'a, T: ?Sized + Send> SendContextManager for &'a Mutex<T> {
    type Target = MutexGuard<'a, T>;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<MutexGuard<'a, T>, Infallible> {
        let mutex: &'a Mutex<T> = self;
        Ok(mutex.lock().await)
    }

    async fn exit(
        &mut self,
        guard: MutexGuard<'a, T>,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, Infallible> {
        released(guard)
    }
}

/// A shared read lock on a [`RwLock`] as a manager: `async_with!(data =
/// read_lock(&lock) => { .. })`. The block borrows the
/// [`RwLockReadGuard`]; other readers may hold the lock at the same time.
///
/// A `&RwLock<T>` is not a manager itself: a lock taken for reading and
/// one taken for writing are different managers, so the call says which.
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::read_lock;
/// use tokio::sync::RwLock;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let config = RwLock::new(vec!["a", "b"]);
///     let len = async_with!(first = read_lock(&config), second = read_lock(&config) => {
///         assert_eq!(**first, **second); // two readers at once
///         first.len()
///     });
///     assert_eq!(len, 2);
///     assert!(config.try_write().is_ok()); // both released
/// });
/// ```
pub fn read_lock<T: ?Sized>(lock: &RwLock<T>) -> ReadLock<'_, T> {
    ReadLock(lock)
}

/// An exclusive write lock on a [`RwLock`] as a manager:
/// `async_with!(data = write_lock(&lock) => { .. })`. The block borrows the
/// [`RwLockWriteGuard`].
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::write_lock;
/// use tokio::sync::RwLock;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let names = RwLock::new(Vec::new());
///     async_with!(names = write_lock(&names) => {
///         names.push("ada");
///     });
///     assert_eq!(*names.try_read().expect("released"), ["ada"]);
/// });
/// ```
pub fn write_lock<T: ?Sized>(lock: &RwLock<T>) -> WriteLock<'_, T> {
    WriteLock(lock)
}

/// The manager [`read_lock`] returns.
///
/// ```
/// let lock = tokio::sync::RwLock::new(1);
/// let manager: async_with::tokio::ReadLock<'_, i32> = async_with::tokio::read_lock(&lock);
/// # drop(manager);
/// ```
#[derive(Debug)]
pub struct ReadLock<'a, T: ?Sized>(&'a RwLock<T>);

/// The manager [`write_lock`] returns.
///
/// ```
/// let lock = tokio::sync::RwLock::new(1);
/// let manager: async_with::tokio::WriteLock<'_, i32> = async_with::tokio::write_lock(&lock);
/// # drop(manager);
/// ```
#[derive(Debug)]
pub struct WriteLock<'a, T: ?Sized>(&'a RwLock<T>);

impl<'a, T: ?Sized + Send + Sync> SendContextManager for ReadLock<'a, T> {
    type Target = RwLockReadGuard<'a, T>;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<RwLockReadGuard<'a, T>, Infallible> {
        let lock: &'a RwLock<T> = self.0;
        Ok(lock.read().await)
    }

    async fn exit(
        &mut self,
        guard: RwLockReadGuard<'a, T>,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, Infallible> {
        released(guard)
    }
}

impl<'a, T: ?Sized + Send + Sync> SendContextManager for WriteLock<'a, T> {
    type Target = RwLockWriteGuard<'a, T>;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<RwLockWriteGuard<'a, T>, Infallible> {
        let lock: &'a RwLock<T> = self.0;
        Ok(lock.write().await)
    }

    async fn exit(
        &mut self,
        guard: RwLockWriteGuard<'a, T>,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, Infallible> {
        released(guard)
    }
}

/// `async with semaphore:`: a `&Semaphore` is a manager; enter acquires
/// one permit, which the block holds (the target, a [`SemaphorePermit`])
/// and exit returns. Enter fails with [`AcquireError`] if the semaphore
/// is closed.
///
/// ```
/// use async_with::async_with;
/// use tokio::sync::{AcquireError, Semaphore};
///
/// async fn fetch(limit: &Semaphore) -> Result<usize, AcquireError> {
///     let available = async_with!(_permit = limit => {
///         limit.available_permits() // one is held here
///     });
///     Ok(available)
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let limit = Semaphore::new(3);
///     assert_eq!(fetch(&limit).await.ok(), Some(2));
///     assert_eq!(limit.available_permits(), 3); // returned on exit
///     limit.close();
///     assert!(fetch(&limit).await.is_err()); // enter fails: the block does not run
/// });
/// ```
impl<'a> SendContextManager for &'a Semaphore {
    type Target = SemaphorePermit<'a>;
    type Error = AcquireError;

    async fn enter(&mut self) -> Result<SemaphorePermit<'a>, AcquireError> {
        let semaphore: &'a Semaphore = self;
        semaphore.acquire().await
    }

    async fn exit(
        &mut self,
        permit: SemaphorePermit<'a>,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, AcquireError> {
        released(permit)
    }
}

/// An `Arc<Semaphore>` is a manager too, with an owned permit
/// ([`OwnedSemaphorePermit`]) as the target: the manager borrows nothing,
/// so it is `'static` (a task can own it, an exit stack of any lifetime
/// can hold it). Enter fails with [`AcquireError`] if the semaphore is
/// closed.
///
/// ```
/// use async_with::async_with;
/// use std::sync::Arc;
/// use tokio::sync::Semaphore;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let limit = Arc::new(Semaphore::new(1));
///     let held = async_with!(permit = Arc::clone(&limit) => {
///         permit.num_permits()
///     });
///     assert_eq!(held, 1);
///     assert_eq!(limit.available_permits(), 1);
///     Ok::<(), tokio::sync::AcquireError>(()) // enter fails on a closed semaphore
/// }).unwrap();
/// ```
impl SendContextManager for Arc<Semaphore> {
    type Target = OwnedSemaphorePermit;
    type Error = AcquireError;

    async fn enter(&mut self) -> Result<OwnedSemaphorePermit, AcquireError> {
        Arc::clone(self).acquire_owned().await
    }

    async fn exit(
        &mut self,
        permit: OwnedSemaphorePermit,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, AcquireError> {
        released(permit)
    }
}

/// `n` permits of a semaphore at once as a manager (tokio's
/// [`acquire_many`](Semaphore::acquire_many)): the block holds a
/// [`SemaphorePermit`] for all `n`, returned together on exit. Enter fails
/// with [`AcquireError`] if the semaphore is closed; it waits for ever if
/// the semaphore never has `n` permits available.
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::permits;
/// use tokio::sync::Semaphore;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let budget = Semaphore::new(10);
///     async_with!(permit = permits(&budget, 4) => {
///         assert_eq!(permit.num_permits(), 4);
///         assert_eq!(budget.available_permits(), 6);
///     });
///     assert_eq!(budget.available_permits(), 10);
///     Ok::<(), tokio::sync::AcquireError>(()) // enter fails on a closed semaphore
/// }).unwrap();
/// ```
pub fn permits(semaphore: &Semaphore, n: u32) -> Permits<'_> {
    Permits { semaphore, n }
}

/// `n` permits of a shared semaphore as a manager (tokio's
/// [`acquire_many_owned`](Semaphore::acquire_many_owned)): like
/// [`permits`], with an [`OwnedSemaphorePermit`] target and a manager that
/// borrows nothing.
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::owned_permits;
/// use std::sync::Arc;
/// use tokio::sync::Semaphore;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let budget = Arc::new(Semaphore::new(10));
///     let manager = owned_permits(Arc::clone(&budget), 7);
///     let task = tokio::spawn(async move {
///         let held = async_with!(permit = manager => { permit.num_permits() });
///         Ok::<_, tokio::sync::AcquireError>(held)
///     });
///     assert_eq!(task.await.unwrap().ok(), Some(7));
///     assert_eq!(budget.available_permits(), 10);
/// });
/// ```
pub fn owned_permits(semaphore: Arc<Semaphore>, n: u32) -> OwnedPermits {
    OwnedPermits { semaphore, n }
}

/// The manager [`permits`] returns.
///
/// ```
/// let semaphore = tokio::sync::Semaphore::new(2);
/// let manager: async_with::tokio::Permits<'_> = async_with::tokio::permits(&semaphore, 2);
/// # drop(manager);
/// ```
#[derive(Debug)]
pub struct Permits<'a> {
    semaphore: &'a Semaphore,
    n: u32,
}

/// The manager [`owned_permits`] returns.
///
/// ```
/// let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(2));
/// let manager: async_with::tokio::OwnedPermits = async_with::tokio::owned_permits(semaphore, 2);
/// # drop(manager);
/// ```
#[derive(Debug)]
pub struct OwnedPermits {
    semaphore: Arc<Semaphore>,
    n: u32,
}

impl<'a> SendContextManager for Permits<'a> {
    type Target = SemaphorePermit<'a>;
    type Error = AcquireError;

    async fn enter(&mut self) -> Result<SemaphorePermit<'a>, AcquireError> {
        let semaphore: &'a Semaphore = self.semaphore;
        semaphore.acquire_many(self.n).await
    }

    async fn exit(
        &mut self,
        permit: SemaphorePermit<'a>,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, AcquireError> {
        released(permit)
    }
}

impl SendContextManager for OwnedPermits {
    type Target = OwnedSemaphorePermit;
    type Error = AcquireError;

    async fn enter(&mut self) -> Result<OwnedSemaphorePermit, AcquireError> {
        Arc::clone(&self.semaphore).acquire_many_owned(self.n).await
    }

    async fn exit(
        &mut self,
        permit: OwnedSemaphorePermit,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, AcquireError> {
        released(permit)
    }
}

/// Exit of every primitive: the guard or permit is released (dropped),
/// whatever the outcome.
#[inline]
fn released<E>(held: impl Sized) -> Result<ExitAction, E> {
    drop(held);
    Ok(ExitAction::Propagate)
}
