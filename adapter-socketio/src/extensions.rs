//! Typed per-socket data.
//!
//! One value per type. Values are cloned out, so store cheap handles
//! (`Arc<…>`, ids, small structs). The lock is never held across an await.
//! A socket holds a few types at most, so they are kept in a short list
//! (no allocation until the first insert), not a hash map.

use std::any::{Any, TypeId};

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
    map: Mutex<Vec<(TypeId, Box<dyn Any + Send + Sync>)>>,
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
        let mut map = self.map.lock();
        let value: Box<dyn Any + Send + Sync> = Box::new(value);
        let old = match map.iter_mut().find(|(id, _)| *id == TypeId::of::<T>()) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                map.push((TypeId::of::<T>(), value));
                None
            }
        };
        old.and_then(|old| old.downcast::<T>().ok().map(|b| *b))
    }

    /// A clone of the stored value of type `T`.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.map
            .lock()
            .iter()
            .find(|(id, _)| *id == TypeId::of::<T>())
            .and_then(|(_, v)| v.downcast_ref::<T>())
            .cloned()
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Send + Sync + 'static>(&self) -> Option<T> {
        let mut map = self.map.lock();
        let at = map.iter().position(|(id, _)| *id == TypeId::of::<T>())?;
        let (_, old) = map.swap_remove(at);
        old.downcast::<T>().ok().map(|b| *b)
    }
}
