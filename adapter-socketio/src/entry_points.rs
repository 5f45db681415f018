//! The entry points that several types offer under the same name and
//! signature, each forwarding to one value that does the work: Node's
//! `io.to(..)`, `nsp.to(..)` and `socket.to(..)` all start a
//! [`BroadcastOperator`](crate::BroadcastOperator); `io.emit(..)` and the
//! rest of `io`'s methods are those of the main namespace.
//!
//! `entry_points! { target => /// docs \n name; ... }`, inside an `impl`
//! block, declares each named method with the signature written here
//! (public, its docs given at the call) and the body
//! `self.target().name(..)` (awaited for an async one), where `target` is a
//! method of the type. `emit_with_ack(timeout)` is a socket's (it waits for
//! one answer, at most `timeout`), `emit_with_ack` a broadcast's. The
//! signatures are written once; what each type says about them stays at
//! the type.

/// Declares methods that forward to `self.$target()`; see the
/// [module](self).
macro_rules! entry_points {
    ($target:ident => $($(#[$doc:meta])* $name:ident $(($variant:ident))?;)*) => {
        $($crate::entry_points::entry_points!(@method $target, [$(#[$doc])*] $name $(($variant))?);)*
    };

    // Handlers and state (`Server` to its main namespace).
    (@method $t:ident, [$($doc:tt)*] on_connect) => {
        $($doc)*
        pub fn on_connect<F, Fut>(&self, handler: F)
        where
            F: Fn($crate::Socket) -> Fut + Send + Sync + 'static,
            Fut: ::std::future::Future<Output = ()> + Send + 'static,
        {
            self.$t().on_connect(handler)
        }
    };
    (@method $t:ident, [$($doc:tt)*] use_middleware) => {
        $($doc)*
        pub fn use_middleware<F, Fut>(&self, middleware: F)
        where
            F: Fn($crate::Socket) -> Fut + Send + Sync + 'static,
            Fut: ::std::future::Future<Output = Result<(), $crate::ConnectError>> + Send + 'static,
        {
            self.$t().use_middleware(middleware)
        }
    };
    (@method $t:ident, [$($doc:tt)*] state) => {
        $($doc)*
        pub fn state<T: Send + Sync + 'static>(&self) -> &T {
            self.$t().state::<T>()
        }
    };
    (@method $t:ident, [$($doc:tt)*] on_server_event) => {
        $($doc)*
        pub fn on_server_event<F, Fut>(&self, event: &str, handler: F)
        where
            F: Fn($crate::ServerEvent) -> Fut + Send + Sync + 'static,
            Fut: ::std::future::Future<Output = ()> + Send + 'static,
        {
            self.$t().on_server_event(event, handler)
        }
    };

    // Emits.
    (@method $t:ident, [$($doc:tt)*] emit) => {
        $($doc)*
        pub fn emit<T: ::serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), $crate::EmitError> {
            self.$t().emit(event, data)
        }
    };
    (@method $t:ident, [$($doc:tt)*] emit_with_ack) => {
        $($doc)*
        pub async fn emit_with_ack<T, R>(&self, event: &str, data: &T) -> Result<$crate::BroadcastAcks<R>, $crate::AckError>
        where
            T: ::serde::Serialize + ?Sized,
            R: ::serde::de::DeserializeOwned,
        {
            self.$t().emit_with_ack(event, data).await
        }
    };
    (@method $t:ident, [$($doc:tt)*] emit_with_ack(timeout)) => {
        $($doc)*
        pub async fn emit_with_ack<T, R>(&self, event: &str, data: &T, timeout: ::std::time::Duration) -> Result<R, $crate::AckError>
        where
            T: ::serde::Serialize + ?Sized,
            R: ::serde::de::DeserializeOwned,
        {
            self.$t().emit_with_ack(event, data, timeout).await
        }
    };
    (@method $t:ident, [$($doc:tt)*] server_side_emit) => {
        $($doc)*
        pub fn server_side_emit<T: ::serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), $crate::EmitError> {
            self.$t().server_side_emit(event, data)
        }
    };
    (@method $t:ident, [$($doc:tt)*] server_side_emit_with_ack) => {
        $($doc)*
        pub async fn server_side_emit_with_ack<T, R>(&self, event: &str, data: &T, timeout: ::std::time::Duration) -> Result<$crate::ServerAcks<R>, $crate::AckError>
        where
            T: ::serde::Serialize + ?Sized,
            R: ::serde::de::DeserializeOwned,
        {
            self.$t().server_side_emit_with_ack(event, data, timeout).await
        }
    };

    // Operators: recipients and flags.
    (@method $t:ident, [$($doc:tt)*] to) => { $crate::entry_points::entry_points!(@rooms $t, [$($doc)*] to); };
    (@method $t:ident, [$($doc:tt)*] within) => { $crate::entry_points::entry_points!(@rooms $t, [$($doc)*] within); };
    (@method $t:ident, [$($doc:tt)*] except) => { $crate::entry_points::entry_points!(@rooms $t, [$($doc)*] except); };
    (@rooms $t:ident, [$($doc:tt)*] $name:ident) => {
        $($doc)*
        pub fn $name<R: Into<$crate::Room>>(&self, rooms: impl IntoIterator<Item = R>) -> $crate::BroadcastOperator {
            self.$t().$name(rooms)
        }
    };
    (@method $t:ident, [$($doc:tt)*] local) => {
        $($doc)*
        pub fn local(&self) -> $crate::BroadcastOperator {
            self.$t().local()
        }
    };
    (@method $t:ident, [$($doc:tt)*] volatile) => {
        $($doc)*
        pub fn volatile(&self) -> $crate::BroadcastOperator {
            self.$t().volatile()
        }
    };
    (@method $t:ident, [$($doc:tt)*] compress) => {
        $($doc)*
        pub fn compress(&self, compress: bool) -> $crate::BroadcastOperator {
            self.$t().compress(compress)
        }
    };
    (@method $t:ident, [$($doc:tt)*] timeout) => {
        $($doc)*
        pub fn timeout(&self, timeout: ::std::time::Duration) -> $crate::BroadcastOperator {
            self.$t().timeout(timeout)
        }
    };

    // Operators: actions on the recipients.
    (@method $t:ident, [$($doc:tt)*] sockets) => {
        $($doc)*
        pub fn sockets(&self) -> Vec<$crate::ClientId> {
            self.$t().sockets()
        }
    };
    (@method $t:ident, [$($doc:tt)*] fetch_sockets) => {
        $($doc)*
        pub async fn fetch_sockets(&self) -> Vec<$crate::RemoteSocket> {
            self.$t().fetch_sockets().await
        }
    };
    (@method $t:ident, [$($doc:tt)*] sockets_join) => {
        $($doc)*
        pub fn sockets_join<R: Into<$crate::Room>>(&self, rooms: impl IntoIterator<Item = R>) {
            self.$t().sockets_join(rooms)
        }
    };
    (@method $t:ident, [$($doc:tt)*] sockets_leave) => {
        $($doc)*
        pub fn sockets_leave<R: Into<$crate::Room>>(&self, rooms: impl IntoIterator<Item = R>) {
            self.$t().sockets_leave(rooms)
        }
    };
    (@method $t:ident, [$($doc:tt)*] disconnect_sockets) => {
        $($doc)*
        pub fn disconnect_sockets(&self) {
            self.$t().disconnect_sockets()
        }
    };
    (@method $t:ident, [$($doc:tt)*] close_connections) => {
        $($doc)*
        pub fn close_connections(&self) {
            self.$t().close_connections()
        }
    };

    // The cluster (namespace-wide, not operators).
    (@method $t:ident, [$($doc:tt)*] all_rooms) => {
        $($doc)*
        pub async fn all_rooms(&self) -> ::std::collections::BTreeSet<$crate::Room> {
            self.$t().all_rooms().await
        }
    };
    (@method $t:ident, [$($doc:tt)*] node_count) => {
        $($doc)*
        pub fn node_count(&self) -> usize {
            self.$t().node_count()
        }
    };
}

pub(crate) use entry_points;
