//! Event names reserved by the protocol.
//!
//! The reference server uses these names for its own events: a client that
//! sends one breaks the protocol (its connection closes with "parse
//! error"), and the server refuses to emit one ([`EmitError::Reserved`]).

use crate::EmitError;

/// Events neither side may send.
const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `event` is reserved.
pub(crate) fn is_reserved(event: &str) -> bool {
    RESERVED.contains(&event)
}

/// `Err` for a reserved event name.
pub(crate) fn check_event(event: &str) -> Result<(), EmitError> {
    if is_reserved(event) {
        return Err(EmitError::Reserved(event.to_string()));
    }
    Ok(())
}
