//! The seed tutorial's Example 2: an `@asynccontextmanager` generator,
//! written with `#[async_context]`. Run with
//! `cargo run --example connection_generator`.

use std::time::Duration;

use async_with::{async_context, async_with};

#[async_context]
async fn async_connection() -> String {
    println!("🔗 Opening connection...");
    tokio::time::sleep(Duration::from_secs(1)).await; // Simulate asynchronous setup
    let connection = "Connected".to_string();
    println!("🔗 Connection opened.");
    // Python's `try: yield connection ... finally:` — the teardown below runs
    // on every way out of the block; `yield_!` gives the connection back.
    let (connection, _exit) = yield_!(connection); // Provide the connection to the block
    tokio::time::sleep(Duration::from_secs(2)).await; // Simulate using the connection
    println!("🔗 Closing connection...");
    tokio::time::sleep(Duration::from_secs(1)).await; // Simulate asynchronous teardown
    drop(connection);
    println!("🔗 Connection closed.");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    async_with!(conn = async_connection() => {
        println!("💬 Using connection: {conn}");
    });
}
