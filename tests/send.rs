//! `Send` (docs/contract.md, "`Send` and generic code"): futures using
//! managers are `Send` whenever the managers and targets are, also for
//! generic managers, `impl Trait` returns, the exit stack and `with()`; each
//! case runs inside `tokio::spawn` on the multi-thread runtime.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use async_with::{
    AsyncExitStack, BoxError, ExitAction, Outcome, SendContextManager, SendExitStack,
    async_context, async_with, nullcontext, with,
};

/// A `Send` manager that records its steps.
struct Session {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

impl SendContextManager for Session {
    type Target = String;
    type Error = std::io::Error;

    async fn enter(&mut self) -> std::io::Result<String> {
        tokio::task::yield_now().await;
        self.log
            .lock()
            .unwrap()
            .push(format!("enter {}", self.name));
        Ok(format!("{}-conn", self.name))
    }

    async fn exit(&mut self, conn: String, outcome: Outcome<'_>) -> std::io::Result<ExitAction> {
        tokio::task::yield_now().await;
        self.log
            .lock()
            .unwrap()
            .push(format!("exit {conn}: {outcome}"));
        Ok(ExitAction::Propagate)
    }
}

fn log() -> Arc<Mutex<Vec<String>>> {
    Arc::default()
}

fn events(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// The first case: a function returning an opaque manager.
fn open(
    name: &'static str,
    log: &Arc<Mutex<Vec<String>>>,
) -> impl SendContextManager<Target = String, Error = std::io::Error> + Unpin + use<> {
    Session {
        name,
        log: log.clone(),
    }
}

/// The lead's case: code generic over a `Send` manager.
async fn generic<M>(manager: M) -> Result<usize, std::io::Error>
where
    M: SendContextManager<Target = String, Error = std::io::Error> + Unpin,
{
    let len = async_with!(conn = manager => {
        tokio::task::yield_now().await;
        conn.len()
    });
    Ok(len)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

#[test]
fn a_generic_manager_runs_in_a_spawned_task() {
    let log = log();
    let task_log = log.clone();
    let len = runtime().block_on(async move {
        tokio::spawn(generic(Session {
            name: "a",
            log: task_log,
        }))
        .await
        .unwrap()
        .unwrap()
    });
    assert_eq!(len, "a-conn".len());
    assert_eq!(events(&log), ["enter a", "exit a-conn: completed"]);
}

#[test]
fn an_impl_trait_manager_runs_in_a_spawned_task() {
    let log = log();
    let manager = open("b", &log);
    runtime().block_on(async move {
        tokio::spawn(async move {
            async_with!(conn = manager => {
                tokio::task::yield_now().await;
                conn.push('!');
            });
            Ok::<_, std::io::Error>(())
        })
        .await
        .unwrap()
        .unwrap()
    });
    assert_eq!(events(&log), ["enter b", "exit b-conn!: completed"]);
}

/// A repository whose transaction type is a manager: generic code over it.
trait Repo: Send + Sync + 'static {
    type Tx: SendContextManager<Target = String, Error = std::io::Error> + Unpin;
    fn begin(&self) -> Self::Tx;
}

struct Memory(Arc<Mutex<Vec<String>>>);

impl Repo for Memory {
    type Tx = Session;
    fn begin(&self) -> Session {
        Session {
            name: "tx",
            log: self.0.clone(),
        }
    }
}

async fn transfer<R: Repo>(repo: Arc<R>) -> Result<(), std::io::Error> {
    async_with!(tx = repo.begin() => {
        tokio::task::yield_now().await;
        tx.push_str("+debit");
    });
    Ok(())
}

#[test]
fn a_generic_repository_transaction_runs_in_a_spawned_task() {
    let log = log();
    let repo = Arc::new(Memory(log.clone()));
    runtime().block_on(async move { tokio::spawn(transfer(repo)).await.unwrap().unwrap() });
    assert_eq!(events(&log), ["enter tx", "exit tx-conn+debit: completed"]);
}

#[async_context]
async fn generated(
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
) -> Result<String, std::io::Error> {
    tokio::task::yield_now().await;
    log.lock().unwrap().push(format!("setup {name}"));
    let (target, exit) = yield_!(format!("{name}-gen"));
    tokio::task::yield_now().await;
    log.lock().unwrap().push(format!(
        "teardown {target}: {}",
        exit.inspect(|o| o.to_string())
    ));
    Ok(())
}

#[test]
fn generators_are_send_unboxed_where_concrete_and_boxed_where_generic() {
    let log = log();
    let (concrete, boxed) = (log.clone(), log.clone());
    runtime().block_on(async move {
        tokio::spawn(async move {
            async_with!(g = generated("plain", concrete) => { g.push('!') });
            Ok::<_, std::io::Error>(())
        })
        .await
        .unwrap()
        .unwrap();
        tokio::spawn(generic(Box::pin(generated("boxed", boxed))))
            .await
            .unwrap()
            .unwrap();
    });
    assert_eq!(
        events(&log),
        [
            "setup plain",
            "teardown plain-gen!: completed",
            "setup boxed",
            "teardown boxed-gen: completed"
        ]
    );
}

#[test]
fn a_send_exit_stack_runs_in_a_spawned_task() {
    let log = log();
    let task_log = log.clone();
    runtime().block_on(async move {
        tokio::spawn(async move {
            async_with!(stack = AsyncExitStack::new_send() => {
                let a = stack.enter(open("a", &task_log)).await?;
                let deferred = task_log.clone();
                stack.defer(move || async move {
                    tokio::task::yield_now().await;
                    deferred.lock().unwrap().push("deferred".to_string());
                    Ok(())
                });
                let g = stack.enter(Box::pin(generated("g", task_log.clone()))).await?;
                tokio::task::yield_now().await;
                a.push_str(g);
            });
            Ok::<_, BoxError>(())
        })
        .await
        .unwrap()
        .unwrap()
    });
    assert_eq!(
        events(&log),
        [
            "enter a",
            "setup g",
            "teardown g-gen: completed",
            "deferred",
            "exit a-conng-gen: completed"
        ]
    );
}

#[test]
fn a_typed_send_exit_stack_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let stack = SendExitStack::<BoxError>::default();
    assert_send_sync(&stack);
    let sum = runtime().block_on(async move {
        tokio::spawn(async move {
            let mut stack = stack;
            let n = stack.enter(nullcontext(40_u32)).await.unwrap();
            *n += 2;
            let n = *n;
            stack.close().await.map(|()| n)
        })
        .await
        .unwrap()
        .unwrap()
    });
    assert_eq!(sum, 42);
}

/// A manager whose target has a lifetime parameter.
struct Borrowed;

impl SendContextManager for Borrowed {
    type Target = Cow<'static, str>;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<Cow<'static, str>, Infallible> {
        Ok(Cow::Borrowed("static"))
    }

    async fn exit(
        &mut self,
        _: Cow<'static, str>,
        _: Outcome<'_>,
    ) -> Result<ExitAction, Infallible> {
        Ok(ExitAction::Propagate)
    }
}

/// The body as an `async fn` item: the spelling that works inside an
/// async block that must be `Send` (an async closure there hits
/// rust-lang/rust#126350, "implementation of `AsyncFnOnce` is not general
/// enough").
async fn lengthen(text: &mut Cow<'static, str>) -> Result<usize, BoxError> {
    tokio::task::yield_now().await;
    text.to_mut().push_str("+owned");
    Ok(text.len())
}

#[test]
fn with_a_target_with_a_lifetime_runs_in_a_spawned_task() {
    let (in_block, direct) = runtime().block_on(async {
        // Awaited inside a spawned async block: the body is an `async fn`.
        let in_block = tokio::spawn(async {
            let len = with(Borrowed, lengthen).await?;
            Ok::<_, BoxError>(len)
        });
        // Spawned as it is: an async closure works.
        let direct = tokio::spawn(with(Borrowed, async |text: &mut Cow<'static, str>| {
            tokio::task::yield_now().await;
            Ok::<_, BoxError>(text.len())
        }));
        (
            in_block.await.unwrap().unwrap(),
            direct.await.unwrap().unwrap(),
        )
    });
    assert_eq!(in_block, Some("static+owned".len()));
    assert_eq!(direct, Some("static".len()));
}

/// A generic manager bounded without `+ Unpin` (it may hold a
/// `PhantomPinned`): `async_with!` drives it through `&mut`, as its trait's
/// methods ask, and the future stays `Send`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_manager_bounded_without_unpin_runs_in_a_spawned_task() {
    struct Pinned {
        log: Arc<Mutex<Vec<String>>>,
        _pinned: std::marker::PhantomPinned,
    }
    impl SendContextManager for Pinned {
        type Target = u8;
        type Error = Infallible;
        async fn enter(&mut self) -> Result<u8, Infallible> {
            tokio::task::yield_now().await;
            self.log.lock().unwrap().push("enter".to_string());
            Ok(41)
        }
        async fn exit(&mut self, n: u8, outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
            tokio::task::yield_now().await;
            self.log
                .lock()
                .unwrap()
                .push(format!("exit {n}: {outcome}"));
            Ok(ExitAction::Propagate)
        }
    }
    async fn use_it<M>(manager: M) -> u8
    where
        M: SendContextManager<Target = u8, Error = Infallible>,
    {
        async_with!(n = manager => {
            tokio::task::yield_now().await;
            *n += 1;
            *n
        })
    }
    let log = log();
    let manager = Pinned {
        log: log.clone(),
        _pinned: std::marker::PhantomPinned,
    };
    assert_eq!(tokio::spawn(use_it(manager)).await.unwrap(), 42);
    assert_eq!(events(&log), ["enter", "exit 42: completed"]);
}
