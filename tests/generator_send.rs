//! Generators in `Send` contexts, unboxed, whatever lifetimes their target
//! has: every target shape runs in every context (`tokio::spawn`, a
//! `JoinSet` of 100 tasks, and `assert_send`), from one table. A new shape
//! is one line in `shapes!` and one function below.
//!
//! The sqlx transaction generator of the README, in an axum handler over
//! real TCP, is in `integrations/tests/generator_send.rs`.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_with::{async_context, async_with};
use tokio::sync::{Mutex, MutexGuard};

/// Awaits once on the runtime, so that every block holds its generator
/// and target across a real suspension.
async fn suspend() {
    tokio::task::yield_now().await;
}

#[async_context]
async fn static_str(teardowns: &AtomicU32) -> &'static str {
    suspend().await;
    let (_text, _exit) = yield_!("static");
    suspend().await;
    teardowns.fetch_add(1, Ordering::SeqCst);
}

#[async_context]
async fn cow(teardowns: &AtomicU32) -> Result<Cow<'static, str>, std::io::Error> {
    suspend().await;
    let (text, _exit) = yield_!(Cow::Borrowed("cow"));
    suspend().await;
    // The block's change is seen by the teardown.
    assert!(matches!(text, Cow::Owned(_)));
    teardowns.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

#[async_context]
async fn borrowed_mut<'a>(value: &'a mut u32, teardowns: &AtomicU32) -> &'a mut u32 {
    suspend().await;
    let (_value, _exit) = yield_!(value);
    suspend().await;
    teardowns.fetch_add(1, Ordering::SeqCst);
}

/// A target that is a struct with a lifetime parameter.
struct View<'a> {
    items: &'a [u32],
    seen: usize,
}

#[async_context]
async fn view<'a>(items: &'a [u32], teardowns: &AtomicU32) -> Result<View<'a>, String> {
    suspend().await;
    let (view, exit) = yield_!(View { items, seen: 0 });
    suspend().await;
    if exit.is_completed() {
        assert_eq!(view.seen, view.items.len());
    }
    teardowns.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// A guard borrowed from the generator's `&Mutex` argument.
#[async_context]
async fn locked<'a>(lock: &'a Mutex<Vec<u32>>, teardowns: &AtomicU32) -> MutexGuard<'a, Vec<u32>> {
    let guard = lock.lock().await;
    let (guard, _exit) = yield_!(guard);
    suspend().await;
    drop(guard);
    teardowns.fetch_add(1, Ordering::SeqCst);
}

/// State shared by handlers: generator methods on `&self` and `&mut self`.
#[derive(Clone, Default)]
struct Store {
    entries: Arc<Mutex<Vec<u32>>>,
    teardowns: Arc<AtomicU32>,
}

impl Store {
    #[async_context]
    async fn entries(&self) -> MutexGuard<'_, Vec<u32>> {
        let guard = self.entries.lock().await;
        let (_guard, _exit) = yield_!(guard);
        suspend().await;
        self.teardowns.fetch_add(1, Ordering::SeqCst);
    }

    #[async_context]
    async fn reset(&mut self) -> Result<&mut Self, std::io::Error> {
        suspend().await;
        let (_store, _exit) = yield_!(self);
        suspend().await;
        Ok(())
    }
}

// Each use builds its generator's arguments inside the future (a spawned
// task owns what its target borrows), holds the target across awaits, and
// returns what the block and the teardown did, checked against `expected`.

async fn use_static_str() -> (String, u32) {
    let teardowns = AtomicU32::new(0);
    let text = async_with!(text = static_str(&teardowns) => {
        suspend().await;
        text.to_string()
    });
    (text, teardowns.load(Ordering::SeqCst))
}

async fn use_cow() -> (String, u32) {
    let teardowns = AtomicU32::new(0);
    let text: Result<String, std::io::Error> = async {
        Ok(async_with!(text = cow(&teardowns) => {
            suspend().await;
            text.to_mut().push('!');
            text.to_string()
        }))
    }
    .await;
    (text.unwrap(), teardowns.load(Ordering::SeqCst))
}

async fn use_borrowed_mut() -> (String, u32) {
    let teardowns = AtomicU32::new(0);
    let mut value = 1;
    async_with!(value = borrowed_mut(&mut value, &teardowns) => {
        suspend().await;
        **value += 41;
    });
    (value.to_string(), teardowns.load(Ordering::SeqCst))
}

async fn use_view() -> (String, u32) {
    let teardowns = AtomicU32::new(0);
    let items = vec![1, 2, 3];
    let sum: Result<u32, String> = async {
        Ok(async_with!(view = view(&items, &teardowns) => {
            let mut sum = 0;
            for item in view.items {
                suspend().await;
                sum += item;
                view.seen += 1;
            }
            sum
        }))
    }
    .await;
    (sum.unwrap().to_string(), teardowns.load(Ordering::SeqCst))
}

async fn use_locked() -> (String, u32) {
    let teardowns = AtomicU32::new(0);
    let lock = Mutex::new(vec![]);
    async_with!(entries = locked(&lock, &teardowns) => {
        suspend().await;
        entries.push(7);
    });
    let entries = format!("{:?}", lock.lock().await);
    (entries, teardowns.load(Ordering::SeqCst))
}

async fn use_method_ref() -> (String, u32) {
    let store = Store::default();
    async_with!(entries = store.entries() => {
        suspend().await;
        entries.push(3);
    });
    let entries = format!("{:?}", store.entries.lock().await);
    (entries, store.teardowns.load(Ordering::SeqCst))
}

async fn use_method_mut() -> (String, u32) {
    let mut store = Store::default();
    let result: Result<(), std::io::Error> = async {
        async_with!(store = store.reset() => {
            suspend().await;
            store.teardowns.fetch_add(1, Ordering::SeqCst);
        });
        Ok(())
    }
    .await;
    result.unwrap();
    (String::new(), store.teardowns.load(Ordering::SeqCst))
}

fn assert_send<F: Send>(future: F) -> F {
    future
}

/// The table: shape, the future that uses it, what it returns.
macro_rules! shapes {
    ($($shape:ident: $use:ident => $expected:expr;)*) => {
        mod spawned {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $shape() {
                    let output = tokio::spawn(super::$use()).await.unwrap();
                    assert_eq!(output, ($expected.to_string(), 1));
                }
            )*
        }

        mod join_set_of_100 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $shape() {
                    let mut tasks = tokio::task::JoinSet::new();
                    for _ in 0..100 {
                        tasks.spawn(super::$use());
                    }
                    let mut done = 0;
                    while let Some(output) = tasks.join_next().await {
                        assert_eq!(output.unwrap(), ($expected.to_string(), 1));
                        done += 1;
                    }
                    assert_eq!(done, 100);
                }
            )*
        }

        mod assert_send {
            $(
                #[tokio::test]
                async fn $shape() {
                    let output = super::assert_send(super::$use()).await;
                    assert_eq!(output, ($expected.to_string(), 1));
                }
            )*
        }
    };
}

shapes! {
    static_str: use_static_str => "static";
    cow_static: use_cow => "cow!";
    borrowed_mut_from_argument: use_borrowed_mut => "42";
    struct_with_lifetime: use_view => "6";
    tokio_mutex_guard_from_argument: use_locked => "[7]";
    method_on_ref_self: use_method_ref => "[3]";
    method_on_mut_self: use_method_mut => "";
}
