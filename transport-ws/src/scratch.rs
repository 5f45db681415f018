//! Per-thread scratch buffers: reads and encoded writes go through one
//! buffer per thread, so an idle connection holds none.

use std::cell::Cell;
use std::thread::LocalKey;

use roomcast_core::Frame;

thread_local! {
    /// Where reads land.
    pub(crate) static READ_SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// Where a batch of frames is encoded before it is written.
    pub(crate) static WRITE_SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// Where the frames drained from an outbox wait for the write.
    pub(crate) static BATCH_SCRATCH: Cell<Vec<Frame>> = const { Cell::new(Vec::new()) };
}

/// Takes the thread's buffer (empty when another user holds it).
pub(crate) fn take_scratch<T>(slot: &'static LocalKey<Cell<Vec<T>>>) -> Vec<T> {
    slot.with(Cell::take)
}

/// Returns a buffer taken with [`take_scratch`] for the next user.
pub(crate) fn return_scratch<T>(slot: &'static LocalKey<Cell<Vec<T>>>, buf: Vec<T>) {
    slot.with(|c| c.set(buf));
}
