//! How a handler's future runs.
//!
//! A handler's future is polled once, right away, on the task that
//! delivered the packet; only if it is not finished is it spawned, as one
//! task. So the synchronous part of every handler (up to its first pending
//! `.await`) runs in the order packets arrived — a `join` followed by an
//! emit to that room is seen in that order — and a handler that never
//! awaits costs no task. A panic in either part is caught and logged, and
//! the caller's `on_panic` runs (for an event handler: the socket is
//! disconnected).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_util::FutureExt;

/// A boxed handler future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs a handler future: one poll now, the rest on one spawned task.
/// `on_panic` runs if the handler panics (during either part).
pub(crate) fn run(fut: BoxFuture<()>, on_panic: impl FnOnce() + Send + 'static) {
    let mut fut = fut;
    let mut cx = Context::from_waker(Waker::noop());
    match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
        Ok(Poll::Ready(())) => {}
        Ok(Poll::Pending) => {
            tokio::spawn(async move {
                if AssertUnwindSafe(fut).catch_unwind().await.is_err() {
                    tracing::error!("a socket handler panicked");
                    on_panic();
                }
            });
        }
        Err(_) => {
            tracing::error!("a socket handler panicked");
            on_panic();
        }
    }
}
