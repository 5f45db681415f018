//! What [`Socket::on`](crate::Socket::on) accepts: an async closure of one,
//! two or three parameters.
//!
//! - `|socket: Socket| async move { … }` — the event's arguments are
//!   ignored;
//! - `|socket: Socket, data: T| async move { … }` — the arguments decode
//!   into `T` (a tuple for several, `serde_json::Value` for raw JSON,
//!   `bytes::Bytes` where a binary attachment is);
//! - `|socket: Socket, data: T, ack: AckSender| async move { … }` — and the
//!   client's acknowledgement callback.
//!
//! An event whose arguments do not decode into `T` is logged and ignored.
//! The trait is sealed: these three shapes are the only ones, and anything
//! else is a compile error that names them.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;

use crate::handler::BoxFuture;
use crate::parser::de_text::decode_event_args;
use crate::parser::{decode_args, EventJson};
use crate::{AckSender, Socket};

/// An event handler: `Fn(Socket)`, `Fn(Socket, T)` or
/// `Fn(Socket, T, AckSender)` returning a `Send` future of `()`, where
/// `T: DeserializeOwned`. `M` is the shape (the parameter types), inferred.
///
/// ```no_run
/// # use roomcast_socketio::{AckSender, Socket};
/// # fn f(socket: Socket) {
/// socket.on("ping", |socket: Socket| async move { socket.emit("pong", &()).ok(); });
/// socket.on("say", |socket: Socket, text: String| async move {
///     socket.broadcast().emit("said", &text).ok();
/// });
/// socket.on("add", |_: Socket, (a, b): (i64, i64), ack: AckSender| async move {
///     ack.send(&(a + b)).ok();
/// });
/// # }
/// ```
///
/// Any other shape does not compile, with a message naming these three:
///
/// ```compile_fail
/// # use roomcast_socketio::Socket;
/// # fn f(socket: Socket) {
/// socket.on("bad", |_: Socket, _: u32, _: u32| async move {});
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event handler",
    label = "not an event handler",
    note = "an event handler is an async closure `|socket: Socket|`, `|socket: Socket, data: T|` or `|socket: Socket, data: T, ack: AckSender|` whose future is `Send + 'static` and yields `()`",
    note = "`T` must implement `serde::de::DeserializeOwned` (use a tuple for several arguments) and the parameters need their types written out"
)]
pub trait EventHandler<M>: sealed::Sealed<M> + Send + Sync + 'static {}

/// Every closure shape `Sealed` is implemented for (the three named
/// above) is an event handler.
impl<H: sealed::Sealed<M> + Send + Sync + 'static, M> EventHandler<M> for H {}

pub(crate) mod sealed {
    use super::*;

    /// An event's arguments as a listener reads them: decoded values and
    /// their attachments, or an event still held as text.
    #[derive(Clone, Copy)]
    pub enum ArgsRef<'a> {
        Values(&'a [Value], &'a [Bytes]),
        Text(&'a EventJson),
    }

    /// The erased call; not nameable outside the crate.
    pub trait Sealed<M> {
        fn call(&self, socket: Socket, args: ArgsRef<'_>, ack: AckSender) -> Option<BoxFuture<()>>;
    }
}

use sealed::ArgsRef;

/// The arguments decoded into `T` (text straight into `T`, see
/// `parser::de_text`).
fn decode<T: DeserializeOwned>(socket: &Socket, args: ArgsRef<'_>) -> Option<T> {
    let decoded = match args {
        ArgsRef::Values(args, attachments) => decode_args::<T>(args, attachments),
        ArgsRef::Text(event) => decode_event_args::<T>(event),
    };
    match decoded {
        Ok(data) => Some(data),
        Err(e) => {
            tracing::debug!(socket = %socket.id(), error = %e, "event arguments do not match the handler's type; ignored");
            None
        }
    }
}

impl<F, Fut> sealed::Sealed<(Socket,)> for F
where
    F: Fn(Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: Socket, _: ArgsRef<'_>, _: AckSender) -> Option<BoxFuture<()>> {
        Some(Box::pin(self(socket)))
    }
}

impl<F, T, Fut> sealed::Sealed<(Socket, T)> for F
where
    F: Fn(Socket, T) -> Fut + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: Socket, args: ArgsRef<'_>, _: AckSender) -> Option<BoxFuture<()>> {
        let data = decode(&socket, args)?;
        Some(Box::pin(self(socket, data)))
    }
}

impl<F, T, Fut> sealed::Sealed<(Socket, T, AckSender)> for F
where
    F: Fn(Socket, T, AckSender) -> Fut + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: Socket, args: ArgsRef<'_>, ack: AckSender) -> Option<BoxFuture<()>> {
        let data = decode(&socket, args)?;
        Some(Box::pin(self(socket, data, ack)))
    }
}
