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

/// The issue's shape 3, as written there.
async fn work(lease: &mut Lease) -> io::Result<u32> {
    Ok(async_with!(id = lease => { *id + 1 }))
}

#[test]
fn shape3_a_mut_reference_variable_of_a_local_manager() {
    let mut manager = lease();
    let value = futures_executor::block_on(work(&mut manager)).unwrap();
    assert_eq!(value, 2);
    // The manager is still ours: enter counted, and its log is readable.
    let value = futures_executor::block_on(work(&mut manager)).unwrap();
    assert_eq!(value, 3);
    assert_eq!(
        *manager.log.borrow(),
        [
            "enter 1",
            "exit 1: completed",
            "enter 2",
            "exit 2: completed"
        ]
    );
}

#[test]
fn shape3_mut_of_a_local_manager_with_every_way_out() {
    let mut manager = lease();
    let result: io::Result<u32> = futures_executor::block_on(async {
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
    let value = futures_executor::block_on(generic_local(&mut manager)).unwrap();
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
    let rows: io::Result<usize> = futures_executor::block_on(async {
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

mod streams {
    //! Shape 5: `async_with!` inside async-stream's generators, and
    //! `try_stream!` inside an `async_with!` block.

    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::fmt;
    use std::pin::pin;
    use std::sync::{Arc, Mutex};

    use async_stream::{stream, try_stream};
    use async_with::tokio::exit_on_cancel;
    use async_with::{ExitAction, Outcome, SendContextManager, async_with};
    use futures_util::{Stream, StreamExt, TryStreamExt};

    #[derive(Debug, PartialEq)]
    pub enum ExportError {
        Malformed(&'static str),
        Refused,
        CloseFailed,
    }

    impl fmt::Display for ExportError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                ExportError::Malformed(payload) => write!(f, "malformed payload {payload:?}"),
                ExportError::Refused => f.write_str("refused"),
                ExportError::CloseFailed => f.write_str("close failed"),
            }
        }
    }

    impl std::error::Error for ExportError {}

    type Log = Arc<Mutex<Vec<String>>>;

    /// A table export: enter opens a cursor on its rows, exit closes it.
    pub struct Snapshot {
        pub rows: Vec<Result<u32, ExportError>>,
        pub log: Log,
        pub refuse: bool,
        pub fail_close: bool,
    }

    pub struct Cursor(VecDeque<Result<u32, ExportError>>);

    impl Cursor {
        async fn next_row(&mut self) -> Result<Option<u32>, ExportError> {
            tokio::task::yield_now().await;
            self.0.pop_front().transpose()
        }
    }

    impl SendContextManager for Snapshot {
        type Target = Cursor;
        type Error = ExportError;

        async fn enter(&mut self) -> Result<Cursor, ExportError> {
            if self.refuse {
                return Err(ExportError::Refused);
            }
            self.log.lock().unwrap().push("open".into());
            Ok(Cursor(std::mem::take(&mut self.rows).into()))
        }

        async fn exit(
            &mut self,
            _: Cursor,
            outcome: Outcome<'_>,
        ) -> Result<ExitAction, ExportError> {
            self.log.lock().unwrap().push(format!("close: {outcome}"));
            if self.fail_close {
                return Err(ExportError::CloseFailed);
            }
            Ok(ExitAction::Propagate)
        }
    }

    /// The issue's shape 5, as written there.
    fn export(snapshot: Snapshot) -> impl Stream<Item = Result<u32, ExportError>> {
        try_stream! {
            async_with!(cursor = exit_on_cancel(snapshot) => {
                while let Some(row) = cursor.next_row().await? {
                    yield row;
                }
            });
        }
    }

    fn snapshot(rows: Vec<Result<u32, ExportError>>, log: &Log) -> Snapshot {
        Snapshot {
            rows,
            log: log.clone(),
            refuse: false,
            fail_close: false,
        }
    }

    /// Every item of the stream, through `TryStreamExt`: the rows, then
    /// the error that ended it, if any.
    async fn drain(
        stream: impl Stream<Item = Result<u32, ExportError>>,
    ) -> (Vec<u32>, Option<ExportError>) {
        let mut stream = pin!(stream);
        let mut rows = Vec::new();
        loop {
            match stream.try_next().await {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => return (rows, None),
                Err(error) => {
                    // A `try_stream!` ends after its error.
                    assert!(stream.next().await.is_none());
                    return (rows, Some(error));
                }
            }
        }
    }

    fn run<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn shape5_rows_then_the_end() {
        let log = Log::default();
        let (rows, error) = run(drain(export(snapshot(vec![Ok(1), Ok(2), Ok(3)], &log))));
        assert_eq!(rows, [1, 2, 3]);
        assert_eq!(error, None);
        assert_eq!(*log.lock().unwrap(), ["open", "close: completed"]);
        // Collected as a whole, too.
        let log = Log::default();
        let rows: Result<Vec<u32>, ExportError> =
            run(export(snapshot(vec![Ok(4), Ok(5)], &log)).try_collect());
        assert_eq!(rows, Ok(vec![4, 5]));
    }

    #[test]
    fn shape5_a_question_mark_in_the_block_is_the_streams_error() {
        let log = Log::default();
        let rows = vec![Ok(1), Err(ExportError::Malformed("bad-json")), Ok(3)];
        let (rows, error) = run(drain(export(snapshot(rows, &log))));
        assert_eq!(rows, [1]);
        assert_eq!(error, Some(ExportError::Malformed("bad-json")));
        // Exit saw the failure before the stream did.
        assert_eq!(
            *log.lock().unwrap(),
            ["open", "close: failed(malformed payload \"bad-json\")"]
        );
    }

    #[test]
    fn shape5_enter_and_exit_errors_are_the_streams_error() {
        let log = Log::default();
        let mut refused = snapshot(vec![Ok(1)], &log);
        refused.refuse = true;
        let (rows, error) = run(drain(export(refused)));
        assert_eq!((rows, error), (vec![], Some(ExportError::Refused)));
        assert!(log.lock().unwrap().is_empty(), "no exit without enter");

        let mut failing_close = snapshot(vec![Ok(1), Ok(2)], &log);
        failing_close.fail_close = true;
        let (rows, error) = run(drain(export(failing_close)));
        assert_eq!((rows, error), (vec![1, 2], Some(ExportError::CloseFailed)));
        assert_eq!(*log.lock().unwrap(), ["open", "close: completed"]);
    }

    /// The residue: a block with no `yield` of its own inside `try_stream!`
    /// cannot be told from one outside a stream, so its errors leave an
    /// `async` block returning a `Result`, and the stream's own `?` takes
    /// them from there.
    #[test]
    fn shape5_a_block_without_yield_inside_try_stream() {
        fn count(snapshot: Snapshot) -> impl Stream<Item = Result<usize, ExportError>> {
            try_stream! {
                let rows = async {
                    Ok::<_, ExportError>(async_with!(cursor = snapshot => {
                        let mut rows = 0;
                        while cursor.next_row().await?.is_some() {
                            rows += 1;
                        }
                        rows
                    }))
                }
                .await?;
                yield rows;
            }
        }
        let log = Log::default();
        let counted: Result<Vec<usize>, ExportError> =
            run(count(snapshot(vec![Ok(1), Ok(2)], &log)).try_collect());
        assert_eq!(counted, Ok(vec![2]));
        let rows = vec![Ok(1), Err(ExportError::Malformed("x"))];
        let counted: Result<Vec<usize>, ExportError> =
            run(count(snapshot(rows, &log)).try_collect());
        assert_eq!(counted, Err(ExportError::Malformed("x")));
        let mut refused = snapshot(vec![], &log);
        refused.refuse = true;
        let counted: Result<Vec<usize>, ExportError> = run(count(refused).try_collect());
        assert_eq!(counted, Err(ExportError::Refused));
    }

    /// An infallible manager in a `stream!` whose items are no `Result`.
    #[test]
    fn shape5_an_infallible_manager_inside_stream() {
        let numbers = stream! {
            async_with!(n = async_with::nullcontext(10_u32) => {
                for step in 0..3 {
                    yield *n + step;
                }
            });
        };
        let numbers: Vec<u32> = run(numbers.collect());
        assert_eq!(numbers, [10, 11, 12]);
    }

    struct Unit;
    impl SendContextManager for Unit {
        type Target = ();
        type Error = Infallible;
        async fn enter(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
        async fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Infallible> {
            Ok(ExitAction::Propagate)
        }
    }

    /// `try_stream!` inside an `async_with!` block: its `?` and `yield`
    /// are the stream's; the block's own `?` is the block's.
    #[test]
    fn shape5_try_stream_inside_a_block() {
        async fn first_two(fail: bool) -> Result<Vec<Result<u8, String>>, String> {
            async_with!(Unit => {
                let s = try_stream! {
                    if fail {
                        Err("x")?;
                    }
                    yield 1u8;
                    yield 2u8;
                };
                let items: Vec<Result<u8, String>> = s.collect().await;
                // The block's own `?` still leaves the function.
                if fail {
                    Err::<(), String>("after".into())?;
                }
                Ok(items)
            })
        }
        assert_eq!(run(first_two(false)), Ok(vec![Ok(1), Ok(2)]));
        assert_eq!(run(first_two(true)), Err("after".to_string()));
        // The stream's own error, seen inside the block.
        async fn only_the_stream() -> Vec<Result<u8, String>> {
            async_with!(Unit => {
                let s = try_stream! { Err("x")?; yield 1u8; };
                s.collect::<Vec<_>>().await
            })
        }
        assert_eq!(run(only_the_stream()), vec![Err("x".to_string())]);
    }
}

mod views {
    //! Shape 6: how exit sees an error, for each way it leaves the block.
    //!
    //! A `?` residual's error type is known where exit's outcome is built,
    //! and is shown with `Display` when it is a `std::error::Error`. A
    //! `return`'s or the block's value may have an error type fixed only
    //! after the macro; the view of a value therefore cannot ask for
    //! `Error` (that bound would become a requirement on an unknown type,
    //! which `String`, `()`, `anyhow::Error` and `Box<dyn Error + Send +
    //! Sync>` do not meet: tested below), and shows it with `Debug`. Written
    //! `Err(e)?`, the same error is a `?`, shown as every `?` is.

    use std::cell::RefCell;
    use std::convert::Infallible;
    use std::rc::Rc;

    use async_with::{AsyncContextManager, ExitAction, Outcome, async_with};

    use super::streams::ExportError;

    /// Records the failure message exit sees.
    #[derive(Default)]
    struct Seen(Rc<RefCell<Vec<String>>>);

    impl AsyncContextManager for Seen {
        type Target = ();
        type Error = Infallible;
        async fn enter(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
        async fn exit(&mut self, _: (), outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
            let message = match outcome.failure() {
                Some(failure) => failure.to_string(),
                None => outcome.to_string(),
            };
            self.0.borrow_mut().push(message);
            Ok(ExitAction::Propagate)
        }
    }

    fn malformed() -> ExportError {
        ExportError::Malformed("bad-json")
    }

    async fn question_mark(seen: &mut Seen) -> Result<u32, ExportError> {
        async_with!(seen => {
            Err(malformed())?;
        });
        Ok(0)
    }

    async fn returned(seen: &mut Seen) -> Result<u32, ExportError> {
        async_with!(seen => {
            return Err(malformed());
        })
    }

    async fn returned_as_question_mark(seen: &mut Seen) -> Result<u32, ExportError> {
        async_with!(seen => {
            Err(malformed())?;
            unreachable!()
        })
    }

    async fn value(seen: &mut Seen) -> Result<u32, ExportError> {
        async_with!(seen => { Err(malformed()) })
    }

    async fn value_as_question_mark(seen: &mut Seen) -> Result<u32, ExportError> {
        async_with!(seen => {
            let value: Result<u32, ExportError> = Err(malformed());
            Ok(value?)
        })
    }

    /// One way of leaving a block with `malformed()`.
    type Way = for<'a> fn(&'a mut Seen) -> BoxFuture<'a>;
    type BoxFuture<'a> = std::pin::Pin<Box<dyn Future<Output = Result<u32, ExportError>> + 'a>>;

    fn seen_by_exit(ways: &[Way]) -> Vec<String> {
        let mut seen = Seen::default();
        for way in ways {
            let result = futures_executor::block_on(way(&mut seen));
            assert_eq!(result, Err(malformed()));
        }
        seen.0.take()
    }

    #[test]
    fn shape6_a_question_mark_and_its_spellings_are_seen_alike() {
        let seen = seen_by_exit(&[
            |seen| Box::pin(question_mark(seen)),
            |seen| Box::pin(returned_as_question_mark(seen)),
            |seen| Box::pin(value_as_question_mark(seen)),
        ]);
        assert_eq!(seen, [r#"malformed payload "bad-json""#; 3]);
    }

    /// The limit: a `return Err(e)` and an `Err(e)` value are seen with
    /// `Debug` (README, "Errors in the block").
    #[test]
    fn shape6_a_returned_error_and_an_error_value_are_seen_with_debug() {
        let seen = seen_by_exit(&[
            |seen| Box::pin(returned(seen)),
            |seen| Box::pin(value(seen)),
        ]);
        assert_eq!(seen, [r#"Malformed("bad-json")"#; 2]);
    }

    /// Error types unknown where exit's outcome is built (fixed by the
    /// `let` after the macro) that are no `std::error::Error`: they compile,
    /// and exit sees them with `Debug`.
    #[test]
    // The conversions are the point: they leave the error type unknown
    // where exit's outcome is built.
    #[allow(clippy::unit_arg, clippy::useless_conversion)]
    fn shape6_error_types_fixed_after_the_macro() {
        let mut seen = Seen::default();
        futures_executor::block_on(async {
            let a: Result<u8, String> = async_with!(&mut seen => { Err("text".into()) });
            let b: Result<u8, ()> = async_with!(&mut seen => { Err(Default::default()) });
            let c: Result<u8, anyhow::Error> =
                async_with!(&mut seen => { Err(anyhow::anyhow!("any").into()) });
            let d: Result<u8, Box<dyn std::error::Error + Send + Sync>> =
                async_with!(&mut seen => { Err("boxed".into()) });
            assert!(a.is_err() && b.is_err() && c.is_err() && d.is_err());
        });
        let seen = seen.0.take();
        // `anyhow::Error`'s `Debug` adds a backtrace when one is captured.
        assert!(seen[2].starts_with("any"), "{seen:?}");
        assert_eq!(
            [&*seen[0], &*seen[1], &*seen[3]],
            [r#""text""#, "()", r#""boxed""#]
        );
    }
}
