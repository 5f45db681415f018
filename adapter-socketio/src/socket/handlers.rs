//! Handlers: async closures behind object-safe traits, and how they run.
//!
//! A handler's future is polled once, right away, on the task that
//! delivered the packet; only if it is not finished is it spawned. So the
//! synchronous part of every handler (up to its first pending `.await`) runs
//! in the order packets arrived — a `join` followed by an emit to that room
//! is seen in that order — and a handler that never awaits costs no task.
//! A panic in a handler is caught and logged; the socket is disconnected.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::parser::decode_args;
use crate::{AckSender, ConnectError, DisconnectReason, Socket};

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs a handler future: one poll now, the rest on a spawned task.
/// `on_panic` runs if the handler panics (during either part).
pub(crate) fn run(fut: BoxFuture<()>, on_panic: impl FnOnce() + Send + 'static) {
    let mut fut = fut;
    let mut cx = Context::from_waker(Waker::noop());
    match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
        Ok(Poll::Ready(())) => {}
        Ok(Poll::Pending) => {
            let task = tokio::spawn(fut);
            tokio::spawn(async move {
                if let Err(e) = task.await {
                    if e.is_panic() {
                        tracing::error!("a socket handler panicked");
                        on_panic();
                    }
                }
            });
        }
        Err(_) => {
            tracing::error!("a socket handler panicked");
            on_panic();
        }
    }
}

/// An event handler with typed arguments.
pub(crate) trait EventHandler: Send + Sync + 'static {
    fn call(
        &self,
        socket: Socket,
        args: &[Value],
        attachments: &[Bytes],
        ack: AckSender,
    ) -> Option<BoxFuture<()>>;
}

pub(crate) struct TypedEvent<F, T> {
    f: F,
    _args: PhantomData<fn(T)>,
}

impl<F, T> TypedEvent<F, T> {
    pub(crate) fn new(f: F) -> Self {
        TypedEvent {
            f,
            _args: PhantomData,
        }
    }
}

impl<F, T, Fut> EventHandler for TypedEvent<F, T>
where
    F: Fn(Socket, T, AckSender) -> Fut + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(
        &self,
        socket: Socket,
        args: &[Value],
        attachments: &[Bytes],
        ack: AckSender,
    ) -> Option<BoxFuture<()>> {
        match decode_args::<T>(args, attachments) {
            Ok(data) => Some(Box::pin((self.f)(socket, data, ack))),
            Err(e) => {
                tracing::debug!(socket = %socket.id(), error = %e, "event arguments do not match the handler's type; ignored");
                None
            }
        }
    }
}

/// An event handler given the raw arguments and attachments.
pub(crate) struct RawEvent<F>(pub(crate) F);

impl<F, Fut> EventHandler for RawEvent<F>
where
    F: Fn(Socket, Vec<Value>, Vec<Bytes>, AckSender) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(
        &self,
        socket: Socket,
        args: &[Value],
        attachments: &[Bytes],
        ack: AckSender,
    ) -> Option<BoxFuture<()>> {
        Some(Box::pin((self.0)(
            socket,
            args.to_vec(),
            attachments.to_vec(),
            ack,
        )))
    }
}

/// A catch-all listener: event name and raw arguments.
pub(crate) type AnyHandler = Arc<dyn Fn(&Socket, &str, &[Value]) + Send + Sync>;

/// A connect handler or middleware: gets the socket, may reject.
pub(crate) type ConnectFn =
    Arc<dyn Fn(Socket) -> BoxFuture<Result<(), ConnectError>> + Send + Sync>;

/// A disconnecting / disconnect hook.
pub(crate) type DisconnectFn = Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture<()> + Send + Sync>;
