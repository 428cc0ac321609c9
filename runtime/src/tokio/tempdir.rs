//! A temporary directory removed on exit.

use std::ffi::OsStr;
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use crate::{ExitAction, Outcome, SendContextManager};

/// A temporary directory, created on enter (under
/// [`std::env::temp_dir`] unless [`in_dir`](TempDir::in_dir) says otherwise)
/// and removed with everything in it on exit, on every way out of the
/// block. The target is its [`TempPath`].
///
/// Creation goes through the [`tempfile`] crate: the name is the prefix
/// followed by random characters, the directory is created exclusively
/// (an existing path is never reused, so nobody can plant a directory or
/// a symlink under the name in advance) and, on unix, with mode `0700`.
/// Creation and removal run on tokio's blocking pool
/// ([`spawn_blocking`](::tokio::task::spawn_blocking)), off the runtime's
/// worker threads. A directory the block already removed is fine on exit;
/// any other removal error is exit's error.
///
/// If the future running the block is dropped (cancelled), exit cannot
/// run; the [`cancel`](crate::AsyncContextManager::cancel) hook removes the
/// directory synchronously instead (there is no runtime to await on in
/// `Drop`), so it is not left behind on that path either.
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
/// exit removes the directory it names. It owns the directory: dropped
/// without exit (as the default cancel hook would), it removes the
/// directory synchronously, like [`tempfile::TempDir`].
///
/// ```
/// fn file_in(dir: &async_with::tokio::TempPath) -> std::path::PathBuf {
///     dir.join("file.txt")
/// }
/// # let _ = file_in;
/// ```
#[derive(Debug)]
pub struct TempPath(tempfile::TempDir);

impl Deref for TempPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for TempPath {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<OsStr> for TempPath {
    fn as_ref(&self) -> &OsStr {
        self.0.path().as_os_str()
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

impl SendContextManager for TempDir {
    type Target = TempPath;
    type Error = io::Error;

    async fn enter(&mut self) -> io::Result<TempPath> {
        let parent = match &self.parent {
            Some(parent) => parent.clone(),
            None => std::env::temp_dir(),
        };
        let prefix = self.prefix.clone();
        let created = blocking(move || {
            let mut builder = tempfile::Builder::new();
            builder.prefix(&prefix);
            // tempfile's default for directories is `0777 & !umask`.
            #[cfg(unix)]
            builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
            builder.tempdir_in(parent)
        })
        .await?;
        Ok(TempPath(created))
    }

    async fn exit(&mut self, dir: TempPath, _outcome: Outcome<'_>) -> io::Result<ExitAction> {
        match blocking(move || dir.0.close()).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(ExitAction::Propagate),
        }
    }

    fn cancel(&mut self, dir: TempPath) {
        // No runtime to await on here; a blocking removal is short and
        // bounded by the directory's size. Nobody is left to report an
        // error to.
        let _ = dir.0.close();
    }
}

/// Runs a filesystem call on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    ::tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|join_error| Err(io::Error::other(join_error)))
}
