//! Shared helpers for roomcast integration tests.
pub mod js;
pub mod wait;
