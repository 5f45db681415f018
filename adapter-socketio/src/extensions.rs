//! Typed per-socket data.
//!
//! One value per type. Values are cloned out, so store cheap handles
//! (`Arc<…>`, ids, small structs). The lock is never held across an await.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use parking_lot::Mutex;

/// Typed values attached to a socket.
///
/// ```
/// use roomcast_socketio::Extensions;
/// #[derive(Clone, PartialEq, Debug)]
/// struct User(String);
/// let ext = Extensions::default();
/// ext.insert(User("ada".into()));
/// assert_eq!(ext.get::<User>(), Some(User("ada".into())));
/// assert_eq!(ext.remove::<User>(), Some(User("ada".into())));
/// assert!(ext.get::<User>().is_none());
/// ```
#[derive(Default)]
pub struct Extensions {
    map: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.map.lock().len())
            .finish()
    }
}

impl Extensions {
    /// Stores a value, returning the previous one of the same type.
    pub fn insert<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        self.map
            .lock()
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|old| old.downcast::<T>().ok().map(|b| *b))
    }

    /// A clone of the stored value of type `T`.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.map
            .lock()
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Send + Sync + 'static>(&self) -> Option<T> {
        self.map
            .lock()
            .remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast::<T>().ok().map(|b| *b))
    }
}
