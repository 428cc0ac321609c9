//! The core needs no async runtime: both kinds of manager work on the
//! `futures-executor` crate's executors, which know nothing of tokio (no
//! reactor, no timer), including several blocks interleaved on one thread.

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use async_with::{AsyncContextManager, ExitAction, Outcome, async_context, async_with};
use futures_executor::LocalPool;
use futures_executor::block_on;
use futures_util::task::LocalSpawnExt;

type Log = Rc<RefCell<Vec<String>>>;

/// Returns `Pending` once (after waking itself): a suspension point that
/// needs no runtime, so the executor interleaves tasks at each one.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn yield_now() -> YieldNow {
    YieldNow(false)
}

/// A hand-written manager that suspends in enter and exit.
struct Resource {
    name: &'static str,
    log: Log,
}

impl AsyncContextManager for Resource {
    type Target = String;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<String, Infallible> {
        yield_now().await;
        self.log.borrow_mut().push(format!("enter {}", self.name));
        Ok(self.name.to_uppercase())
    }

    async fn exit(
        &mut self,
        target: String,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Infallible> {
        yield_now().await;
        self.log
            .borrow_mut()
            .push(format!("exit {} with {target}: {outcome}", self.name));
        Ok(ExitAction::Propagate)
    }
}

/// A generator manager that suspends before and after its `yield_!`.
#[async_context]
async fn generator(name: &'static str, log: Log) -> Result<Vec<&'static str>, String> {
    yield_now().await;
    log.borrow_mut().push(format!("setup {name}"));
    let (target, exit) = yield_!(vec![name]);
    yield_now().await;
    log.borrow_mut().push(format!(
        "teardown {name} with {target:?}: {}",
        exit.inspect(|outcome| outcome.to_string())
    ));
    if exit.is_failed() {
        exit.suppress();
    }
    Ok(())
}

#[test]
fn both_forms_run_on_futures_executor_block_on() {
    let log = Log::default();
    let result: Result<(), String> = block_on(async {
        let resource = Resource {
            name: "r",
            log: log.clone(),
        };
        async_with!(r = resource, g = generator("g", log.clone()) => {
            yield_now().await;
            g.push("used");
            r.push('!');
            "nope".parse::<u8>().map_err(|e| e.to_string())?; // suppressed by g
        });
        Ok(())
    });
    assert_eq!(result, Ok(()));
    assert_eq!(
        *log.borrow(),
        [
            "enter r",
            "setup g",
            "teardown g with [\"g\", \"used\"]: failed(\"invalid digit found in string\")",
            "exit r with R!: completed",
        ]
    );
}

#[test]
fn interleaved_blocks_on_a_local_pool_each_see_their_own_targets() {
    let log = Log::default();
    let mut pool = LocalPool::new();
    for name in ["a", "b"] {
        let log = log.clone();
        pool.spawner()
            .spawn_local(async move {
                let result: Result<(), String> = async {
                    async_with!(g = generator(name, log.clone()) => {
                        for _ in 0..3 {
                            yield_now().await; // let the other task run
                            g.push(name);
                        }
                    });
                    Ok(())
                }
                .await;
                result.unwrap();
            })
            .unwrap();
    }
    pool.run();
    let log = log.borrow();
    // The two generators were suspended at the same time...
    assert_eq!(log[..2], ["setup a", "setup b"]);
    // ...and each got its own target back.
    let mut teardowns = log[2..].to_vec();
    teardowns.sort();
    assert_eq!(
        teardowns,
        [
            "teardown a with [\"a\", \"a\", \"a\", \"a\"]: completed",
            "teardown b with [\"b\", \"b\", \"b\", \"b\"]: completed",
        ]
    );
}

#[test]
fn a_panic_resumes_on_futures_executor_after_exit() {
    let log = Log::default();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block_on(async {
            let resource = Resource {
                name: "r",
                log: log.clone(),
            };
            async_with!(_r = resource => {
                yield_now().await;
                panic!("no runtime needed");
            });
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"no runtime needed"));
    assert_eq!(
        *log.borrow(),
        ["enter r", "exit r with R: panicked(no runtime needed)"]
    );
}
