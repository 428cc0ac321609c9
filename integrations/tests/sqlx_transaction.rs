//! `async_with::sqlx::transaction` on real SQLite files (bundled SQLite):
//! every way out of the block, each checked from a second connection that
//! is not part of the pool.

mod common;

use std::future::pending;
use std::time::Duration;

use async_with::async_with;
use async_with::sqlx::transaction;
use async_with::tokio::TempDir;
use common::{DEADLINE, after_cancellation, committed_items, insert, pool};
use sqlx::SqlitePool;

#[derive(Debug)]
enum AppError {
    Db(sqlx::Error),
    Invalid(&'static str),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Db(error)
    }
}

#[tokio::test]
async fn a_completed_block_commits() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlx") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let result: Result<(), AppError> = async {
            async_with!(tx = transaction(&pool) => {
                insert(tx, "kept").await.unwrap();
            });
            Ok(())
        }
        .await;
        assert!(result.is_ok());
        assert_eq!(committed_items(&path).await, ["kept"]);
        pool.close().await;
    });
    Ok(())
}

#[tokio::test]
async fn a_failing_question_mark_rolls_back_and_the_error_propagates() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlx") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let result: Result<(), AppError> = async {
            async_with!(tx = transaction(&pool) => {
                insert(tx, "undone").await.unwrap();
                Err(AppError::Invalid("rejected"))?;
            });
            Ok(())
        }
        .await;
        assert!(matches!(result, Err(AppError::Invalid("rejected"))));
        assert!(committed_items(&path).await.is_empty());
        pool.close().await;
    });
    Ok(())
}

/// One transaction that leaves its block the way `how` says
/// (docs/contract.md, "`return`, `?`, `break` and `continue`" and "The
/// block's value"): `return Err` and a block value `Err` are failures and
/// roll back; `return Ok` and a value `Ok` commit.
async fn leave(pool: &SqlitePool, how: &str) -> Result<u32, AppError> {
    async_with!(tx = transaction(pool) => {
        insert(tx, how).await?;
        if how == "return Err" {
            return Err(AppError::Invalid("returned"));
        }
        if how == "return Ok" {
            return Ok(1);
        }
        if how == "value Err" { Err(AppError::Invalid("value")) } else { Ok(2) }
    })
}

#[tokio::test]
async fn a_return_of_an_error_or_an_error_value_rolls_back_and_return_ok_commits()
-> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlx") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        assert!(matches!(leave(&pool, "return Err").await, Err(AppError::Invalid("returned"))));
        assert!(committed_items(&path).await.is_empty(), "return Err committed");
        assert!(matches!(leave(&pool, "value Err").await, Err(AppError::Invalid("value"))));
        assert!(committed_items(&path).await.is_empty(), "an Err value committed");
        assert!(matches!(leave(&pool, "return Ok").await, Ok(1)));
        assert!(matches!(leave(&pool, "value Ok").await, Ok(2)));
        assert_eq!(committed_items(&path).await, ["return Ok", "value Ok"]);
        pool.close().await;
    });
    Ok(())
}

#[tokio::test]
async fn a_panicking_block_rolls_back_and_the_panic_resumes() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlx") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let task_pool = pool.clone();
        let joined = tokio::spawn(async move {
            async_with!(tx = transaction(&task_pool) => {
                insert(tx, "undone").await.unwrap();
                panic!("midway");
            });
            Ok::<(), sqlx::Error>(())
        })
        .await;
        let payload = joined.unwrap_err().into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"midway"));
        assert!(committed_items(&path).await.is_empty());
        pool.close().await;
    });
    Ok(())
}

/// The commit itself fails (a deferred foreign key is checked at COMMIT):
/// the error is the function's, and nothing is left committed.
#[tokio::test]
async fn a_failing_commit_is_the_functions_error() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlx") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let result: Result<(), AppError> = async {
            async_with!(tx = transaction(&pool) => {
                sqlx::query("INSERT INTO items (name, parent) VALUES ('orphan', 42)")
                    .execute(&mut **tx)
                    .await?; // deferred: accepted here
            });
            Ok(())
        }
        .await;
        let Err(AppError::Db(error)) = result else {
            panic!("expected the commit's error, got {result:?}");
        };
        assert!(
            error.to_string().contains("FOREIGN KEY constraint failed"),
            "{error}"
        );
        assert!(committed_items(&path).await.is_empty());
        pool.close().await;
    });
    Ok(())
}

/// A `timeout` drops the future while the block holds the transaction: the
/// rollback spawned by the manager finishes within its deadline, so a
/// second connection can write (SQLite's write lock was released) and does
/// not see the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_block_is_rolled_back_within_the_deadline() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlx") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let manager = transaction(&pool).rollback_deadline(DEADLINE);
        let (inserted_tx, inserted_rx) = tokio::sync::oneshot::channel();
        let cancelled = tokio::time::timeout(Duration::from_millis(200), async {
            async_with!(tx = manager => {
                insert(tx, "cancelled").await.unwrap();
                inserted_tx.send(()).unwrap();
                pending::<()>().await;
            });
            Ok::<(), sqlx::Error>(())
        })
        .await;
        assert!(cancelled.is_err(), "the timeout fired");
        inserted_rx.await.expect("the block inserted before it was cancelled");

        assert_eq!(after_cancellation(&path).await, ["after"]);
        pool.close().await;
    });
    Ok(())
}

/// The manager owns a pool handle, so a block using it can run in a task
/// spawned on the multi-thread runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_block_runs_in_a_spawned_task() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlx") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let task_pool = pool.clone();
        tokio::spawn(async move {
            async_with!(tx = transaction(&task_pool) => {
                insert(tx, "spawned").await.unwrap();
            });
            Ok::<(), sqlx::Error>(())
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(committed_items(&path).await, ["spawned"]);
        pool.close().await;
    });
    Ok(())
}
