//! The server's namespaces by name.
//!
//! A namespace is static (created by `Server::of`, `/` at build time) or
//! the child of a dynamic template whose matcher accepts a name, created on
//! its first CONNECT; templates are tried in the order they were added.
//! Every namespace gets its own hub on the server's cluster and attaches
//! its [`remote`](crate::remote) handler to it. A namespace, once created,
//! stays for the server's life — except a dynamic child when the server
//! cleans up empty children (`cleanup_empty_child_namespaces`): it is
//! removed (from the table, its parent and the cluster) when its last
//! socket leaves, and a later CONNECT creates it afresh.

use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::RwLock;
use roomcast_core::cluster::Cluster;
use roomcast_core::Hub;

use crate::observe::Observers;
use crate::parser::Parser;
use crate::remote::NamespaceRemote;
use crate::state::SharedState;
use crate::Namespace;

type Matcher = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Every namespace of one server.
pub(crate) struct NamespaceRegistry {
    namespaces: Arc<DashMap<String, Namespace>>,
    dynamic: RwLock<Vec<(Matcher, Namespace)>>,
    cluster: Arc<dyn Cluster>,
    max_rooms_per_socket: usize,
    recovery: Option<crate::RecoveryConfig>,
    observers: Arc<Observers>,
    parser: Arc<dyn Parser>,
    state: SharedState,
    cleanup_empty_children: bool,
}

impl NamespaceRegistry {
    pub(crate) fn new(
        cluster: Arc<dyn Cluster>,
        max_rooms_per_socket: usize,
        recovery: Option<crate::RecoveryConfig>,
        parser: Arc<dyn Parser>,
        state: SharedState,
        cleanup_empty_children: bool,
    ) -> Self {
        NamespaceRegistry {
            namespaces: Arc::new(DashMap::new()),
            dynamic: RwLock::new(Vec::new()),
            cluster,
            max_rooms_per_socket,
            recovery,
            observers: Arc::default(),
            parser,
            state,
            cleanup_empty_children,
        }
    }

    /// The hooks every namespace of this server calls.
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn observers(&self) -> &Arc<Observers> {
        &self.observers
    }

    /// The server's packet codec.
    pub(crate) fn parser(&self) -> &dyn Parser {
        &*self.parser
    }

    fn hub(&self, name: &str) -> Hub {
        Hub::with_cluster(name, self.cluster.clone())
            .with_max_rooms_per_client(self.max_rooms_per_socket)
    }

    /// Routes what other nodes forward for this namespace to it.
    fn attach(&self, ns: Namespace) -> Namespace {
        ns.set_state(self.state.clone());
        if let Some(config) = &self.recovery {
            ns.set_recovery(crate::recovery::Recovery::new(
                config.clone(),
                ns.name(),
                self.cluster.log(),
                self.parser.clone(),
            ));
        }
        ns.set_observers(self.observers.clone());
        self.cluster
            .attach(ns.name(), NamespaceRemote::new(ns.clone()));
        ns
    }

    /// The static namespace `name`, created if needed.
    pub(crate) fn of(&self, name: &str) -> Namespace {
        if let Some(ns) = self.get(name) {
            return ns;
        }
        self.get_or_insert(name, || {
            self.attach(Namespace::new(name, self.hub(name), self.parser.clone()))
        })
    }

    /// The namespace `name`: the one in the table, or else the one `create`
    /// makes, put in the table; the observers hear of a created one (once
    /// the table is unlocked).
    fn get_or_insert(&self, name: &str, create: impl FnOnce() -> Namespace) -> Namespace {
        let mut created = false;
        let ns = self
            .namespaces
            .entry(name.to_string())
            .or_insert_with(|| {
                created = true;
                create()
            })
            .clone();
        if created {
            self.observers.namespace_created(&ns);
        }
        ns
    }

    /// A dynamic template: names `matches` accepts become its children.
    pub(crate) fn of_matching(
        &self,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Namespace {
        let name = crate::namespace::TEMPLATE_NAME;
        let template = Namespace::new(name, self.hub(name), self.parser.clone());
        template.set_state(self.state.clone());
        self.dynamic
            .write()
            .push((Arc::new(matches), template.clone()));
        template
    }

    /// A namespace that exists.
    pub(crate) fn get(&self, name: &str) -> Option<Namespace> {
        self.namespaces.get(name).map(|n| n.clone())
    }

    /// Every namespace that exists.
    pub(crate) fn all(&self) -> Vec<Namespace> {
        self.namespaces.iter().map(|n| n.clone()).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.namespaces.len()
    }

    /// The namespace a CONNECT asks for: a static one, or a new child of a
    /// dynamic one whose matcher accepts the name.
    pub(crate) fn for_connect(&self, name: &str) -> Option<Namespace> {
        if let Some(ns) = self.get(name) {
            return Some(ns);
        }
        let parent = self
            .dynamic
            .read()
            .iter()
            .find(|(matcher, _)| matcher(name))
            .map(|(_, parent)| parent.clone())?;
        Some(self.get_or_insert(name, || {
            let child = self.attach(parent.child(name, self.hub(name)));
            if self.cleanup_empty_children {
                child.set_on_empty(self.remover(parent.clone()));
            }
            child
        }))
    }

    /// Removes an empty child from the server, its parent and the cluster.
    /// Weak: the table holds the child, which holds this.
    fn remover(&self, parent: Namespace) -> crate::namespace::OnEmpty {
        let table = Arc::downgrade(&self.namespaces);
        let cluster = Arc::downgrade(&self.cluster);
        let parent = parent.downgrade();
        Box::new(move |child: &Namespace| {
            let Some(table) = table.upgrade() else { return };
            if table
                .remove_if(child.name(), |_, ns| ns.is_empty())
                .is_none()
            {
                return;
            }
            tracing::debug!(ns = %child.name(), "empty child namespace removed");
            if let Some(cluster) = cluster.upgrade() {
                cluster.detach(child.name());
            }
            if let Some(parent) = Namespace::upgrade(&parent) {
                parent.forget_child(child.name());
            }
        })
    }
}
