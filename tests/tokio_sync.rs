//! tokio's `Mutex`, `RwLock` and `Semaphore` as managers (feature
//! `tokio`): exact counts under contention on the multi-thread runtime,
//! bounded concurrency, and the lock or permit released on every way out
//! (completion, `?`, `return`, panic, cancellation while holding and while
//! waiting), through `async_with!`, both exit stacks and `with()`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_with::tokio::{owned_permits, permits, read_lock, write_lock};
use async_with::{
    AsyncExitStack, BoxError, ExitAction, Outcome, SendContextManager, async_with, with,
};
use tokio::sync::{Barrier, Mutex, MutexGuard, RwLock, Semaphore, SemaphorePermit};

const TASKS: usize = 1_000;

/// Awaits every task, failing (rather than hanging) if a lock or permit
/// was leaked and the tasks cannot finish.
async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let joined = async {
        let mut outputs = Vec::with_capacity(tasks.len());
        for task in tasks {
            outputs.push(task.await.unwrap());
        }
        outputs
    };
    tokio::time::timeout(Duration::from_secs(60), joined)
        .await
        .expect("the tasks did not finish: a lock or permit was not released")
}

/// Every primitive the tests share, behind `Arc`s so spawned tasks can
/// borrow them.
#[derive(Clone)]
struct Shared {
    mutex: Arc<Mutex<u64>>,
    rwlock: Arc<RwLock<u64>>,
    semaphore: Arc<Semaphore>,
    budget: Arc<Semaphore>,
}

impl Shared {
    fn new() -> Self {
        Shared {
            mutex: Arc::new(Mutex::new(0)),
            rwlock: Arc::new(RwLock::new(0)),
            semaphore: Arc::new(Semaphore::new(1)),
            budget: Arc::new(Semaphore::new(5)),
        }
    }

    /// Panics unless every lock is free and every permit is back.
    fn assert_released(&self) {
        assert!(self.mutex.try_lock().is_ok(), "the mutex is still locked");
        assert!(self.rwlock.try_write().is_ok(), "the rwlock is still held");
        assert_eq!(
            self.semaphore.available_permits(),
            1,
            "a permit is still held"
        );
        assert_eq!(self.budget.available_permits(), 5, "permits are still held");
    }

    /// Panics unless every lock is held and the permits are taken.
    fn assert_held(&self) {
        assert!(self.mutex.try_lock().is_err(), "the mutex is not locked");
        assert!(
            self.rwlock.try_read().is_err(),
            "the rwlock is not write-locked"
        );
        assert_eq!(self.semaphore.available_permits(), 0);
        assert_eq!(self.budget.available_permits(), 5 - 3);
    }
}

// ------------------------------------------------------- contention

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutex_counter_is_exact_under_contention() {
    let counter = Arc::new(Mutex::new(0_u64));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                async_with!(n = &*counter => {
                    // Read, suspend, write: a lost update if the lock were not held.
                    let seen = **n;
                    tokio::task::yield_now().await;
                    **n = seen + 1;
                });
            })
        })
        .collect();
    join_all(tasks).await;
    assert_eq!(*counter.try_lock().expect("released"), TASKS as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rwlock_write_counter_is_exact_under_contention() {
    let counter = Arc::new(RwLock::new(0_u64));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                async_with!(n = write_lock(&counter) => {
                    let seen = **n;
                    tokio::task::yield_now().await;
                    **n = seen + 1;
                });
            })
        })
        .collect();
    join_all(tasks).await;
    assert_eq!(*counter.try_read().expect("released"), TASKS as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rwlock_readers_hold_the_lock_together_and_writers_wait() {
    const READERS: usize = 8;
    let data = Arc::new(RwLock::new(7_u64));
    // Each reader waits inside its block for all the others: this only
    // completes if the read locks are held at the same time.
    let all_in = Arc::new(Barrier::new(READERS + 1));
    let inside = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (data, all_in, inside) =
                (Arc::clone(&data), Arc::clone(&all_in), Arc::clone(&inside));
            tokio::spawn(async move {
                async_with!(value = read_lock(&data) => {
                    inside.fetch_add(1, Ordering::SeqCst);
                    all_in.wait().await; // everyone inside
                    all_in.wait().await; // the test has looked
                    **value
                })
            })
        })
        .collect();
    tokio::time::timeout(Duration::from_secs(10), all_in.wait())
        .await
        .expect("the readers did not hold the lock together");
    assert_eq!(inside.load(Ordering::SeqCst), READERS);
    assert!(
        data.try_write().is_err(),
        "a writer got in beside the readers"
    );
    assert!(data.try_read().is_ok());
    all_in.wait().await;
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 7);
    }
    assert!(data.try_write().is_ok(), "a read lock was not released");
}

/// Runs `TASKS` tasks that each hold one permit of `limit` through
/// `enter_one` and records how many hold one at once.
async fn max_concurrent_holders(limit: usize, owned: bool) -> usize {
    let semaphore = Arc::new(Semaphore::new(limit));
    let holders = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..TASKS / 4)
        .map(|_| {
            let (semaphore, holders, max) = (
                Arc::clone(&semaphore),
                Arc::clone(&holders),
                Arc::clone(&max),
            );
            tokio::spawn(async move {
                let critical = async || {
                    let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_micros(200)).await;
                    holders.fetch_sub(1, Ordering::SeqCst);
                };
                if owned {
                    async_with!(_permit = Arc::clone(&semaphore) => { critical().await });
                } else {
                    async_with!(_permit = &*semaphore => { critical().await });
                }
                Ok::<_, tokio::sync::AcquireError>(())
            })
        })
        .collect();
    for output in join_all(tasks).await {
        output.unwrap();
    }
    assert_eq!(
        semaphore.available_permits(),
        limit,
        "a permit was not returned"
    );
    max.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semaphore_bounds_the_concurrent_holders() {
    let max = max_concurrent_holders(3, false).await;
    assert!(max <= 3, "{max} tasks held one of 3 permits at once");
    assert!(max >= 2, "the permits were never shared ({max})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arc_semaphore_bounds_the_concurrent_holders() {
    let max = max_concurrent_holders(2, true).await;
    assert!(max <= 2, "{max} tasks held one of 2 permits at once");
    assert!(max >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_permits_are_taken_and_returned_together() {
    // 5 permits, 3 per holder: never two holders at once.
    let semaphore = Arc::new(Semaphore::new(5));
    let holders = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (semaphore, holders) = (Arc::clone(&semaphore), Arc::clone(&holders));
            tokio::spawn(async move {
                let check = async |held: u32| {
                    assert_eq!(held, 3);
                    assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0, "two holders of 3 of 5 permits");
                    assert!(semaphore.available_permits() <= 2);
                    tokio::task::yield_now().await;
                    holders.fetch_sub(1, Ordering::SeqCst);
                };
                if i % 2 == 0 {
                    async_with!(permit = permits(&semaphore, 3) => { check(permit.num_permits() as u32).await });
                } else {
                    async_with!(permit = owned_permits(Arc::clone(&semaphore), 3) => {
                        check(permit.num_permits() as u32).await
                    });
                }
                Ok::<_, tokio::sync::AcquireError>(())
            })
        })
        .collect();
    for output in join_all(tasks).await {
        output.unwrap();
    }
    assert_eq!(semaphore.available_permits(), 5);
}

#[tokio::test]
async fn a_closed_semaphore_fails_enter_and_the_block_does_not_run() {
    let semaphore = Arc::new(Semaphore::new(2));
    semaphore.close();
    let ran = AtomicBool::new(false);
    let borrowed = async {
        async_with!(_permit = &*semaphore => { ran.store(true, Ordering::SeqCst) });
        Ok::<_, tokio::sync::AcquireError>(())
    };
    assert!(borrowed.await.is_err());
    let owned = async {
        async_with!(_permit = owned_permits(Arc::clone(&semaphore), 2) => { ran.store(true, Ordering::SeqCst) });
        Ok::<_, tokio::sync::AcquireError>(())
    };
    assert!(owned.await.is_err());
    assert!(!ran.load(Ordering::SeqCst));
}

// ------------------------------------------- released on every way out

/// Holds every primitive in one `async_with!` and leaves the block by
/// `?` when `fail`.
async fn fails_with_question_mark(shared: &Shared, fail: bool) -> Result<u64, BoxError> {
    let value = async_with!(
        n = &*shared.mutex,
        w = write_lock(&shared.rwlock),
        _one = &*shared.semaphore,
        _three = permits(&shared.budget, 3) => {
            shared.assert_held();
            **n += 1;
            **w += 1;
            if fail {
                Err("the block failed".to_string())?;
            }
            **n
        }
    );
    Ok(value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_after_completion_and_after_question_mark() {
    let shared = Shared::new();
    assert_eq!(fails_with_question_mark(&shared, false).await.unwrap(), 1);
    shared.assert_released();
    let error = fails_with_question_mark(&shared, true).await.unwrap_err();
    assert_eq!(error.to_string(), "the block failed");
    shared.assert_released();
    // The updates made before the failure stay (a lock does not roll back).
    assert_eq!(*shared.mutex.try_lock().unwrap(), 2);
}

async fn returns_early(shared: &Shared) -> Result<u64, tokio::sync::AcquireError> {
    async_with!(
        n = &*shared.mutex,
        _w = write_lock(&shared.rwlock),
        _one = Arc::clone(&shared.semaphore),
        _three = owned_permits(Arc::clone(&shared.budget), 3) => {
            shared.assert_held();
            **n += 10;
            if **n >= 10 {
                return Ok(**n);
            }
        }
    );
    Ok(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_after_return() {
    let shared = Shared::new();
    assert_eq!(returns_early(&shared).await.unwrap(), 10);
    shared.assert_released();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_after_a_panic_in_a_spawned_task() {
    let shared = Shared::new();
    let task = {
        let shared = shared.clone();
        tokio::spawn(async move {
            async_with!(
                n = &*shared.mutex,
                _w = write_lock(&shared.rwlock),
                _one = &*shared.semaphore,
                _three = permits(&shared.budget, 3) => {
                    shared.assert_held();
                    **n += 1;
                    if **n > 0 {
                        panic!("boom while holding");
                    }
                }
            );
            Ok::<_, tokio::sync::AcquireError>(())
        })
    };
    let error = task.await.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(
        error.into_panic().downcast_ref::<&str>(),
        Some(&"boom while holding")
    );
    shared.assert_released();
    assert_eq!(*shared.mutex.try_lock().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_after_cancellation_while_holding() {
    let shared = Shared::new();
    let entered = AtomicBool::new(false);
    let timed_out = tokio::time::timeout(Duration::from_millis(20), async {
        async_with!(
            _n = &*shared.mutex,
            _r = read_lock(&shared.rwlock),
            _one = Arc::clone(&shared.semaphore),
            _three = permits(&shared.budget, 3) => {
                entered.store(true, Ordering::SeqCst);
                assert!(shared.mutex.try_lock().is_err());
                assert!(shared.rwlock.try_write().is_err());
                std::future::pending::<()>().await;
            }
        );
        Ok::<_, tokio::sync::AcquireError>(())
    })
    .await;
    assert!(timed_out.is_err(), "the block cannot end by itself");
    assert!(
        entered.load(Ordering::SeqCst),
        "the block never held the locks"
    );
    shared.assert_released();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_waiter_leaves_the_queue_and_leaks_nothing() {
    let shared = Shared::new();
    let ran = AtomicBool::new(false);
    {
        // Something else holds every primitive.
        let _mutex = shared.mutex.lock().await;
        let _read = shared.rwlock.read().await;
        let _one = shared.semaphore.acquire().await.unwrap();
        let _four = shared.budget.acquire_many(4).await.unwrap();
        let waiter = |manager: u8| {
            let (shared, ran) = (&shared, &ran);
            async move {
                match manager {
                    0 => async_with!(_n = &*shared.mutex => { ran.store(true, Ordering::SeqCst) }),
                    1 => {
                        async_with!(_w = write_lock(&shared.rwlock) => { ran.store(true, Ordering::SeqCst) })
                    }
                    2 => {
                        async_with!(_p = &*shared.semaphore => { ran.store(true, Ordering::SeqCst) })
                    }
                    3 => {
                        async_with!(_p = Arc::clone(&shared.semaphore) => { ran.store(true, Ordering::SeqCst) })
                    }
                    4 => {
                        async_with!(_p = permits(&shared.budget, 3) => { ran.store(true, Ordering::SeqCst) })
                    }
                    _ => async_with!(_p = owned_permits(Arc::clone(&shared.budget), 3) => {
                        ran.store(true, Ordering::SeqCst)
                    }),
                }
                Ok::<_, tokio::sync::AcquireError>(())
            }
        };
        for manager in 0..6 {
            // The waiter is dropped while queued for the lock or permits.
            let waited = tokio::time::timeout(Duration::from_millis(10), waiter(manager)).await;
            assert!(
                waited.is_err(),
                "waiter {manager} got in while the primitive was held"
            );
        }
    }
    assert!(!ran.load(Ordering::SeqCst));
    // Nothing went to a dropped waiter: everything can be taken at once.
    shared.assert_released();
    // And a new waiter is served.
    let guard = shared.mutex.lock().await;
    let next = tokio::spawn({
        let shared = shared.clone();
        async move {
            async_with!(n = &*shared.mutex => { **n += 1 });
        }
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    drop(guard);
    tokio::time::timeout(Duration::from_secs(10), next)
        .await
        .expect("the next waiter was not served")
        .unwrap();
    assert_eq!(*shared.mutex.try_lock().unwrap(), 1);
}

// ----------------------------------------------- exit stacks, with()

#[tokio::test]
async fn each_primitive_in_the_exit_stack() {
    let shared = Shared::new();
    let stack = AsyncExitStack::new();
    let n = stack.enter(&*shared.mutex).await.unwrap();
    let w = stack.enter(write_lock(&shared.rwlock)).await.unwrap();
    let _one = stack.enter(&*shared.semaphore).await.unwrap();
    let three = stack.enter(permits(&shared.budget, 3)).await.unwrap();
    **n += 1;
    **w += 2;
    assert_eq!(three.num_permits(), 3);
    shared.assert_held();
    let mut stack = stack;
    stack.close().await.unwrap();
    shared.assert_released();
    assert_eq!(
        (
            *shared.mutex.try_lock().unwrap(),
            *shared.rwlock.try_read().unwrap()
        ),
        (1, 2)
    );

    // Read locks and owned permits too.
    let stack = AsyncExitStack::new();
    let a = stack.enter(read_lock(&shared.rwlock)).await.unwrap();
    let b = stack.enter(read_lock(&shared.rwlock)).await.unwrap();
    assert_eq!(**a + **b, 4);
    let owned = stack.enter(Arc::clone(&shared.semaphore)).await.unwrap();
    assert_eq!(owned.num_permits(), 1);
    let owned = stack
        .enter(owned_permits(Arc::clone(&shared.budget), 5))
        .await
        .unwrap();
    assert_eq!(owned.num_permits(), 5);
    assert!(shared.rwlock.try_write().is_err());
    assert_eq!(shared.budget.available_permits(), 0);
    drop(stack); // dropping the stack releases too
    shared.assert_released();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_primitive_in_the_send_exit_stack_in_a_spawned_task() {
    let shared = Shared::new();
    let task = tokio::spawn({
        let shared = shared.clone();
        async move {
            let mut stack = AsyncExitStack::new_send();
            let n = stack.enter(&*shared.mutex).await?;
            let w = stack.enter(write_lock(&shared.rwlock)).await?;
            stack.enter(Arc::clone(&shared.semaphore)).await?;
            stack
                .enter(owned_permits(Arc::clone(&shared.budget), 3))
                .await?;
            tokio::task::yield_now().await; // the stack is held across an await
            **n += 1;
            **w += 1;
            shared.assert_held();
            let result = stack.close().await;
            shared.assert_released();
            // A second round with the borrowing semaphore forms, failing.
            let stack = AsyncExitStack::new_send();
            stack.enter(read_lock(&shared.rwlock)).await?;
            stack.enter(&*shared.semaphore).await?;
            stack.enter(permits(&shared.budget, 3)).await?;
            assert!(shared.rwlock.try_write().is_err());
            let mut stack = stack;
            let failed = stack
                .exit(Outcome::Failed(async_with::Failure::new(&"failed")))
                .await;
            assert!(matches!(failed, Ok(ExitAction::Propagate)));
            result
        }
    });
    task.await.unwrap().unwrap();
    shared.assert_released();
    assert_eq!(*shared.mutex.try_lock().unwrap(), 1);
}

#[tokio::test]
async fn each_primitive_through_with() {
    let shared = Shared::new();
    let n = with(&*shared.mutex, async |n: &mut MutexGuard<'_, u64>| {
        **n += 1;
        Ok::<_, BoxError>(**n)
    })
    .await;
    assert_eq!(n.unwrap(), Some(1));
    let failed = with(
        write_lock(&shared.rwlock),
        async |w: &mut tokio::sync::RwLockWriteGuard<'_, u64>| {
            **w += 1;
            Err::<(), BoxError>("write failed".into())
        },
    )
    .await;
    assert_eq!(failed.unwrap_err().to_string(), "write failed");
    let read = with(
        read_lock(&shared.rwlock),
        async |r: &mut tokio::sync::RwLockReadGuard<'_, u64>| Ok::<_, BoxError>(**r),
    )
    .await;
    assert_eq!(read.unwrap(), Some(1));
    let held = with(&*shared.semaphore, async |p: &mut SemaphorePermit<'_>| {
        Ok::<_, BoxError>(p.num_permits())
    })
    .await;
    assert_eq!(held.unwrap(), Some(1));
    let held = with(
        permits(&shared.budget, 4),
        async |p: &mut SemaphorePermit<'_>| {
            assert_eq!(shared.budget.available_permits(), 1);
            Ok::<_, BoxError>(p.num_permits())
        },
    )
    .await;
    assert_eq!(held.unwrap(), Some(4));
    shared.assert_released();

    // Owned permits: the `with(..)` future spawned as it is.
    let owned = tokio::spawn(with(
        owned_permits(Arc::clone(&shared.budget), 5),
        async |p: &mut tokio::sync::OwnedSemaphorePermit| Ok::<_, BoxError>(p.num_permits()),
    ));
    assert_eq!(owned.await.unwrap().unwrap(), Some(5));
    let owned = tokio::spawn(with(
        Arc::clone(&shared.semaphore),
        async |_: &mut tokio::sync::OwnedSemaphorePermit| {
            Err::<(), BoxError>("owned failed".into())
        },
    ));
    assert_eq!(
        owned.await.unwrap().unwrap_err().to_string(),
        "owned failed"
    );
    shared.assert_released();
}

// ------------------------------------------------------ the outcome

/// A user's wrapper around `&Mutex`: marks the state poisoned when the
/// block did not complete, before the lock is released.
struct Poisoning<'a>(&'a Mutex<(u64, bool)>);

impl<'a> SendContextManager for Poisoning<'a> {
    type Target = MutexGuard<'a, (u64, bool)>;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<Self::Target, Infallible> {
        let guard = SendContextManager::enter(&mut self.0).await?;
        assert!(!guard.1, "entered poisoned state");
        Ok(guard)
    }

    async fn exit(
        &mut self,
        mut guard: Self::Target,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Infallible> {
        if !outcome.is_completed() {
            guard.1 = true;
        }
        SendContextManager::exit(&mut self.0, guard, outcome).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrapper_sees_the_outcome_and_poisons_on_failure_and_panic() {
    let state = Arc::new(Mutex::new((0_u64, false)));
    async fn add(state: &Mutex<(u64, bool)>, n: u64) -> Result<(), String> {
        async_with!(s = Poisoning(state) => {
            s.0 += n;
            if n > 100 {
                return Err(format!("{n} is too much"));
            }
        });
        Ok(())
    }
    add(&state, 1).await.unwrap();
    assert_eq!(*state.try_lock().unwrap(), (1, false));
    assert_eq!(add(&state, 500).await.unwrap_err(), "500 is too much");
    assert_eq!(*state.try_lock().unwrap(), (501, true));

    state.try_lock().unwrap().1 = false;
    let panicked = tokio::spawn({
        let state = Arc::clone(&state);
        async move {
            async_with!(s = Poisoning(&state) => {
                if !s.1 {
                    panic!("half-way");
                }
            });
        }
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    assert_eq!(*state.try_lock().unwrap(), (501, true));
}
