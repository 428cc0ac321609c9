//! A [sqlx](https://docs.rs/sqlx) transaction as a manager (feature `sqlx`).
//!
//! sqlx's own [`Transaction`] rolls back on `Drop` only by queueing the
//! `ROLLBACK` on its connection (it cannot await in `Drop`), so whether and
//! when it runs depends on the driver and on the connection being used
//! again (sqlx#2980). [`PoolTransaction`] makes the ending explicit and
//! awaited: `COMMIT` when the block completed, `ROLLBACK` when it failed
//! or panicked, and on cancellation a `ROLLBACK` awaited on the runtime by
//! the library's detached exit ([`spawn_exit`](crate::tokio::spawn_exit):
//! bounded, counted, reported if the runtime shuts down first). It is
//! never committed unless the block completed.

use std::time::Duration;

use sqlx::{Database, Pool, Transaction};

use core::future::Future;

use crate::tokio::{ExitOnCancel, exit_on_cancel};
use crate::{ExitAction, Outcome, SendContextManager};

/// Begins a transaction on a connection from `pool`; see [`PoolTransaction`].
///
/// Written here for any database (the examples of this module compile
/// without a driver); with one, it is `pool: &sqlx::SqlitePool` and
/// `sqlx::query(..).bind(..).execute(&mut **tx)`, as in the crate's
/// `sqlite_transaction` example.
///
/// ```no_run
/// use async_with::async_with;
/// use sqlx::{Database, Executor, Pool};
///
/// /// Runs every statement, or none of them.
/// async fn all_or_nothing<DB: Database>(pool: &Pool<DB>, statements: &[&str]) -> Result<(), sqlx::Error>
/// where
///     for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
/// {
///     async_with!(tx = async_with::sqlx::transaction(pool) => {
///         for statement in statements {
///             sqlx::raw_sql(statement).execute(&mut **tx).await?; // fails: ROLLBACK, then the error propagates
///         }
///     }); // completed: COMMIT (a failing COMMIT is this function's error)
///     Ok(())
/// }
/// ```
pub fn transaction<DB: Database>(pool: &Pool<DB>) -> PoolTransaction<DB> {
    PoolTransaction {
        shielded: exit_on_cancel(Begin { pool: pool.clone() })
            .deadline(PoolTransaction::<DB>::DEFAULT_ROLLBACK_DEADLINE),
    }
}

/// A transaction on a connection from a [`Pool`], on any sqlx database.
///
/// | the block | exit |
/// |---|---|
/// | completed (end, `return`, `break`) | `COMMIT`; a failed commit (a deferred constraint, a lost connection) is exit's error |
/// | failed (`?`) or panicked | `ROLLBACK` |
/// | cancelled (the future was dropped) | exit with `Outcome::Cancelled`, so `ROLLBACK`, awaited on the current tokio runtime by [`spawn_exit`](crate::tokio::spawn_exit), given [`rollback_deadline`](Self::rollback_deadline) (default 5 s); without a runtime, sqlx's own drop (a queued rollback), reported as abandoned |
///
/// The target is the [`Transaction`]: run queries on `&mut **tx`. The
/// manager owns a handle to the pool (a cheap clone), so the transaction is
/// `'static`, and the manager is a [`SendContextManager`]: usable in
/// spawned tasks, axum handlers and generic code.
///
/// ```no_run
/// use std::time::Duration;
/// use async_with::async_with;
/// use async_with::sqlx::transaction;
/// use sqlx::{Database, Executor, Pool};
///
/// async fn log<DB: Database>(pool: &Pool<DB>) -> Result<(), sqlx::Error>
/// where
///     for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
/// {
///     let manager = transaction(pool).rollback_deadline(Duration::from_secs(1));
///     async_with!(tx = manager => {
///         sqlx::raw_sql("INSERT INTO log VALUES ('entry')").execute(&mut **tx).await?;
///     });
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct PoolTransaction<DB: Database> {
    // The transaction opted in to the library's shielded steps: a `BEGIN`,
    // `COMMIT` or `ROLLBACK` under way when the block's future is dropped
    // finishes on the runtime (a `BEGIN` is then rolled back), and a
    // cancellation in the block rolls back there.
    shielded: ExitOnCancel<Begin<DB>>,
}

/// The transaction itself, without the shield.
#[derive(Debug)]
struct Begin<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> PoolTransaction<DB> {
    /// How long the rollback spawned after a cancellation may take, unless
    /// [`rollback_deadline`](Self::rollback_deadline) says otherwise.
    pub const DEFAULT_ROLLBACK_DEADLINE: Duration = Duration::from_secs(5);

    /// Sets how long what is left of the transaction after a cancellation
    /// (the rest of a `BEGIN`, `COMMIT` or `ROLLBACK` under way, then the
    /// rollback) may take; past it the step is dropped (and with it the
    /// connection's transaction, which sqlx then rolls back when it can).
    ///
    /// ```
    /// fn patient<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> async_with::sqlx::PoolTransaction<DB> {
    ///     async_with::sqlx::transaction(pool).rollback_deadline(std::time::Duration::from_secs(30))
    /// }
    /// ```
    pub fn rollback_deadline(self, deadline: Duration) -> Self {
        PoolTransaction {
            shielded: self.shielded.deadline(deadline),
        }
    }
}

impl<DB: Database> SendContextManager for PoolTransaction<DB> {
    type Target = Transaction<'static, DB>;
    type Error = sqlx::Error;

    fn enter(&mut self) -> impl Future<Output = Result<Self::Target, sqlx::Error>> + Send {
        self.shielded.enter()
    }

    fn exit(
        &mut self,
        tx: Self::Target,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<ExitAction, sqlx::Error>> + Send {
        self.shielded.exit(tx, outcome)
    }

    fn cancel(&mut self, tx: Self::Target) {
        // Never commit: the library's detached exit (counted, bounded,
        // reported if the runtime shuts down first) rolls back, since the
        // outcome is `Cancelled`. Without a runtime, sqlx's own Drop queues
        // the rollback on the connection.
        self.shielded.cancel(tx);
    }
}

impl<DB: Database> SendContextManager for Begin<DB> {
    type Target = Transaction<'static, DB>;
    type Error = sqlx::Error;

    async fn enter(&mut self) -> Result<Self::Target, sqlx::Error> {
        self.pool.begin().await
    }

    async fn exit(
        &mut self,
        tx: Self::Target,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, sqlx::Error> {
        if outcome.is_completed() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(ExitAction::Propagate)
    }
}
