//! A TCP connection closed gracefully on exit.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ::tokio::io::{AsyncReadExt, AsyncWriteExt};
use ::tokio::net::{TcpStream, ToSocketAddrs};

use crate::{ExitAction, Outcome, SendContextManager};

/// A TCP connection, opened on enter and closed on exit (the target is the
/// [`TcpStream`]).
///
/// Exit after a **completed** block closes gracefully: it shuts down the
/// write half (the peer reads end-of-file), then reads and discards what the
/// peer still sends until the peer closes its side too, so that neither end
/// resets a connection that still has data in flight. Waiting for the peer
/// is bounded by [`drain_timeout`](TcpConnection::drain_timeout) (5 s by
/// default); past it, exit fails with [`io::ErrorKind::TimedOut`] (the
/// stream is then dropped). An error of the shutdown or of a read is exit's
/// error.
///
/// Exit after a **failed or panicked** block closes at once: the stream is
/// dropped, nothing is awaited, and the block's failure propagates. (The
/// kernel still sends what was written, then a FIN; it resets the
/// connection instead if data the block never read was waiting.)
///
/// If the future running the block is dropped, so is the stream: the same
/// immediate close, without exit.
///
/// ```
/// use async_with::async_with;
/// use async_with::tokio::TcpConnection;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// async fn run() -> std::io::Result<String> {
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = tokio::spawn(async move {
///         let (mut socket, _) = listener.accept().await?;
///         let mut received = String::new();
///         socket.read_to_string(&mut received).await?; // until the client's FIN
///         std::io::Result::Ok(received)
///     });
///
///     async_with!(conn = TcpConnection::connect(addr) => {
///         conn.write_all(b"hello").await?;
///     }); // shut down, then wait for the server to close
///
///     server.await.unwrap()
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// assert_eq!(runtime.block_on(run()).unwrap(), "hello");
/// ```
#[derive(Debug)]
pub struct TcpConnection<A = SocketAddr> {
    source: Source<A>,
    drain_timeout: Duration,
}

#[derive(Debug)]
enum Source<A> {
    Connect(A),
    Stream(TcpStream),
    Entered,
}

impl<A: ToSocketAddrs> TcpConnection<A> {
    /// Connects to `addr` on enter (anything [`TcpStream::connect`] takes).
    /// A connection failure is an enter failure.
    ///
    /// ```
    /// let manager = async_with::tokio::TcpConnection::connect("127.0.0.1:8080");
    /// # drop(manager);
    /// ```
    pub fn connect(addr: A) -> Self {
        TcpConnection {
            source: Source::Connect(addr),
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

impl TcpConnection {
    /// Manages a stream that is already connected, such as one a listener
    /// accepted: enter hands it to the block, exit closes it.
    ///
    /// ```
    /// use async_with::async_with;
    /// use async_with::tokio::TcpConnection;
    /// use tokio::io::AsyncWriteExt;
    ///
    /// async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    ///     let (socket, _) = listener.accept().await?;
    ///     async_with!(socket = TcpConnection::from_stream(socket) => {
    ///         socket.write_all(b"bye\n").await?;
    ///     });
    ///     Ok(())
    /// }
    /// # let _ = serve;
    /// ```
    pub fn from_stream(stream: TcpStream) -> Self {
        TcpConnection {
            source: Source::Stream(stream),
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

impl<A> TcpConnection<A> {
    /// How long exit waits, after shutting down its write half, for the
    /// peer to close its side. 5 s by default.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let manager = async_with::tokio::TcpConnection::connect("127.0.0.1:8080")
    ///     .drain_timeout(Duration::from_millis(500));
    /// # drop(manager);
    /// ```
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }
}

impl<A: ToSocketAddrs + Send> SendContextManager for TcpConnection<A> {
    type Target = TcpStream;
    type Error = io::Error;

    async fn enter(&mut self) -> io::Result<TcpStream> {
        match std::mem::replace(&mut self.source, Source::Entered) {
            Source::Connect(addr) => TcpStream::connect(addr).await,
            Source::Stream(stream) => Ok(stream),
            Source::Entered => Err(io::Error::other("TcpConnection entered twice")),
        }
    }

    async fn exit(
        &mut self,
        mut stream: TcpStream,
        outcome: Outcome<'_>,
    ) -> io::Result<ExitAction> {
        if !outcome.is_completed() {
            // Close at once: a failed block may have left the protocol in
            // any state, so the peer is not waited for.
            drop(stream);
            return Ok(ExitAction::Propagate);
        }
        stream.shutdown().await?;
        let drain = async {
            let mut buf = [0_u8; 1024];
            while stream.read(&mut buf).await? != 0 {}
            io::Result::Ok(())
        };
        match ::tokio::time::timeout(self.drain_timeout, drain).await {
            Ok(result) => result.map(|()| ExitAction::Propagate),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the peer did not close the connection within {:?} of the shutdown",
                    self.drain_timeout
                ),
            )),
        }
    }
}
