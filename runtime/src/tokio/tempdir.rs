//! A temporary directory removed on exit.

use std::ffi::OsStr;
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{AsyncContextManager, ExitAction, Outcome};

/// A temporary directory, created on enter (under
/// [`std::env::temp_dir`] unless [`in_dir`](TempDir::in_dir) says otherwise)
/// and removed with everything in it on exit, on every way out of the
/// block. The target is its [`TempPath`].
///
/// The name is `PREFIX-PID-N-NANOS`, unique within the process and across
/// processes; creation fails rather than reuse an existing directory.
/// Removal uses [`tokio::fs::remove_dir_all`](::tokio::fs::remove_dir_all);
/// a directory the block already removed is fine, any other removal error
/// is exit's error.
///
/// If the future running the block is dropped (cancelled), exit cannot
/// run; the [`cancel`](AsyncContextManager::cancel) hook removes the
/// directory synchronously with `std::fs::remove_dir_all` instead, so it is
/// not left behind on that path either.
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::TempDir;
///
/// async fn run() -> std::io::Result<std::path::PathBuf> {
///     let path = async_with!(dir = TempDir::new("my-test") => {
///         tokio::fs::write(dir.join("data.txt"), "hello").await?;
///         assert_eq!(tokio::fs::read_to_string(dir.join("data.txt")).await?, "hello");
///         dir.to_path_buf()
///     });
///     Ok(path)
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let path = runtime.block_on(run()).unwrap();
/// assert!(!path.exists()); // removed on exit
/// ```
#[derive(Debug, Clone)]
pub struct TempDir {
    parent: Option<PathBuf>,
    prefix: String,
}

/// The path of a [`TempDir`]'s directory, lent to the block.
///
/// It dereferences to [`Path`] (`dir.join("file")`) but cannot be changed:
/// exit removes the directory it names.
///
/// ```
/// fn file_in(dir: &async_with::tokio::TempPath) -> std::path::PathBuf {
///     dir.join("file.txt")
/// }
/// # let _ = file_in;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TempPath(PathBuf);

impl Deref for TempPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<OsStr> for TempPath {
    fn as_ref(&self) -> &OsStr {
        self.0.as_os_str()
    }
}

impl TempDir {
    /// A directory named after `prefix`, under [`std::env::temp_dir`].
    ///
    /// ```
    /// let manager = async_with::tokio::TempDir::new("fixtures");
    /// # drop(manager);
    /// ```
    pub fn new(prefix: impl Into<String>) -> Self {
        TempDir {
            parent: None,
            prefix: prefix.into(),
        }
    }

    /// A directory named after `prefix`, under `parent` (which must exist).
    ///
    /// ```
    /// let manager = async_with::tokio::TempDir::in_dir("target", "scratch");
    /// # drop(manager);
    /// ```
    pub fn in_dir(parent: impl Into<PathBuf>, prefix: impl Into<String>) -> Self {
        TempDir {
            parent: Some(parent.into()),
            prefix: prefix.into(),
        }
    }
}

/// Distinguishes directories created by one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

impl AsyncContextManager for TempDir {
    type Target = TempPath;
    type Error = io::Error;

    async fn enter(&mut self) -> io::Result<TempPath> {
        let parent = match &self.parent {
            Some(parent) => parent.clone(),
            None => std::env::temp_dir(),
        };
        let mut attempts = 0;
        loop {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.subsec_nanos());
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!(
                "{}-{}-{n}-{nanos}",
                self.prefix,
                std::process::id()
            ));
            match ::tokio::fs::create_dir(&path).await {
                Ok(()) => return Ok(TempPath(path)),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => {
                    attempts += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn exit(&mut self, dir: TempPath, _outcome: Outcome<'_>) -> io::Result<ExitAction> {
        match ::tokio::fs::remove_dir_all(&dir.0).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(ExitAction::Propagate),
        }
    }

    fn cancel(&mut self, dir: TempPath) {
        // No runtime to await on here; a blocking removal is short and
        // bounded by the directory's size. Nobody is left to report an
        // error to.
        let _ = std::fs::remove_dir_all(&dir.0);
    }
}
