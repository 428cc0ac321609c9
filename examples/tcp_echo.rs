//! A real TCP echo server on loopback, and a client whose connection is a
//! `TcpConnection` manager: on exit it shuts down its write half and waits
//! for the server to close, so the server sees a clean end-of-file.
//! Run with `cargo run --example tcp_echo`.

use std::time::Duration;

use async_with::async_with;
use async_with::tokio::TcpConnection;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Echoes one connection back until the client closes; returns how many
/// bytes it echoed.
async fn echo_server(listener: TcpListener) -> std::io::Result<usize> {
    let (mut socket, peer) = listener.accept().await?;
    println!("server: accepted a connection from {}", peer.ip());
    let mut buf = [0_u8; 1024];
    let mut echoed = 0;
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            // read() returning 0 is the client's FIN: a clean end-of-file,
            // not a reset (which would be an error).
            println!("server: clean EOF from the client after {echoed} bytes");
            return Ok(echoed); // dropping the socket closes our side
        }
        socket.write_all(&buf[..n]).await?;
        echoed += n;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("server: listening on 127.0.0.1 (ephemeral port)");
    let server = tokio::spawn(echo_server(listener));

    let manager = TcpConnection::connect(addr).drain_timeout(Duration::from_secs(5));
    async_with!(conn = manager => {
        let (reader, mut writer) = conn.split();
        let mut lines = BufReader::new(reader).lines();
        for message in ["hello", "async with"] {
            writer.write_all(format!("{message}\n").as_bytes()).await?;
            let echo = lines.next_line().await?.unwrap_or_default();
            println!("client: sent {message:?}, got {echo:?}");
        }
    }); // exit: shutdown(), then read until the server closes
    println!("client: connection closed gracefully");

    let echoed = server.await.expect("the server task panicked")?;
    println!("server: echoed {echoed} bytes in all");
    Ok(())
}
