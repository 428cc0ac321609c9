//! Issue 23: plain blocks that must work as written, each run here.
//!
//! - shape 3: `&mut` of a manager that is not `Send`, lent without
//!   `by_ref`; the `Send` variant's `&mut` in spawned generic code too;
//! - shape 4: a struct literal manager, without parentheses;
//! - shape 5: `async_with!` inside `try_stream!`/`stream!`, and
//!   `try_stream!` inside an `async_with!` block;
//! - shape 6: exit sees one view of an error, whichever way it left.

use std::cell::RefCell;
use std::convert::Infallible;
use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use async_with::{AsyncContextManager, ExitAction, Outcome, SendContextManager, async_with};

/// A manager that is not `Send`: it holds an `Rc`.
struct Lease {
    log: Rc<RefCell<Vec<String>>>,
    next: u32,
}

impl AsyncContextManager for Lease {
    type Target = u32;
    type Error = io::Error;

    async fn enter(&mut self) -> io::Result<u32> {
        self.next += 1;
        self.log.borrow_mut().push(format!("enter {}", self.next));
        Ok(self.next)
    }

    async fn exit(&mut self, id: u32, outcome: Outcome<'_>) -> io::Result<ExitAction> {
        self.log.borrow_mut().push(format!("exit {id}: {outcome}"));
        Ok(ExitAction::Propagate)
    }
}

fn lease() -> Lease {
    Lease {
        log: Rc::default(),
        next: 0,
    }
}

/// The shape 3, as written there.
async fn work(lease: &mut Lease) -> io::Result<u32> {
    Ok(async_with!(id = lease => { *id + 1 }))
}

#[test]
fn shape3_a_mut_reference_variable_of_a_local_manager() {
    let mut manager = lease();
    let value = async_with::__private::block_on(work(&mut manager)).unwrap();
    assert_eq!(value, 2);
    // The manager is still ours: enter counted, and its log is readable.
    let value = async_with::__private::block_on(work(&mut manager)).unwrap();
    assert_eq!(value, 3);
    assert_eq!(
        *manager.log.borrow(),
        ["enter 1", "exit 1: completed", "enter 2", "exit 2: completed"]
    );
}

#[test]
fn shape3_mut_of_a_local_manager_with_every_way_out() {
    let mut manager = lease();
    let result: io::Result<u32> = async_with::__private::block_on(async {
        async_with!(id = &mut manager => { assert_eq!(*id, 1); });
        async_with!(&mut manager => {});
        let mut leases = vec![lease()];
        for lease in &mut leases {
            async_with!(id = lease => { assert_eq!(*id, 1); });
        }
        async_with!(id = &mut manager => {
            if *id == 3 {
                Err(io::Error::other("refused"))?;
            }
        });
        Ok(0)
    });
    assert_eq!(result.unwrap_err().to_string(), "refused");
    assert_eq!(manager.next, 3);
    let log = manager.log.borrow();
    assert_eq!(log[5], "exit 3: failed(refused)", "{log:?}");
}

/// A generic function over a local manager, lent as `&mut M`.
async fn generic_local<M>(manager: &mut M) -> Result<u32, M::Error>
where
    M: AsyncContextManager<Target = u32>,
{
    Ok(async_with!(id = manager => { *id * 10 }))
}

#[test]
fn shape3_mut_of_a_generic_local_manager() {
    let mut manager = lease();
    let value = async_with::__private::block_on(generic_local(&mut manager)).unwrap();
    assert_eq!(value, 10);
    assert_eq!(manager.next, 1);
}

/// A `Send` manager, for the `Send` variant's `&mut`.
struct Counter(Arc<Mutex<u32>>);

impl SendContextManager for Counter {
    type Target = u32;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<u32, Infallible> {
        tokio::task::yield_now().await;
        let mut count = self.0.lock().unwrap();
        *count += 1;
        Ok(*count)
    }

    async fn exit(&mut self, _: u32, _: Outcome<'_>) -> Result<ExitAction, Infallible> {
        tokio::task::yield_now().await;
        Ok(ExitAction::Propagate)
    }
}

/// Generic code bounded on the `Send` variant, lending `&mut M`: its future
/// stays `Send`.
async fn generic_send<M>(manager: &mut M) -> u32
where
    M: SendContextManager<Target = u32, Error = Infallible> + Unpin,
{
    async_with!(n = manager => {
        tokio::task::yield_now().await;
        *n
    })
}

#[test]
fn shape3_mut_of_a_send_manager_in_a_spawned_task() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let count = Arc::new(Mutex::new(0));
    let mut manager = Counter(count.clone());
    let (first, second) = runtime.block_on(async move {
        tokio::spawn(async move {
            let first = generic_send(&mut manager).await;
            let second = async_with!(n = &mut manager => { *n });
            (first, second)
        })
        .await
        .unwrap()
    });
    assert_eq!((first, second), (1, 2));
    assert_eq!(*count.lock().unwrap(), 2);
}

/// A manager built with a struct literal.
struct Snapshot {
    table: &'static str,
    log: Rc<RefCell<Vec<String>>>,
}

impl AsyncContextManager for Snapshot {
    type Target = Vec<&'static str>;
    type Error = io::Error;

    async fn enter(&mut self) -> io::Result<Vec<&'static str>> {
        self.log.borrow_mut().push(format!("open {}", self.table));
        Ok(vec!["a", "b"])
    }

    async fn exit(&mut self, _: Vec<&'static str>, outcome: Outcome<'_>) -> io::Result<ExitAction> {
        self.log
            .borrow_mut()
            .push(format!("close {}: {outcome}", self.table));
        Ok(ExitAction::Propagate)
    }
}

#[test]
fn shape4_a_struct_literal_manager() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let table = "users";
    let rows: io::Result<usize> = async_with::__private::block_on(async {
        let rows = async_with!(cursor = Snapshot { table, log: log.clone() } => { cursor.len() });
        async_with!(Snapshot { table: "empty", log: log.clone() } => {});
        let both = async_with!(
            first = lease(),
            cursor = Snapshot { table: "second", log: log.clone() } => {
                *first as usize + cursor.len()
            }
        );
        let first = async_with!(
            cursor = Snapshot { table: "first", log: log.clone() }, id = lease() => {
                cursor.len() + *id as usize
            }
        );
        Ok(rows + both + first)
    });
    assert_eq!(rows.unwrap(), 2 + 3 + 3);
    assert_eq!(
        *log.borrow(),
        [
            "open users",
            "close users: completed",
            "open empty",
            "close empty: completed",
            "open second",
            "close second: completed",
            "open first",
            "close first: completed",
        ]
    );
}
