//! Never torn: a manager opted in with `exit_on_cancel` whose enter or exit
//! is *already awaiting* when the future running it is dropped. The
//! in-flight step goes on in a task on the runtime and finishes, never
//! restarted, never dropped mid-way: an enter that was under way runs to
//! its end and its target is then exited with `Outcome::Cancelled`; an
//! exit that was under way runs to its end once. Bounded by the deadline,
//! reported at runtime shutdown. Every entry point: `async_with!`, a boxed
//! generator, `with()`, and exit stack entries.
//!
//! The manager waits at a gate the test opens, so that each cancellation
//! lands exactly at the await it targets (after the step's side effect),
//! whatever the machine's load.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_with::tokio::{cancelled_exits, exit_on_cancel, wait_for_cancelled_exits};
use async_with::{
    AsyncExitStack, ExitAction, Outcome, SendContextManager, async_context, async_with, with,
};
use tokio::sync::{Notify, Semaphore};

/// Where the manager waits at the gate.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Hold {
    InEnter,
    InExit,
}

/// The test's view of one manager: its log, the signal that it reached
/// the gate, and the gate.
#[derive(Clone)]
struct Probe {
    log: Arc<Mutex<Vec<String>>>,
    reached: Arc<Notify>,
    gate: Arc<Semaphore>,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            log: Arc::default(),
            reached: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
        }
    }
}

impl Probe {
    fn push(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn events(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Signals that the step's side effect happened, then waits for the
    /// test to open the gate.
    async fn wait_at_gate(&self) {
        self.reached.notify_one();
        self.gate.acquire().await.unwrap().forget();
    }

    fn open(&self) {
        self.gate.add_permits(1);
    }

    /// Opens the gate, waits for the detached step to end, and returns
    /// the log.
    async fn finish(&self) -> Vec<String> {
        self.open();
        assert_eq!(wait_for_cancelled_exits(Duration::from_secs(10)).await, 0);
        self.events()
    }
}

/// A lease granted by enter (the side effect) and released by exit, each
/// awaiting a round trip.
struct Lease {
    probe: Probe,
    hold: Hold,
}

fn lease(probe: &Probe, hold: Hold) -> Lease {
    Lease {
        probe: probe.clone(),
        hold,
    }
}

impl SendContextManager for Lease {
    type Target = String;
    type Error = std::io::Error;

    async fn enter(&mut self) -> std::io::Result<String> {
        self.probe.push("granted".to_string());
        if self.hold == Hold::InEnter {
            self.probe.wait_at_gate().await;
        }
        Ok("lease-1".to_string())
    }

    async fn exit(&mut self, lease: String, outcome: Outcome<'_>) -> std::io::Result<ExitAction> {
        self.probe.push(format!("releasing {lease}: {outcome}"));
        if self.hold == Hold::InExit {
            self.probe.wait_at_gate().await;
        }
        self.probe.push(format!("released {lease}"));
        Ok(ExitAction::Propagate)
    }
}

/// The same lease as a generator.
#[async_context]
async fn lease_generator(probe: Probe, hold: Hold) -> Result<String, std::io::Error> {
    probe.push("granted".to_string());
    if hold == Hold::InEnter {
        probe.wait_at_gate().await;
    }
    let (lease, exit) = yield_!("lease-1".to_string());
    let outcome = exit.inspect(|outcome| outcome.to_string());
    probe.push(format!("releasing {lease}: {outcome}"));
    if hold == Hold::InExit {
        probe.wait_at_gate().await;
    }
    probe.push(format!("released {lease}"));
    Ok(())
}

/// How the block ends before exit.
#[derive(Clone, Copy)]
enum Block {
    Completes,
    Fails,
    Panics,
}

async fn block(how: Block) -> std::io::Result<()> {
    tokio::task::yield_now().await;
    match how {
        Block::Completes => Ok(()),
        Block::Fails => Err(std::io::Error::other("block failed")),
        Block::Panics => panic!("block panicked"),
    }
}

/// The block under `async_with!`, with a hand-written manager.
async fn through_macro(probe: Probe, hold: Hold, how: Block) -> std::io::Result<()> {
    async_with!(_lease = exit_on_cancel(lease(&probe, hold)) => {
        block(how).await?;
    });
    Ok(())
}

/// The block under `async_with!`, with a boxed generator.
async fn through_generator(probe: Probe, hold: Hold, how: Block) -> std::io::Result<()> {
    async_with!(_lease = exit_on_cancel(Box::pin(lease_generator(probe, hold))) => {
        block(how).await?;
    });
    Ok(())
}

/// The block under `with()`.
async fn through_with(probe: Probe, hold: Hold, how: Block) -> std::io::Result<()> {
    with(
        exit_on_cancel(lease(&probe, hold)),
        async move |_: &mut String| block(how).await,
    )
    .await
    .map(drop)
}

/// The manager as an exit stack entry; the block's failure is the stack's
/// outcome (its exit runs when the stack unwinds).
async fn through_exit_stack(probe: Probe, hold: Hold, how: Block) -> std::io::Result<()> {
    let result: Result<(), async_with::BoxError> = async {
        async_with!(stack = AsyncExitStack::new_send() => {
            stack.enter(exit_on_cancel(lease(&probe, hold))).await?;
            block(how).await?;
        });
        Ok(())
    }
    .await;
    result.map_err(std::io::Error::other)
}

type EntryPoint =
    fn(Probe, Hold, Block) -> std::pin::Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

fn entry_points() -> [(&'static str, EntryPoint); 4] {
    [
        ("async_with!", |p, h, b| Box::pin(through_macro(p, h, b))),
        ("generator", |p, h, b| Box::pin(through_generator(p, h, b))),
        ("with()", |p, h, b| Box::pin(through_with(p, h, b))),
        ("exit stack", |p, h, b| {
            Box::pin(through_exit_stack(p, h, b))
        }),
    ]
}

/// Runs `future` as a task and aborts it once the manager reached its gate.
async fn abort_at_gate(
    probe: &Probe,
    future: impl Future<Output = std::io::Result<()>> + Send + 'static,
) {
    let task = tokio::spawn(future);
    probe.reached.notified().await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enter_cancelled_at_its_await_finishes_and_its_target_is_exited_once() {
    for (name, run) in entry_points() {
        // By `JoinHandle::abort`.
        let probe = Probe::default();
        abort_at_gate(&probe, run(probe.clone(), Hold::InEnter, Block::Completes)).await;
        assert_eq!(
            probe.finish().await,
            [
                "granted",
                "releasing lease-1: cancelled",
                "released lease-1"
            ],
            "{name}, aborted"
        );

        // By `select!`.
        let probe = Probe::default();
        tokio::select! {
            _ = run(probe.clone(), Hold::InEnter, Block::Completes) => unreachable!("held at the gate"),
            _ = probe.reached.notified() => {}
        }
        assert_eq!(
            probe.finish().await,
            [
                "granted",
                "releasing lease-1: cancelled",
                "released lease-1"
            ],
            "{name}, select!"
        );

        // By `timeout`: the gate stays shut until long after it fired.
        let probe = Probe::default();
        let timed_out = tokio::time::timeout(
            Duration::from_millis(200),
            run(probe.clone(), Hold::InEnter, Block::Completes),
        )
        .await;
        assert!(timed_out.is_err());
        assert_eq!(
            probe.finish().await,
            [
                "granted",
                "releasing lease-1: cancelled",
                "released lease-1"
            ],
            "{name}, timeout"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exit_cancelled_at_its_await_runs_to_its_end_exactly_once() {
    let endings = [
        (Block::Completes, "completed"),
        (Block::Fails, "failed(block failed)"),
        (Block::Panics, "panicked(block panicked)"),
    ];
    for (name, run) in entry_points() {
        for (how, seen) in endings {
            // `with()` views the body's error with `Debug` (generic code
            // cannot choose `Display`; see its docs).
            let seen = match (name, how) {
                ("with()", Block::Fails) => {
                    r#"failed(Custom { kind: Other, error: "block failed" })"#
                }
                _ => seen,
            };
            let probe = Probe::default();
            abort_at_gate(&probe, run(probe.clone(), Hold::InExit, how)).await;
            // Exit was already under way: it is finished, not restarted
            // with `Cancelled`, and runs once.
            assert_eq!(
                probe.finish().await,
                [
                    "granted".to_string(),
                    format!("releasing lease-1: {seen}"),
                    "released lease-1".to_string()
                ],
                "{name}, block {seen}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_step_is_bounded_by_the_deadline() {
    for hold in [Hold::InEnter, Hold::InExit] {
        let probe = Probe::default();
        let before = cancelled_exits().timed_out;
        let manager = exit_on_cancel(lease(&probe, hold)).deadline(Duration::from_millis(50));
        let future = async move {
            async_with!(_lease = manager => {});
            Ok(())
        };
        abort_at_gate(&probe, future).await;
        // The gate never opens: the detached step is dropped at its deadline.
        assert_eq!(wait_for_cancelled_exits(Duration::from_secs(10)).await, 0);
        assert!(cancelled_exits().timed_out > before, "{hold:?}");
        assert!(
            !probe
                .events()
                .iter()
                .any(|line| line.starts_with("released")),
            "{hold:?}"
        );
    }
}

#[test]
fn a_runtime_shutting_down_reports_a_detached_step_it_drops() {
    for hold in [Hold::InEnter, Hold::InExit] {
        let before = cancelled_exits().abandoned;
        let probe = Probe::default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(abort_at_gate(
            &probe,
            through_macro(probe.clone(), hold, Block::Completes),
        ));
        drop(runtime); // the detached step is still at the gate
        assert!(cancelled_exits().abandoned > before, "{hold:?}");
        assert!(
            !probe
                .events()
                .iter()
                .any(|line| line.starts_with("released")),
            "{hold:?}"
        );
    }
}

/// An enter that fails after the cancellation has no target to exit: it is
/// counted as failed, and exit never runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enter_failing_after_the_cancellation_is_counted_and_not_exited() {
    struct Refused(Probe);
    impl SendContextManager for Refused {
        type Target = ();
        type Error = std::io::Error;
        async fn enter(&mut self) -> std::io::Result<()> {
            self.0.wait_at_gate().await;
            Err(std::io::Error::other("refused"))
        }
        async fn exit(&mut self, (): (), _: Outcome<'_>) -> std::io::Result<ExitAction> {
            self.0.push("exit".to_string());
            Ok(ExitAction::Propagate)
        }
    }
    let probe = Probe::default();
    let before = cancelled_exits().failed;
    let manager = exit_on_cancel(Refused(probe.clone()));
    abort_at_gate(&probe, async move {
        async_with!(manager => {});
        Ok(())
    })
    .await;
    assert!(probe.finish().await.is_empty());
    assert!(cancelled_exits().failed > before);
}
