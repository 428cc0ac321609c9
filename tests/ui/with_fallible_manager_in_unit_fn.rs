// The one `__private` path left in this snapshot is rustc's note "this
// error originates in the macro `$crate::__private::raise`": rustc names
// the `macro_rules!` macro by the path the expansion invoked it with. That
// path is the marker nested `async_with!` levels recognise by its last two
// segments (`macros/src/raise.rs`, `recognise`); `__private` is what keeps
// a user's own `raise!` from being taken for it, so it stays. The types
// and traits are named by their `async_with::expansion::` paths.
use async_with::{async_with, AsyncContextManager, ExitAction, Outcome};

struct Lock;

impl AsyncContextManager for Lock {
    type Target = u8;
    type Error = std::convert::Infallible;
    async fn enter(&mut self) -> Result<u8, Self::Error> {
        Ok(0)
    }
    async fn exit(&mut self, _: u8, _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        Ok(ExitAction::Propagate)
    }
}

struct Fallible;

impl AsyncContextManager for Fallible {
    type Target = ();
    type Error = std::io::Error;
    async fn enter(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        Ok(ExitAction::Propagate)
    }
}

async fn run() {
    async_with!(Fallible => {});
}

fn main() {
    futures_executor::block_on(run());
}
