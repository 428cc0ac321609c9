//! The cancellation-safe enter on a real SQLite transaction, in a file of
//! its own so that the process-wide counts of detached exits are this
//! test's alone.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_with::async_with;
use async_with::sqlx::transaction;
use async_with::tokio::TempDir;
use common::{DEADLINE, insert, pool};
use tokio::sync::Notify;

/// The cancellation-safe enter on a real transaction: a `begin()` still
/// waiting (for the pool's only connection, held elsewhere) when its task
/// is aborted goes on on the runtime; once it has the connection and has
/// begun, the transaction is rolled back, so the next user of that pooled
/// connection is not inside a transaction (sqlx#4385's failure) and sees
/// nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_begin_cancelled_while_waiting_leaves_the_pooled_connection_clean() -> std::io::Result<()>
{
    async_with!(dir = TempDir::new("async-with-cancel-begin") => {
        let path = dir.join("db.sqlite");
        let setup = pool(&path).await;
        setup.close().await;
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(common::options(&path))
            .await
            .unwrap();
        let before = async_with::tokio::cancelled_exits();
        let held = pool.acquire().await.unwrap();
        let started = Arc::new(Notify::new());
        let task = tokio::spawn({
            let (pool, started) = (pool.clone(), started.clone());
            async move {
                started.notify_one();
                async_with!(tx = transaction(&pool).rollback_deadline(DEADLINE) => {
                    insert(tx, "never").await?;
                });
                Ok::<(), sqlx::Error>(())
            }
        });
        started.notified().await;
        // Long enough for the task to be waiting in `begin()` on any load;
        // the counts below fail if it was not.
        tokio::time::sleep(Duration::from_millis(100)).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        drop(held); // the detached `begin()` gets the connection, then rolls back
        assert_eq!(async_with::tokio::wait_for_cancelled_exits(DEADLINE).await, 0);
        let after = async_with::tokio::cancelled_exits();
        // This file's only test: the counts are this transaction's.
        assert_eq!(after.spawned, before.spawned + 1, "{before:?} -> {after:?}");
        assert_eq!(after.completed, before.completed + 1, "{before:?} -> {after:?}");
        // The same (only) pooled connection: `BEGIN` fails inside a
        // transaction, so it succeeding proves none is open.
        let mut next = pool.acquire().await.unwrap();
        sqlx::query("BEGIN").execute(&mut *next).await.expect("not inside a transaction");
        sqlx::query("ROLLBACK").execute(&mut *next).await.unwrap();
        drop(next);
        assert!(common::committed_items(&path).await.is_empty());
        pool.close().await;
    });
    Ok(())
}
