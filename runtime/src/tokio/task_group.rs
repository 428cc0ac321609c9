//! A task group: tasks spawned during the block are awaited at exit.

use core::any::Any;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;

use ::tokio::task::{AbortHandle, JoinSet};
use sync_wrapper::SyncWrapper;

use crate::{ExitAction, Outcome, SendContextManager};

/// A task group, like Python's `asyncio.TaskGroup` or a trio nursery: tasks
/// spawned through the target ([`Tasks`]) during the block are all awaited
/// at exit, so none outlives the block.
///
/// Each task returns `Result<T, E>`. At exit:
///
/// - after a **completed** block, every task is awaited; the values of the
///   tasks that succeed are kept in [`outputs`](TaskGroup::outputs), in
///   the order they finished. As soon as one task fails (returns `Err` or
///   panics), the others are aborted, and still awaited;
/// - after a **failed or panicked** block, every task is aborted at once,
///   then awaited.
///
/// If any task failed, exit fails with a [`TaskGroupError`] holding every
/// failure (a task that had already failed before being aborted counts);
/// it replaces a failure of the block, whose description it keeps
/// ([`TaskGroupError::block_failure`]). If no task failed, the block's own
/// failure propagates. After a panicking block the panic resumes, and task
/// failures are dropped.
///
/// A manager cannot interrupt the block it wraps: a task failing while the
/// block still runs is noticed at exit, not before (unlike `asyncio`, where
/// the block is cancelled). Tasks need a tokio runtime
/// ([`JoinSet::spawn`]). If the future running the block is dropped, the
/// [`JoinSet`] is dropped: every task is aborted, none awaited.
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::TaskGroup;
///
/// async fn run() -> Result<Vec<u32>, Box<dyn std::error::Error>> {
///     let mut group = TaskGroup::<u32, std::num::ParseIntError>::new();
///     async_with!(tasks = &mut group => {
///         for text in ["1", "2", "3"] {
///             tasks.spawn(async move { text.parse::<u32>() });
///         }
///     });
///     let mut outputs = group.into_outputs();
///     outputs.sort();
///     Ok(outputs)
/// }
///
/// async fn failing() -> Result<(), Box<dyn std::error::Error>> {
///     async_with!(tasks = TaskGroup::new() => {
///         tasks.spawn(async { "x".parse::<u32>().map(drop) });
///         tasks.spawn(async { std::future::pending::<Result<(), _>>().await }); // aborted
///     });
///     Ok(())
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// assert_eq!(runtime.block_on(run()).unwrap(), [1, 2, 3]);
/// let error = runtime.block_on(failing()).unwrap_err();
/// assert_eq!(error.to_string(), "1 task failed (1 cancelled): invalid digit found in string");
/// ```
pub struct TaskGroup<T, E> {
    outputs: Vec<T>,
    _error: PhantomData<fn() -> E>,
}

/// The target of a [`TaskGroup`]: spawns the group's tasks.
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::{TaskGroup, Tasks};
///
/// fn spawn_two(tasks: &mut Tasks<u8, std::io::Error>) {
///     tasks.spawn(async { Ok(1) });
///     tasks.spawn(async { Ok(2) });
/// }
/// # let _ = spawn_two;
/// ```
pub struct Tasks<T, E> {
    set: JoinSet<Result<T, E>>,
}

impl<T, E> TaskGroup<T, E> {
    /// An empty group.
    ///
    /// ```
    /// let group = async_with::tokio::TaskGroup::<(), std::io::Error>::new();
    /// assert!(group.outputs().is_empty());
    /// ```
    pub fn new() -> Self {
        TaskGroup {
            outputs: Vec::new(),
            _error: PhantomData,
        }
    }

    /// The values of the tasks that succeeded, in the order they finished
    /// (use the group as `&mut group` to read them after the block).
    ///
    /// ```
    /// let group = async_with::tokio::TaskGroup::<u8, std::io::Error>::new();
    /// assert_eq!(group.outputs(), &[] as &[u8]);
    /// ```
    pub fn outputs(&self) -> &[T] {
        &self.outputs
    }

    /// The values of the tasks that succeeded, taken.
    ///
    /// ```
    /// let group = async_with::tokio::TaskGroup::<u8, std::io::Error>::new();
    /// assert!(group.into_outputs().is_empty());
    /// ```
    pub fn into_outputs(self) -> Vec<T> {
        self.outputs
    }
}

impl<T, E> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("outputs", &self.outputs)
            .finish()
    }
}

impl<T: 'static, E: 'static> Tasks<T, E> {
    /// Spawns a task of the group on the current tokio runtime. The handle
    /// can abort it (an aborted task is not a failure).
    ///
    /// ```
    /// use async_with::async_with;
    /// use async_with::tokio::{TaskGroup, TaskGroupError};
    ///
    /// async fn run() -> Result<(), TaskGroupError<std::io::Error>> {
    ///     async_with!(tasks = TaskGroup::<(), _>::new() => {
    ///         let handle = tasks.spawn(std::future::pending());
    ///         handle.abort(); // the group does not wait for it
    ///     });
    ///     Ok(())
    /// }
    ///
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// runtime.block_on(run()).unwrap();
    /// ```
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send,
        E: Send,
    {
        self.set.spawn(task)
    }

    /// How many tasks have not been awaited yet.
    ///
    /// ```
    /// # use async_with::async_with;
    /// # async fn run() -> Result<(), async_with::tokio::TaskGroupError<std::io::Error>> {
    /// async_with!(tasks = async_with::tokio::TaskGroup::new() => {
    ///     tasks.spawn(async { Ok(()) });
    ///     assert_eq!(tasks.len(), 1);
    /// });
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
    /// ```
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// `true` when no task is left to await.
    ///
    /// ```
    /// # use async_with::async_with;
    /// # async fn run() -> Result<(), async_with::tokio::TaskGroupError<std::io::Error>> {
    /// async_with!(tasks = async_with::tokio::TaskGroup::<(), _>::new() => {
    ///     assert!(tasks.is_empty());
    /// });
    /// # Ok(())
    /// # }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
    /// ```
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

impl<T, E> fmt::Debug for Tasks<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tasks")
            .field("len", &self.set.len())
            .finish()
    }
}

impl<T: Send + 'static, E: Send + 'static> SendContextManager for TaskGroup<T, E> {
    type Target = Tasks<T, E>;
    type Error = TaskGroupError<E>;

    async fn enter(&mut self) -> Result<Tasks<T, E>, TaskGroupError<E>> {
        Ok(Tasks {
            set: JoinSet::new(),
        })
    }

    async fn exit(
        &mut self,
        mut tasks: Tasks<T, E>,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, TaskGroupError<E>> {
        if !outcome.is_completed() {
            tasks.set.abort_all();
        }
        let mut failures = Vec::new();
        let mut cancelled = 0;
        while let Some(joined) = tasks.set.join_next().await {
            let failure = match joined {
                Ok(Ok(output)) => {
                    self.outputs.push(output);
                    continue;
                }
                Ok(Err(error)) => TaskFailure::Failed(error),
                Err(error) if error.is_cancelled() => {
                    cancelled += 1;
                    continue;
                }
                Err(error) => TaskFailure::Panicked(TaskPanic::new(error.into_panic())),
            };
            if failures.is_empty() {
                tasks.set.abort_all();
            }
            failures.push(failure);
        }
        if failures.is_empty() {
            return Ok(ExitAction::Propagate);
        }
        Err(TaskGroupError {
            failures,
            cancelled,
            block: match outcome {
                Outcome::Completed => None,
                other => Some(other.to_string()),
            },
        })
    }
}

/// Every failure of a [`TaskGroup`]'s tasks (Python's `ExceptionGroup`).
///
/// `Display` shows how many failed and the first failure; `source` is the
/// first failed task's error.
///
/// ```
/// use async_with::tokio::{TaskFailure, TaskGroupError};
///
/// fn report(error: &TaskGroupError<std::io::Error>) -> Vec<String> {
///     error.failures().iter().map(|failure| match failure {
///         TaskFailure::Failed(error) => format!("error: {error}"),
///         TaskFailure::Panicked(panic) => format!("panic: {:?}", panic.message()),
///         _ => "?".to_string(),
///     }).collect()
/// }
/// # let _ = report;
/// ```
#[derive(Debug)]
pub struct TaskGroupError<E> {
    failures: Vec<TaskFailure<E>>,
    cancelled: usize,
    block: Option<String>,
}

impl<E> TaskGroupError<E> {
    /// The failures, in the order the tasks finished (never empty).
    ///
    /// See [`TaskGroupError`] for an example.
    pub fn failures(&self) -> &[TaskFailure<E>] {
        &self.failures
    }

    /// The failures, taken.
    ///
    /// ```
    /// fn errors(error: async_with::tokio::TaskGroupError<String>) -> usize {
    ///     error.into_failures().len()
    /// }
    /// # let _ = errors;
    /// ```
    pub fn into_failures(self) -> Vec<TaskFailure<E>> {
        self.failures
    }

    /// How many tasks were aborted before they finished.
    ///
    /// ```
    /// fn aborted(error: &async_with::tokio::TaskGroupError<String>) -> usize {
    ///     error.cancelled()
    /// }
    /// # let _ = aborted;
    /// ```
    pub fn cancelled(&self) -> usize {
        self.cancelled
    }

    /// How the block itself ended, when it failed too (formatted like
    /// [`Outcome`]'s `Display`: `failed(..)`); `None` when it completed.
    ///
    /// ```
    /// fn block(error: &async_with::tokio::TaskGroupError<String>) -> Option<&str> {
    ///     error.block_failure()
    /// }
    /// # let _ = block;
    /// ```
    pub fn block_failure(&self) -> Option<&str> {
        self.block.as_deref()
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        write!(f, "{n} task{} failed", if n == 1 { "" } else { "s" })?;
        if self.cancelled > 0 {
            write!(f, " ({} cancelled)", self.cancelled)?;
        }
        if let Some(block) = &self.block {
            write!(f, " after the block {block}")?;
        }
        match self.failures.first() {
            Some(first) => write!(f, ": {first}"),
            None => Ok(()),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for TaskGroupError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.failures.iter().find_map(|failure| match failure {
            TaskFailure::Failed(error) => Some(error as &(dyn std::error::Error + 'static)),
            TaskFailure::Panicked(_) => None,
        })
    }
}

/// How one task of a [`TaskGroup`] failed.
///
/// ```
/// use async_with::tokio::TaskFailure;
///
/// fn error(failure: &TaskFailure<std::io::Error>) -> Option<&std::io::Error> {
///     match failure {
///         TaskFailure::Failed(error) => Some(error),
///         _ => None,
///     }
/// }
/// # let _ = error;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TaskFailure<E> {
    /// It returned `Err`.
    Failed(E),
    /// It panicked.
    Panicked(TaskPanic),
}

impl<E: fmt::Display> fmt::Display for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Failed(error) => error.fmt(f),
            TaskFailure::Panicked(panic) => match panic.message() {
                Some(message) => write!(f, "task panicked: {message}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

/// The panic of a task of a [`TaskGroup`], with its original payload.
///
/// ```
/// fn message(panic: &async_with::tokio::TaskPanic) -> &str {
///     panic.message().unwrap_or("<non-string payload>")
/// }
/// # let _ = message;
/// ```
pub struct TaskPanic {
    message: Option<String>,
    payload: SyncWrapper<Box<dyn Any + Send>>,
}

impl TaskPanic {
    fn new(payload: Box<dyn Any + Send>) -> Self {
        let message = match payload.downcast_ref::<&'static str>() {
            Some(message) => Some((*message).to_string()),
            None => payload.downcast_ref::<String>().cloned(),
        };
        TaskPanic {
            message,
            payload: SyncWrapper::new(payload),
        }
    }

    /// The panic message, when the payload is a `&str` or a `String`.
    ///
    /// See [`TaskPanic`] for an example.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The original payload, for `std::panic::resume_unwind`.
    ///
    /// ```
    /// fn rethrow(panic: async_with::tokio::TaskPanic) -> ! {
    ///     std::panic::resume_unwind(panic.into_payload())
    /// }
    /// # let _ = rethrow;
    /// ```
    pub fn into_payload(self) -> Box<dyn Any + Send> {
        self.payload.into_inner()
    }
}

impl fmt::Debug for TaskPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TaskPanic").field(&self.message).finish()
    }
}
