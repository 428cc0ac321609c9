//! SPEC rules 1-18 together, model-checked.
//!
//! A scenario is a nest of up to five `async_with!` levels; each level has
//! up to two managers of its own and up to two more entered into an exit
//! stack inside its block (one to three in all), each hand-written or a
//! generator, each with a chosen enter and exit behaviour (succeed, fail,
//! panic, hang), and the innermost block ends one way (complete, `?`,
//! `return Err(..)`, a value `Err(..)` that every level evaluates to,
//! panic, `return`, labelled `break`, hang). A hang is where the scenario
//! is cancelled: the executor drops the future once it stops progressing.
//! In some scenarios one more manager, innermost, runs the block through
//! `with()` (SPEC rule 20: one protocol under every entry point); its block
//! is then a closure, so it ends any way but `return` and labelled `break`.
//!
//! [`model`] predicts the event log and the result from SPEC §2 alone, as
//! if every manager were one level of plain nesting. [`interpret`] runs the
//! same scenario through the real macros. They must agree exactly.
//! `MODEL_CASES` sets the number of scenarios (2,000 by default;
//! `scripts/soak.sh` runs 100,000).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::future::{Future, pending};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use async_with::{
    AsyncContextManager, AsyncExitStack, ExitAction, Outcome, PinnedContextManager, async_context,
    async_with, with,
};
use common::{Log, describe};
use proptest::prelude::*;

// ------------------------------------------------------------------ scenarios

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Succeed,
    Fail,
    Panic,
    Hang,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum ExitStep {
    Propagate,
    Suppress,
    Fail,
    Panic,
    Hang,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    Hand,
    Generator,
}

#[derive(Clone, Copy, Debug)]
struct Spec {
    id: usize,
    form: Form,
    enter: Step,
    exit: ExitStep,
}

#[derive(Clone, Debug, Default)]
struct Level {
    /// Managers of the level's own `async_with!` (slots `a` and `b`).
    plain: Vec<Spec>,
    /// Managers entered into the level's exit stack, in its block.
    stacked: Vec<Spec>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum BlockEnd {
    Complete,
    /// `?` on an error.
    Fail,
    /// `return Err(..)`: a failure like `?` (rule 3).
    ReturnErr,
    Panic,
    Return,
    Break,
    Hang,
    /// The block's value is `Err(..)` (rule 4): every level's block has a
    /// `Result` value then, so no failure can be suppressed (rule 5).
    TailErr,
}

#[derive(Clone, Debug)]
struct Scenario {
    levels: Vec<Level>,
    /// The innermost manager, driven by `with()` around the block.
    closure: Option<Spec>,
    block: BlockEnd,
}

/// How a run ended, as the caller sees it.
#[derive(Clone, Debug, PartialEq)]
enum Ended {
    Completed,
    Returned,
    Broke,
    Failed(String),
    Panicked(String),
    Cancelled,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => Just(Step::Succeed),
        1 => Just(Step::Fail),
        1 => Just(Step::Panic),
        1 => Just(Step::Hang),
    ]
}

fn exit_step() -> impl Strategy<Value = ExitStep> {
    prop_oneof![
        5 => Just(ExitStep::Propagate),
        2 => Just(ExitStep::Suppress),
        1 => Just(ExitStep::Fail),
        1 => Just(ExitStep::Panic),
        1 => Just(ExitStep::Hang),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop_oneof![Just(Form::Hand), Just(Form::Generator)],
        step(),
        exit_step(),
    )
        .prop_map(|(form, enter, exit)| Spec {
            id: 0,
            form,
            enter,
            exit,
        })
}

fn level() -> impl Strategy<Value = Level> {
    // One to three managers, split between the level's own list (at most
    // two slots) and its exit stack (at most two).
    (prop::collection::vec(spec(), 1..=3), 0..=2_usize).prop_map(|(specs, plain)| {
        let plain = plain.min(specs.len()).max(specs.len().saturating_sub(2));
        let (own, stacked) = specs.split_at(plain);
        Level {
            plain: own.to_vec(),
            stacked: stacked.to_vec(),
        }
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let block = prop_oneof![
        3 => Just(BlockEnd::Complete),
        2 => Just(BlockEnd::Fail),
        1 => Just(BlockEnd::ReturnErr),
        1 => Just(BlockEnd::Panic),
        1 => Just(BlockEnd::Return),
        1 => Just(BlockEnd::Break),
        1 => Just(BlockEnd::Hang),
        1 => Just(BlockEnd::TailErr),
    ];
    let closure = prop::option::weighted(0.3, spec());
    (prop::collection::vec(level(), 1..=5), closure, block).prop_map(
        |(mut levels, mut closure, block)| {
            if matches!(
                block,
                BlockEnd::Return | BlockEnd::Break | BlockEnd::TailErr
            ) {
                closure = None; // a closure's `return` and `break` stay in it
            }
            if block == BlockEnd::TailErr {
                // The block is reached: its value is what is checked.
                for level in &mut levels {
                    for spec in level.plain.iter_mut().chain(level.stacked.iter_mut()) {
                        spec.enter = Step::Succeed;
                    }
                }
            }
            let mut id = 0;
            for level in &mut levels {
                for spec in level.plain.iter_mut().chain(level.stacked.iter_mut()) {
                    id += 1;
                    spec.id = id;
                }
            }
            if let Some(spec) = &mut closure {
                spec.id = id + 1;
            }
            Scenario {
                levels,
                closure,
                block,
            }
        },
    )
}

// ------------------------------------------------------------------ the model

/// What the next exit sees, in the model.
#[derive(Clone, Debug, PartialEq)]
enum State {
    Completed,
    Failed(String),
    Panicked(String),
}

impl State {
    fn describe(&self) -> String {
        match self {
            State::Completed => "completed".to_string(),
            State::Failed(error) => format!("failed({error})"),
            State::Panicked(message) => format!("panicked({message})"),
        }
    }
}

/// The expected log and result, from SPEC §2: managers enter outermost
/// first (rule 9), a failed or panicking enter stops there (rule 1), the
/// block ends, every entered manager exits once in reverse order seeing what
/// the one inside it left (rules 2-9, 11), suppression makes a failure
/// completed (5), an exit error replaces a failure but not a panic (7, 8),
/// an exit panic replaces anything; a hang cancels: entered managers whose
/// exit has not started are cancelled, innermost first (10). A `return` of
/// an error is a failure like `?` (3); a block value `Err(e)` is a failure
/// each level's exit sees, which no exit can suppress (4, 5).
fn model(scenario: &Scenario) -> (Vec<String>, Ended) {
    // Each manager with the level whose exit stack holds it, if any.
    let managers: Vec<(Spec, Option<usize>)> = scenario
        .levels
        .iter()
        .enumerate()
        .flat_map(|(index, level)| {
            let plain = level.plain.iter().map(|spec| (*spec, None));
            plain.chain(level.stacked.iter().map(move |spec| (*spec, Some(index))))
        })
        // `with()` is one more level of plain nesting.
        .chain(scenario.closure.map(|spec| (spec, None)))
        .collect();
    let mut log = Vec::new();
    let mut entered: Vec<(Spec, Option<usize>)> = Vec::new();
    let mut state = State::Completed;
    let mut jump = None;
    let mut cancelled = false;
    let mut all_entered = true;
    let valued = scenario.block == BlockEnd::TailErr;
    for (spec, stack) in &managers {
        match spec.enter {
            Step::Succeed => {
                log.push(format!("enter {}", spec.id));
                entered.push((*spec, *stack));
                continue;
            }
            Step::Fail => {
                log.push(format!("enter {} failed", spec.id));
                state = State::Failed(format!("enter {}", spec.id));
            }
            Step::Panic => state = State::Panicked(format!("enter {}", spec.id)),
            Step::Hang => {
                log.push(format!("enter {} hangs", spec.id));
                cancelled = true;
            }
        }
        all_entered = false;
        break;
    }
    if all_entered {
        log.push("block".to_string());
        match scenario.block {
            BlockEnd::Complete => {}
            BlockEnd::Fail | BlockEnd::ReturnErr | BlockEnd::TailErr => {
                state = State::Failed("block".to_string())
            }
            BlockEnd::Panic => state = State::Panicked("block".to_string()),
            BlockEnd::Return => jump = Some(Ended::Returned),
            BlockEnd::Break => jump = Some(Ended::Broke),
            BlockEnd::Hang => cancelled = true,
        }
    }
    // The outcome and jump an exit stack was given, while its entries exit.
    let mut given: Option<(State, Option<Ended>)> = None;
    while let Some((spec, stack)) = entered.pop() {
        if cancelled {
            log.push(format!("cancel {}", spec.id));
            continue;
        }
        if stack.is_some() && given.is_none() {
            given = Some((state.clone(), jump.clone()));
        }
        log.push(format!("exit {} saw {}", spec.id, state.describe()));
        match spec.exit {
            ExitStep::Propagate => {}
            ExitStep::Suppress => {
                // With a `Result`-valued block, only an exit stack's own
                // entries can suppress (what the next entry sees).
                let honoured = !valued || stack.is_some();
                if honoured && matches!(state, State::Failed(_)) {
                    state = State::Completed;
                }
            }
            ExitStep::Fail => {
                if !matches!(state, State::Panicked(_)) {
                    state = State::Failed(format!("exit {}", spec.id));
                    jump = None;
                }
            }
            ExitStep::Panic => {
                state = State::Panicked(format!("exit {}", spec.id));
                jump = None;
            }
            ExitStep::Hang => cancelled = true,
        }
        let stack_done = stack.is_some() && entered.last().is_none_or(|(_, next)| *next != stack);
        if let Some((given_state, given_jump)) = given.take_if(|_| stack_done) {
            // Seen from outside, an exit stack is one manager (Python's
            // `AsyncExitStack.__aexit__`): it can suppress a failure it was
            // given, or fail, but a failure raised and then suppressed
            // among its entries leaves a completed block's `return` or
            // `break` going ahead, where nested managers would drop it.
            if state == State::Completed && given_state == State::Completed {
                jump = given_jump;
            }
            // The stack asks to suppress what it was given; a
            // `Result`-valued block cannot be, so the failure it was given
            // (the block's value, or an error raised inside) goes on.
            if valued && state == State::Completed {
                state = given_state;
            }
        }
    }
    let ended = match (cancelled, state, jump) {
        (true, _, _) => Ended::Cancelled,
        (false, State::Completed, Some(jump)) => jump,
        (false, State::Completed, None) => Ended::Completed,
        (false, State::Failed(error), _) => Ended::Failed(error),
        (false, State::Panicked(message), _) => Ended::Panicked(message),
    };
    (log, ended)
}

// ------------------------------------------------------------------ managers

struct TestError(String);

/// The message alone, as `Display`: `with()` shows the block's error with
/// `Debug` (it cannot pick `Display` in generic code), `async_with!` with
/// `Display`; both then log the same.
impl std::fmt::Debug for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestError {}

/// Returns `Pending` once (after waking itself): every step suspends.
async fn yield_now() {
    common::yield_now().await;
}

struct Hand {
    spec: Spec,
    log: Log,
}

impl AsyncContextManager for Hand {
    type Target = ();
    type Error = TestError;

    async fn enter(&mut self) -> Result<(), TestError> {
        yield_now().await;
        let id = self.spec.id;
        match self.spec.enter {
            Step::Succeed => {
                self.log.push(format!("enter {id}"));
                Ok(())
            }
            Step::Fail => {
                self.log.push(format!("enter {id} failed"));
                Err(TestError(format!("enter {id}")))
            }
            Step::Panic => panic!("enter {id}"),
            Step::Hang => {
                self.log.push(format!("enter {id} hangs"));
                pending().await
            }
        }
    }

    async fn exit(&mut self, (): (), outcome: Outcome<'_>) -> Result<ExitAction, TestError> {
        yield_now().await;
        let id = self.spec.id;
        self.log
            .push(format!("exit {id} saw {}", describe(&outcome)));
        match self.spec.exit {
            ExitStep::Propagate => Ok(ExitAction::Propagate),
            ExitStep::Suppress => Ok(ExitAction::Suppress),
            ExitStep::Fail => Err(TestError(format!("exit {id}"))),
            ExitStep::Panic => panic!("exit {id}"),
            ExitStep::Hang => pending().await,
        }
    }

    fn cancel(&mut self, (): ()) {
        self.log.push(format!("cancel {}", self.spec.id));
    }
}

/// Logs `cancel ID` when a generator is dropped while suspended at its
/// `yield_!`: the generator form's cancellation.
struct CancelLog {
    id: usize,
    log: Log,
    armed: bool,
}

impl Drop for CancelLog {
    fn drop(&mut self) {
        if self.armed {
            self.log.push(format!("cancel {}", self.id));
        }
    }
}

#[async_context]
async fn generator(spec: Spec, log: Log) -> Result<(), TestError> {
    yield_now().await;
    let id = spec.id;
    match spec.enter {
        Step::Succeed => log.push(format!("enter {id}")),
        Step::Fail => {
            log.push(format!("enter {id} failed"));
            return Err(TestError(format!("enter {id}")));
        }
        Step::Panic => panic!("enter {id}"),
        Step::Hang => {
            log.push(format!("enter {id} hangs"));
            pending::<()>().await;
        }
    }
    let mut cancel_log = CancelLog {
        id,
        log: log.clone(),
        armed: true,
    };
    let ((), exit) = yield_!(());
    cancel_log.armed = false;
    yield_now().await;
    log.push(format!("exit {id} saw {}", exit.inspect(describe)));
    match spec.exit {
        ExitStep::Propagate => {}
        ExitStep::Suppress => exit.suppress(),
        ExitStep::Fail => return Err(TestError(format!("exit {id}"))),
        ExitStep::Panic => panic!("exit {id}"),
        ExitStep::Hang => pending::<()>().await,
    }
    Ok(())
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Object-safe face of a manager, so that one slot holds either form.
trait DynManager {
    fn enter(self: Pin<&mut Self>) -> BoxFuture<'_, Result<(), TestError>>;
    fn exit<'a>(
        self: Pin<&'a mut Self>,
        outcome: Outcome<'a>,
    ) -> BoxFuture<'a, Result<ExitAction, TestError>>;
    fn cancel(self: Pin<&mut Self>);
}

impl<M: PinnedContextManager<Target = (), Error = TestError>> DynManager for M {
    fn enter(self: Pin<&mut Self>) -> BoxFuture<'_, Result<(), TestError>> {
        Box::pin(PinnedContextManager::enter(self))
    }

    fn exit<'a>(
        self: Pin<&'a mut Self>,
        outcome: Outcome<'a>,
    ) -> BoxFuture<'a, Result<ExitAction, TestError>> {
        Box::pin(PinnedContextManager::exit(self, (), outcome))
    }

    fn cancel(self: Pin<&mut Self>) {
        PinnedContextManager::cancel(self, ());
    }
}

/// A manager slot of a level: absent (does nothing, logs nothing), or one
/// of the scenario's managers in either form.
struct Slot(Option<Pin<Box<dyn DynManager>>>);

fn slot(spec: Option<&Spec>, log: &Log) -> Slot {
    Slot(spec.map(|spec| -> Pin<Box<dyn DynManager>> {
        let log = log.clone();
        match spec.form {
            Form::Hand => Box::pin(Hand { spec: *spec, log }),
            Form::Generator => Box::pin(generator(*spec, log)),
        }
    }))
}

impl AsyncContextManager for Slot {
    type Target = ();
    type Error = TestError;

    async fn enter(&mut self) -> Result<(), TestError> {
        match &mut self.0 {
            Some(manager) => manager.as_mut().enter().await,
            None => Ok(()),
        }
    }

    async fn exit(&mut self, (): (), outcome: Outcome<'_>) -> Result<ExitAction, TestError> {
        match &mut self.0 {
            Some(manager) => manager.as_mut().exit(outcome).await,
            None => Ok(ExitAction::Propagate),
        }
    }

    fn cancel(&mut self, (): ()) {
        if let Some(manager) = &mut self.0 {
            manager.as_mut().cancel();
        }
    }
}

// ------------------------------------------------------------------ interpreter

/// The nest of levels, built inside out so that `async_with!` sees plain
/// tokens all the way down (it cannot see into other macros' expansions):
/// each level has its own managers in slots `a` and `b`, an exit stack for
/// the rest, then the innermost block if it is the last level, or the
/// next level. All levels are in one function, so `return` and `break
/// 'run` cross them all.
macro_rules! nest {
    ($scenario:ident, $log:ident, { $($innermost:tt)* }, { $($body:tt)* },) => {{
        $($body)*
    }};
    ($scenario:ident, $log:ident, { $($innermost:tt)* }, { $($body:tt)* }, $depth:literal $($outer:literal)*) => {
        nest!($scenario, $log, { $($innermost)* }, {
            let level = &$scenario.levels[$depth];
            async_with!(
                _a = slot(level.plain.first(), &$log),
                _b = slot(level.plain.get(1), &$log),
                stack = AsyncExitStack::<TestError>::default() => {
                for spec in &level.stacked {
                    stack.enter(slot(Some(spec), &$log)).await?;
                }
                if $scenario.levels.len() == $depth + 1 {
                    $($innermost)*
                } else {
                    $($body)*
                }
            })
        }, $($outer)*)
    };
}

async fn interpret(scenario: &Scenario, log: &Log) -> Result<Ended, TestError> {
    #[allow(clippy::never_loop)] // `break 'run` from the innermost block, or at the end
    let ended = 'run: loop {
        nest!(
            scenario,
            log,
            {
                if let Some(spec) = &scenario.closure {
                    // A suppressed failure is `Ok(None)`: go on, as after
                    // a suppressing `async_with!`.
                    with(slot(Some(spec), log), async |(): &mut ()| {
                        log.push("block");
                        match scenario.block {
                            BlockEnd::Complete => {}
                            BlockEnd::Fail => Err(TestError("block".to_string()))?,
                            BlockEnd::ReturnErr => return Err(TestError("block".to_string())),
                            BlockEnd::Panic => panic!("block"),
                            BlockEnd::Hang => pending::<()>().await,
                            BlockEnd::Return | BlockEnd::Break | BlockEnd::TailErr => {
                                unreachable!("not generated with a closure")
                            }
                        }
                        Ok::<(), TestError>(())
                    })
                    .await?;
                } else {
                    log.push("block");
                    match scenario.block {
                        BlockEnd::Complete => {}
                        BlockEnd::Fail => Err(TestError("block".to_string()))?,
                        BlockEnd::ReturnErr => return Err(TestError("block".to_string())),
                        BlockEnd::Panic => panic!("block"),
                        BlockEnd::Return => return Ok(Ended::Returned),
                        BlockEnd::Break => break 'run Ended::Broke,
                        BlockEnd::Hang => pending::<()>().await,
                        BlockEnd::TailErr => unreachable!("run by `interpret_valued`"),
                    }
                }
            },
            { unreachable!("five levels at most") },
            4 3 2 1 0
        );
        break Ended::Completed;
    };
    Ok(ended)
}

/// The same nest with a `Result` value at every level: the innermost
/// block's value is `Err(..)` (rule 4), and each level evaluates to what the
/// level inside it evaluated to.
async fn interpret_valued(scenario: &Scenario, log: &Log) -> Result<Ended, TestError> {
    let value: Result<(), TestError> = nest!(
        scenario,
        log,
        {
            log.push("block");
            Err(TestError("block".to_string()))
        },
        { unreachable!("five levels at most") },
        4 3 2 1 0
    );
    value?;
    Ok(Ended::Completed)
}

/// Runs the scenario on a bare executor; a future that stops progressing
/// (every step yields at most once in a row) is dropped: cancelled.
fn run(scenario: &Scenario) -> (Vec<String>, Ended) {
    let log = Log::default();
    let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut future: Pin<Box<dyn Future<Output = Result<Ended, TestError>>>> =
            if scenario.block == BlockEnd::TailErr {
                Box::pin(interpret_valued(scenario, &log))
            } else {
                Box::pin(interpret(scenario, &log))
            };
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..10_000 {
            if let Poll::Ready(result) = future.as_mut().poll(&mut cx) {
                return match result {
                    Ok(ended) => ended,
                    Err(error) => Ended::Failed(error.0),
                };
            }
        }
        drop(future);
        Ended::Cancelled
    }));
    let ended = ended.unwrap_or_else(|payload| Ended::Panicked(common::panic_message(&*payload)));
    (log.events(), ended)
}

fn cases() -> u32 {
    std::env::var("MODEL_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2_000)
}

static RUN: AtomicUsize = AtomicUsize::new(0);

#[test]
fn the_macros_agree_with_the_model() {
    // The scenarios panic on purpose, thousands of times.
    std::panic::set_hook(Box::new(|_| {}));
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let result = proptest::test_runner::TestRunner::new(config).run(&scenario(), |scenario| {
        RUN.fetch_add(1, Ordering::Relaxed);
        let expected = model(&scenario);
        let actual = run(&scenario);
        prop_assert_eq!(&actual, &expected, "scenario: {:#?}", scenario);
        Ok(())
    });
    let _ = std::panic::take_hook();
    let mismatches = usize::from(result.is_err());
    println!(
        "model: {} scenarios, {mismatches} mismatches",
        RUN.load(Ordering::Relaxed)
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// A scenario written out by hand: the model and the real macros both give
/// the expected events and ending.
fn hand_checked(scenario: &Scenario, expected: &(Vec<String>, Ended)) {
    assert_eq!(&model(scenario), expected, "the model");
    assert_eq!(&run(scenario), expected, "the macros");
}

#[test]
fn the_model_matches_hand_checked_scenarios() {
    // The model itself, on cases worked out by hand from SPEC §2.
    let hand = |id, enter, exit| Spec {
        id,
        form: Form::Hand,
        enter,
        exit,
    };
    let scenario = Scenario {
        levels: vec![Level {
            plain: vec![hand(1, Step::Succeed, ExitStep::Propagate)],
            stacked: vec![hand(2, Step::Succeed, ExitStep::Suppress)],
        }],
        closure: None,
        block: BlockEnd::Fail,
    };
    let expected = (
        vec![
            "enter 1".to_string(),
            "enter 2".to_string(),
            "block".to_string(),
            "exit 2 saw failed(block)".to_string(),
            "exit 1 saw completed".to_string(),
        ],
        Ended::Completed,
    );
    hand_checked(&scenario, &expected);

    let scenario = Scenario {
        levels: vec![
            Level {
                plain: vec![hand(1, Step::Succeed, ExitStep::Fail)],
                stacked: vec![],
            },
            Level {
                plain: vec![hand(2, Step::Succeed, ExitStep::Propagate)],
                stacked: vec![hand(3, Step::Hang, ExitStep::Propagate)],
            },
        ],
        closure: None,
        block: BlockEnd::Complete,
    };
    let expected = (
        vec![
            "enter 1".to_string(),
            "enter 2".to_string(),
            "enter 3 hangs".to_string(),
            "cancel 2".to_string(),
            "cancel 1".to_string(),
        ],
        Ended::Cancelled,
    );
    hand_checked(&scenario, &expected);

    // The block's value is `Err`: the stack's entry suppresses it for the
    // entries after it (none), the stack's suppression is not honoured for
    // a `Result` block, so manager 1 sees the same failure, cannot suppress
    // it either, and the value leaves as the function's error.
    let scenario = Scenario {
        levels: vec![Level {
            plain: vec![hand(1, Step::Succeed, ExitStep::Suppress)],
            stacked: vec![hand(2, Step::Succeed, ExitStep::Suppress)],
        }],
        closure: None,
        block: BlockEnd::TailErr,
    };
    let expected = (
        vec![
            "enter 1".to_string(),
            "enter 2".to_string(),
            "block".to_string(),
            "exit 2 saw failed(block)".to_string(),
            "exit 1 saw failed(block)".to_string(),
        ],
        Ended::Failed("block".to_string()),
    );
    hand_checked(&scenario, &expected);

    // `return Err(..)` is a failure like `?`: exit suppresses it and the
    // function goes on.
    let scenario = Scenario {
        levels: vec![Level {
            plain: vec![hand(1, Step::Succeed, ExitStep::Suppress)],
            stacked: vec![],
        }],
        closure: None,
        block: BlockEnd::ReturnErr,
    };
    let expected = (
        vec![
            "enter 1".to_string(),
            "block".to_string(),
            "exit 1 saw failed(block)".to_string(),
        ],
        Ended::Completed,
    );
    hand_checked(&scenario, &expected);

    // `with()` innermost: its exit suppresses the block's failure, so the
    // outer manager sees a completed block; then a cancellation while the
    // closure runs cancels both.
    let scenario = Scenario {
        levels: vec![Level {
            plain: vec![hand(1, Step::Succeed, ExitStep::Propagate)],
            stacked: vec![],
        }],
        closure: Some(hand(2, Step::Succeed, ExitStep::Suppress)),
        block: BlockEnd::Fail,
    };
    let expected = (
        vec![
            "enter 1".to_string(),
            "enter 2".to_string(),
            "block".to_string(),
            "exit 2 saw failed(block)".to_string(),
            "exit 1 saw completed".to_string(),
        ],
        Ended::Completed,
    );
    hand_checked(&scenario, &expected);
    let scenario = Scenario {
        block: BlockEnd::Hang,
        ..scenario
    };
    let expected = (
        vec![
            "enter 1".to_string(),
            "enter 2".to_string(),
            "block".to_string(),
            "cancel 2".to_string(),
            "cancel 1".to_string(),
        ],
        Ended::Cancelled,
    );
    hand_checked(&scenario, &expected);
}
