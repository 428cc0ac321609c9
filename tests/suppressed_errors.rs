//! Both errors reach the caller (docs/contract.md, "When exit fails"): when
//! cleanup fails while an earlier failure is in flight, the error that goes
//! on keeps the earlier one (JavaScript's `SuppressedError`, Python's
//! `__context__`), in every form: several managers in one `async_with!`,
//! nested `async_with!`, generators, `with()` and every exit stack entry
//! kind. The cases are tc39/test262's explicit-resource-management ones and
//! CPython's contextlib ones, ported.

use async_with::{
    AsyncExitStack, BoxError, ExitAction, KeepSuppressed, Outcome, SendContextManager,
    SuppressedError, async_context, async_with, with,
};

/// A resource whose disposal fails with `name` (or succeeds: `None`).
struct Disposal(Option<&'static str>);

impl SendContextManager for Disposal {
    type Target = ();
    type Error = BoxError;

    async fn enter(&mut self) -> Result<(), BoxError> {
        Ok(())
    }

    async fn exit(&mut self, (): (), _: Outcome<'_>) -> Result<ExitAction, BoxError> {
        match self.0 {
            Some(name) => Err(name.into()),
            None => Ok(ExitAction::Propagate),
        }
    }
}

fn fails(name: &'static str) -> Disposal {
    Disposal(Some(name))
}

/// The generator form of the same resource.
#[async_context]
async fn disposal(name: Option<&'static str>) -> Result<(), BoxError> {
    let ((), _exit) = yield_!(());
    match name {
        Some(name) => Err(name.into()),
        None => Ok(()),
    }
}

/// The chain as `error (after: suppressed)`, nested, read through the
/// public fields.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    match error.downcast_ref::<SuppressedError>() {
        Some(both) => format!("{} <- {}", chain(&*both.error), chain(&*both.suppressed)),
        None => error.to_string(),
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

// test262: "disposal errors are aggregated in reverse order of
// registration": `using a, b` where both disposals throw gives
// `SuppressedError { error: a's, suppressed: b's }`.
#[test]
fn two_managers_whose_disposals_both_fail() {
    let several: Result<(), BoxError> = block_on(async {
        async_with!(_a = fails("first"), _b = fails("second") => {});
        Ok(())
    });
    let nested: Result<(), BoxError> = block_on(async {
        async_with!(_a = fails("first") => {
            async_with!(_b = fails("second") => {});
        });
        Ok(())
    });
    let generators: Result<(), BoxError> = block_on(async {
        async_with!(_a = disposal(Some("first")), _b = disposal(Some("second")) => {});
        Ok(())
    });
    for (form, result) in [
        ("several", several),
        ("nested", nested),
        ("generators", generators),
    ] {
        let error = result.unwrap_err();
        assert_eq!(chain(&*error), "first <- second", "{form}");
        let both = error.downcast_ref::<SuppressedError>().unwrap();
        let order: Vec<String> = both.errors().map(|e| e.to_string()).collect();
        assert_eq!(
            order,
            ["second", "first"],
            "{form}: in the order they happened"
        );
    }
}

// test262: "a body error and a failing disposal": `SuppressedError {
// error: disposal's, suppressed: body's }`.
#[test]
fn a_block_error_then_a_failing_disposal() {
    let macro_form: Result<(), BoxError> = block_on(async {
        async_with!(_a = fails("disposal") => {
            Err::<(), _>("body")?;
        });
        Ok(())
    });
    let generator_form: Result<(), BoxError> = block_on(async {
        async_with!(_a = disposal(Some("disposal")) => {
            Err::<(), _>("body")?;
        });
        Ok(())
    });
    let with_form: Result<Option<()>, BoxError> =
        block_on(with(fails("disposal"), async |_: &mut ()| {
            Err("body".into())
        }));
    for (form, error) in [
        ("async_with!", macro_form.unwrap_err()),
        ("generator", generator_form.unwrap_err()),
        ("with()", with_form.unwrap_err()),
    ] {
        assert_eq!(chain(&*error), "disposal <- body", "{form}");
        // Display shows both, `source()` reaches the earlier one.
        assert_eq!(error.to_string(), "disposal (after: body)", "{form}");
        assert_eq!(error.source().unwrap().to_string(), "body", "{form}");
    }
}

// test262: three failures nest two levels deep.
#[test]
fn three_failures_nest_two_levels_deep() {
    let result: Result<(), BoxError> = block_on(async {
        async_with!(_a = fails("outer"), _b = fails("inner") => {
            Err::<(), _>("body")?;
        });
        Ok(())
    });
    let error = result.unwrap_err();
    assert_eq!(chain(&*error), "outer <- inner <- body");
    let both = error.downcast_ref::<SuppressedError>().unwrap();
    let order: Vec<String> = both.errors().map(|e| e.to_string()).collect();
    assert_eq!(order, ["body", "inner", "outer"]);
}

// A block's `Err` value is a failure too: kept the same way.
#[test]
fn a_block_error_value_then_a_failing_disposal() {
    let result: Result<Result<(), BoxError>, BoxError> = block_on(async {
        Ok(async_with!(_a = fails("disposal") => {
            Err::<(), BoxError>("value".into())
        }))
    });
    assert_eq!(chain(&*result.unwrap_err()), "disposal <- value");
}

// CPython's contextlib test 34 (`test_exit_exception_chaining` with
// callbacks): callbacks raising while the block's error is in flight keep
// it as the context of the first cleanup error. Each exit stack entry kind.
#[test]
fn stack_entries_failing_while_the_blocks_error_is_in_flight() {
    let deferred: Result<(), BoxError> = block_on(async {
        async_with!(stack = AsyncExitStack::new() => {
            stack.defer(async || Err("first callback".into()));
            stack.defer(async || Err("second callback".into()));
            Err::<(), _>("body")?;
        });
        Ok(())
    });
    let pushed: Result<(), BoxError> = block_on(async {
        async_with!(stack = AsyncExitStack::new() => {
            stack.push_exit(|_: Outcome<'_>| async { Err("first callback".into()) });
            stack.push_exit(|_: Outcome<'_>| async { Err("second callback".into()) });
            Err::<(), _>("body")?;
        });
        Ok(())
    });
    let entered: Result<(), BoxError> = block_on(async {
        async_with!(stack = AsyncExitStack::new() => {
            stack.enter(fails("first callback")).await?;
            stack.enter(fails("second callback")).await?;
            Err::<(), _>("body")?;
        });
        Ok(())
    });
    for (kind, result) in [
        ("defer", deferred),
        ("push_exit", pushed),
        ("enter", entered),
    ] {
        let error = result.unwrap_err();
        assert_eq!(
            chain(&*error),
            "first callback <- second callback <- body",
            "{kind}"
        );
        // One line, in the order the failures happened.
        let both = error.downcast_ref::<SuppressedError>().unwrap();
        let order: Vec<String> = both.errors().map(|e| e.to_string()).collect();
        assert_eq!(
            order,
            ["body", "second callback", "first callback"],
            "{kind}"
        );
    }
}

// CPython's reference chaining: an entry that suppressed the block's
// error takes it out of the chain; the errors after it do not keep it.
#[test]
fn a_suppressed_block_error_is_not_kept() {
    let result: Result<(), BoxError> = block_on(async {
        async_with!(stack = AsyncExitStack::new() => {
            stack.defer(async || Err("after".into()));
            stack.push_exit(|_: Outcome<'_>| async { Ok(ExitAction::Suppress) });
            Err::<(), _>("body")?;
        });
        Ok(())
    });
    assert_eq!(chain(&*result.unwrap_err()), "after");
}

// anyhow and eyre hold any error: they get the chain without help.
#[test]
fn anyhow_and_eyre_keep_both() {
    struct Fails;
    impl SendContextManager for Fails {
        type Target = ();
        type Error = anyhow::Error;
        async fn enter(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
        async fn exit(&mut self, (): (), _: Outcome<'_>) -> anyhow::Result<ExitAction> {
            anyhow::bail!("rollback failed")
        }
    }
    let result: anyhow::Result<()> = block_on(async {
        async_with!(_tx = Fails => {
            anyhow::bail!("debit failed");
        });
        Ok(())
    });
    let error = result.unwrap_err();
    let both = error
        .downcast_ref::<SuppressedError>()
        .expect("a SuppressedError");
    assert_eq!(both.error.to_string(), "rollback failed");
    assert_eq!(both.suppressed.to_string(), "debit failed");
    assert_eq!(format!("{error}"), "rollback failed (after: debit failed)");

    #[async_context]
    async fn eyre_tx() -> eyre::Result<()> {
        let ((), _exit) = yield_!(());
        eyre::bail!("rollback failed")
    }
    let result: eyre::Result<()> = block_on(async {
        async_with!(_tx = eyre_tx() => {
            eyre::bail!("debit failed");
        });
        Ok(())
    });
    let error = result.unwrap_err();
    let both = error
        .downcast_ref::<SuppressedError>()
        .expect("a SuppressedError");
    assert_eq!(chain(both), "rollback failed <- debit failed");
}

/// A typed error holding what it came after, by its own hook.
#[derive(Debug)]
struct DbError {
    message: &'static str,
    during: Option<BoxError>,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for DbError {}

impl KeepSuppressed for DbError {
    fn keep_suppressed(mut self, earlier: BoxError) -> Self {
        self.during = Some(earlier);
        self
    }
}

/// A typed error with no hook.
#[derive(Debug, PartialEq)]
struct Plain(&'static str);

impl std::fmt::Display for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Plain {}

#[test]
fn a_typed_error_keeps_by_its_hook_and_one_without_goes_on_alone() {
    struct Typed;
    impl SendContextManager for Typed {
        type Target = ();
        type Error = DbError;
        async fn enter(&mut self) -> Result<(), DbError> {
            Ok(())
        }
        async fn exit(&mut self, (): (), _: Outcome<'_>) -> Result<ExitAction, DbError> {
            Err(DbError {
                message: "rollback failed",
                during: None,
            })
        }
    }
    let result: Result<(), DbError> = block_on(async {
        async_with!(_tx = Typed => {
            Err(DbError { message: "debit failed", during: None })?;
        });
        Ok(())
    });
    let error = result.unwrap_err();
    assert_eq!(error.message, "rollback failed");
    assert_eq!(error.during.unwrap().to_string(), "debit failed");

    struct Untyped;
    impl SendContextManager for Untyped {
        type Target = ();
        type Error = Plain;
        async fn enter(&mut self) -> Result<(), Plain> {
            Ok(())
        }
        async fn exit(&mut self, (): (), outcome: Outcome<'_>) -> Result<ExitAction, Plain> {
            // What it keeps is its own business: it saw the block's error.
            assert_eq!(outcome.to_string(), "failed(debit failed)");
            Err(Plain("rollback failed"))
        }
    }
    let result: Result<(), Plain> = block_on(async {
        async_with!(_tx = Untyped => {
            Err(Plain("debit failed"))?;
        });
        Ok(())
    });
    assert_eq!(result, Err(Plain("rollback failed")));
}

/// A second manager failing to enter is a failure the first's exit sees,
/// and keeps if it fails too ("Several managers and nesting" with "When
/// exit fails" in docs/contract.md).
#[test]
fn a_failed_enter_then_a_failing_exit() {
    struct RefusesEntry;
    impl SendContextManager for RefusesEntry {
        type Target = ();
        type Error = BoxError;
        async fn enter(&mut self) -> Result<(), BoxError> {
            Err("enter refused".into())
        }
        async fn exit(&mut self, (): (), _: Outcome<'_>) -> Result<ExitAction, BoxError> {
            unreachable!("never entered")
        }
    }
    let result: Result<(), BoxError> = block_on(async {
        async_with!(_a = fails("disposal"), _b = RefusesEntry => {});
        Ok(())
    });
    assert_eq!(chain(&*result.unwrap_err()), "disposal <- enter refused");
}
