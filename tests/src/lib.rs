//! roomcast's integration and interop tests (`tests/`), with the node
//! scripts they run in `js/`. The helpers they share with the other crates'
//! tests are in `roomcast-testkit`.
pub mod cluster;
pub mod redis;
