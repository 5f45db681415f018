//! Shared helpers for roomcast integration tests.
pub mod cluster;
pub mod js;
pub mod redis;
pub mod wait;
