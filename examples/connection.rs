//! The seed tutorial's Example 1: a hand-written async context manager.
//! Run with `cargo run --example connection`.

use std::convert::Infallible;
use std::time::Duration;

use async_with::{AsyncContextManager, ExitAction, Outcome, async_with};

/// Python's `AsyncConnection` class with `__aenter__` and `__aexit__`.
struct AsyncConnection {
    connection: Option<String>,
}

impl AsyncConnection {
    fn new() -> Self {
        AsyncConnection { connection: None }
    }
}

impl AsyncContextManager for AsyncConnection {
    type Target = String;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<String, Infallible> {
        println!("🔗 Opening connection...");
        tokio::time::sleep(Duration::from_secs(1)).await; // Simulate asynchronous setup
        self.connection = Some("Connected".to_string());
        println!("🔗 Connection opened.");
        Ok(self.connection.clone().unwrap_or_default()) // Resource to be used within the block
    }

    async fn exit(
        &mut self,
        _conn: String,
        _outcome: Outcome<'_>,
    ) -> Result<ExitAction, Infallible> {
        println!("🔗 Closing connection...");
        tokio::time::sleep(Duration::from_secs(1)).await; // Simulate asynchronous teardown
        self.connection = None;
        println!("🔗 Connection closed.");
        Ok(ExitAction::Propagate)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    async_with!(conn = AsyncConnection::new() => {
        println!("💬 Using connection: {conn}");
        tokio::time::sleep(Duration::from_secs(2)).await; // Simulate using the connection
    });
}
