//! The application's state, given to the builder and read from any socket.
//!
//! One value per type, set once at build time and shared (never cloned)
//! by every namespace and socket, so handlers reach the database pool, the
//! configuration or a counter without capturing anything:
//! `socket.state::<Db>()`. Interior mutability is the value's business
//! (an `AtomicU64`, a `Mutex`, a pool).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// Typed values shared by the whole server. Built by
/// [`ServerBuilder::state`](crate::ServerBuilder::state).
#[derive(Default)]
pub(crate) struct AppState {
    map: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl AppState {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.map.insert(TypeId::of::<T>(), Box::new(value));
    }

    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.map
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }

    /// `get`, or a panic that says what is missing.
    pub(crate) fn expect<T: Send + Sync + 'static>(&self) -> &T {
        self.get::<T>().unwrap_or_else(|| {
            panic!(
                "no state of type `{}`: give it to `Server::builder().state(..)`",
                std::any::type_name::<T>()
            )
        })
    }
}

/// The state every namespace of one server shares.
pub(crate) type SharedState = Arc<AppState>;
