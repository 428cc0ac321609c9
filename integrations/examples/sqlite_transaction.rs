//! A real SQLite database (sqlx, bundled SQLite) and transfers between
//! accounts, each in a transaction managed by `async_with::sqlx`
//! (feature `sqlx`): it commits when the block completes and rolls back
//! when the block fails (`?`) or panics.
//!
//! Run with `cargo run -p async-with-integrations --example sqlite_transaction [DB_PATH]`:
//! the database is created at DB_PATH (which is kept), or by default in a
//! temporary directory removed at the end.

use std::path::Path;

use async_with::async_with;
use async_with::sqlx::transaction;
use async_with::tokio::TempDir;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

#[derive(Debug)]
enum TransferError {
    InsufficientFunds { account: String, short_by: i64 },
    Database(sqlx::Error),
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::InsufficientFunds { account, short_by } => {
                write!(f, "insufficient funds: {account} is short by {short_by}")
            }
            TransferError::Database(error) => write!(f, "database: {error}"),
        }
    }
}

impl std::error::Error for TransferError {}

impl From<sqlx::Error> for TransferError {
    fn from(error: sqlx::Error) -> Self {
        TransferError::Database(error)
    }
}

fn check_balance(account: &str, balance: i64) -> Result<(), TransferError> {
    if balance < 0 {
        return Err(TransferError::InsufficientFunds {
            account: account.to_string(),
            short_by: -balance,
        });
    }
    Ok(())
}

/// Moves `amount` from one account to another in one transaction. With
/// `crash`, panics between the debit and the credit.
async fn transfer(
    pool: &SqlitePool,
    from: &str,
    to: &str,
    amount: i64,
    crash: bool,
) -> Result<(), TransferError> {
    async_with!(tx = transaction(pool) => {
        let balance: i64 = sqlx::query_scalar(
            "UPDATE accounts SET balance = balance - ? WHERE name = ? RETURNING balance",
        )
        .bind(amount)
        .bind(from)
        .fetch_one(&mut **tx)
        .await?;
        check_balance(from, balance)?; // fails: rollback, then the error propagates
        if crash {
            panic!("crash between the debit and the credit");
        }
        sqlx::query("UPDATE accounts SET balance = balance + ? WHERE name = ?")
            .bind(amount)
            .bind(to)
            .execute(&mut **tx)
            .await?;
    });
    Ok(())
}

async fn balances(pool: &SqlitePool) -> Result<String, sqlx::Error> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, balance FROM accounts ORDER BY name")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .iter()
        .map(|(name, balance)| format!("{name}={balance}"))
        .collect::<Vec<_>>()
        .join(" "))
}

async fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await?;
    sqlx::query("CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO accounts VALUES ('alice', 100), ('bob', 50)")
        .execute(&pool)
        .await?;
    println!("before: {}", balances(&pool).await?);

    println!("transfer 30 alice -> bob");
    transfer(&pool, "alice", "bob", 30, false).await?;
    println!("  ok: {}", balances(&pool).await?);

    println!("transfer 500 alice -> bob");
    let error = transfer(&pool, "alice", "bob", 500, false)
        .await
        .unwrap_err();
    println!("  failed: {error}");
    println!("  unchanged: {}", balances(&pool).await?);

    println!("transfer 20 bob -> alice, crashing midway");
    let task_pool = pool.clone();
    let crashed =
        tokio::spawn(async move { transfer(&task_pool, "bob", "alice", 20, true).await }).await;
    let panic = crashed.unwrap_err().into_panic();
    println!("  panicked: {}", panic.downcast_ref::<&str>().unwrap());
    println!("  unchanged: {}", balances(&pool).await?);

    println!("after: {}", balances(&pool).await?);
    pool.close().await;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The crash is expected: keep its report off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    match std::env::args_os().nth(1) {
        Some(path) => run(Path::new(&path)).await,
        None => {
            async_with!(dir = TempDir::new("sqlite-transaction") => {
                println!("database in temporary directory {}", dir.display());
                run(&dir.join("bank.db")).await?;
            }); // the directory is removed on every way out
            Ok(())
        }
    }
}
