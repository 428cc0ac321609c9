//! The sqlx integration against real SQLite files (bundled SQLite), each
//! checked from a second connection.

#[path = "../../tests/common/examples.rs"]
mod examples;

use examples::run_example;
use std::path::Path;

use async_with::async_with;
use async_with::tokio::TempDir;

const SQLITE_TRANSCRIPT: [&str; 10] = [
    "before: alice=100 bob=50",
    "transfer 30 alice -> bob",
    "  ok: alice=70 bob=80",
    "transfer 500 alice -> bob",
    "  failed: insufficient funds: alice is short by 430",
    "  unchanged: alice=70 bob=80",
    "transfer 20 bob -> alice, crashing midway",
    "  panicked: crash between the debit and the credit",
    "  unchanged: alice=70 bob=80",
    "after: alice=70 bob=80",
];

/// Runs the example on a database file of our own, then reads that file
/// with a fresh connection: the committed transfer is there, the failed and
/// the panicked ones left nothing.
#[tokio::test]
async fn sqlite_transaction_commits_and_rolls_back_in_the_database_file() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-sqlite-test") => {
        let db = dir.join("bank.db");
        let lines = run_example("sqlite_transaction", &[&db]);
        assert_eq!(lines, SQLITE_TRANSCRIPT);

        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, balance FROM accounts ORDER BY name")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(rows, [("alice".to_string(), 70), ("bob".to_string(), 80)]);
        // Money is conserved: no half-done transfer was committed.
        let total: i64 = sqlx::query_scalar("SELECT SUM(balance) FROM accounts")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(total, 150);
        pool.close().await;
    });
    Ok(())
}

/// Without a path, the example keeps its database in a `TempDir`, which is
/// gone after the run.
#[test]
fn sqlite_transaction_removes_its_temporary_directory() {
    let lines = run_example("sqlite_transaction", &[]);
    let dir = lines[0]
        .strip_prefix("database in temporary directory ")
        .expect("the example names its directory first");
    assert!(
        dir.starts_with(std::env::temp_dir().to_str().unwrap()),
        "{dir}"
    );
    assert!(!Path::new(dir).exists(), "{dir} was left behind");
    assert_eq!(lines[1..], SQLITE_TRANSCRIPT);
}
