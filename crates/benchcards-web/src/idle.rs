//! Connections are bounded: at most a set number are open at once (the next waits to be
//! accepted); one that moves no byte in either direction for the idle time ends; and a request
//! whose headers have not all arrived within their time ends its connection, so idle, stalled
//! or trickling clients cannot pile up until the server runs out of connections.

use axum::serve::Listener;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// A listener whose connections end after `idle` without progress, `open` of them at most.
pub(crate) struct IdleListener {
    pub(crate) listener: TcpListener,
    pub(crate) idle: Duration,
    /// The longest a request's headers may take to arrive, from its first byte.
    pub(crate) headers_within: Duration,
    pub(crate) open: Arc<Semaphore>,
}

impl Listener for IdleListener {
    type Io = IdleStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (IdleStream, SocketAddr) {
        // A place first: while every place is taken, nothing more is accepted.
        let Ok(place) = self.open.clone().acquire_owned().await else { std::future::pending().await };
        loop {
            match self.listener.accept().await {
                Ok((tcp, addr)) => {
                    let _ = tcp.set_nodelay(true);
                    let deadline = Box::pin(tokio::time::sleep(self.idle));
                    let headers = Headers { within: self.headers_within, started: None, matched: 0 };
                    return (IdleStream { tcp, idle: self.idle, deadline, headers, _place: place }, addr);
                }
                // Out of file descriptors, say: wait, then accept again.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

pub(crate) struct IdleStream {
    tcp: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    headers: Headers,
    /// Given back when the connection ends.
    _place: OwnedSemaphorePermit,
}

/// Where the request being received is: since when its headers have been arriving, and how
/// much of the blank line that ends them (`\r\n\r\n`) has been seen.
struct Headers {
    within: Duration,
    started: Option<Instant>,
    matched: usize,
}

impl Headers {
    /// Follows the bytes received; an error when a request's headers are taking too long.
    fn received(&mut self, bytes: &[u8]) -> io::Result<()> {
        const END: &[u8; 4] = b"\r\n\r\n";
        for &b in bytes {
            self.started.get_or_insert_with(Instant::now);
            self.matched = if b == END[self.matched] { self.matched + 1 } else { usize::from(b == END[0]) };
            if self.matched == END.len() {
                (self.started, self.matched) = (None, 0);
            }
        }
        match self.started {
            Some(t) if t.elapsed() > self.within => Err(io::Error::new(io::ErrorKind::TimedOut, "the request's headers took too long")),
            _ => Ok(()),
        }
    }
}

impl IdleStream {
    /// After progress, the idle time starts again; while waiting, it runs out.
    fn progress<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(r) => {
                let idle = self.idle;
                self.deadline.as_mut().reset(Instant::now() + idle);
                Poll::Ready(r)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the connection was idle too long"))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for IdleStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll
            && let Err(e) = self.headers.received(&buf.filled()[before..])
        {
            return Poll::Ready(Err(e));
        }
        self.progress(cx, poll)
    }
}

impl AsyncWrite for IdleStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.progress(cx, poll)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
