//! The channel names of one key prefix, as Node's adapter names them.
//!
//! For key `socket.io` and namespace `/chat`: broadcasts on
//! `socket.io#/chat#` and, for a broadcast to exactly one room,
//! `socket.io#/chat#<room>#` (nodes pattern-subscribe to
//! `socket.io#/chat#*`); requests on `socket.io-request#/chat#`; responses
//! on `socket.io-response#/chat#` or the requesting node's own
//! `socket.io-response#/chat#<uid>#`.

/// Channel names for one key prefix.
#[derive(Clone, Debug)]
pub(crate) struct Channels {
    key: String,
}

impl Channels {
    pub fn new(key: &str) -> Self {
        Channels {
            key: key.to_string(),
        }
    }

    pub fn broadcast(&self, nsp: &str) -> String {
        format!("{}#{}#", self.key, nsp)
    }

    pub fn room(&self, nsp: &str, room: &str) -> String {
        format!("{}#{}#{}#", self.key, nsp, room)
    }

    /// The pattern covering [`Channels::broadcast`] and every
    /// [`Channels::room`] of a namespace, glob characters escaped.
    pub fn pattern(&self, nsp: &str) -> String {
        let mut p = String::new();
        for c in self.broadcast(nsp).chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('*');
        p
    }

    pub fn request(&self, nsp: &str) -> String {
        format!("{}-request#{}#", self.key, nsp)
    }

    pub fn response(&self, nsp: &str) -> String {
        format!("{}-response#{}#", self.key, nsp)
    }

    pub fn response_to(&self, nsp: &str, uid: &str) -> String {
        format!("{}-response#{}#{}#", self.key, nsp, uid)
    }

    /// The three channels a node subscribes to per namespace.
    pub fn subscriptions(&self, nsp: &str, uid: &str) -> [String; 3] {
        [
            self.request(nsp),
            self.response(nsp),
            self.response_to(nsp, uid),
        ]
    }

    /// What a channel a message came on is: the namespace of a request
    /// channel, or a response channel, or a broadcast channel.
    pub fn classify<'a>(&self, channel: &'a str) -> Option<ChannelKind<'a>> {
        let rest = channel.strip_prefix(self.key.as_str())?;
        if let Some(nsp) = rest.strip_prefix("-request#") {
            return Some(ChannelKind::Request(nsp.strip_suffix('#')?));
        }
        if rest.starts_with("-response#") {
            return Some(ChannelKind::Response);
        }
        if rest.starts_with('#') {
            return Some(ChannelKind::Broadcast);
        }
        None
    }
}

/// See [`Channels::classify`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ChannelKind<'a> {
    Request(&'a str),
    Response,
    Broadcast,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_node() {
        let c = Channels::new("socket.io");
        assert_eq!(c.broadcast("/"), "socket.io#/#");
        assert_eq!(c.room("/chat", "r1"), "socket.io#/chat#r1#");
        assert_eq!(c.pattern("/"), "socket.io#/#*");
        assert_eq!(c.pattern("/a*b"), "socket.io#/a\\*b#*");
        assert_eq!(c.request("/"), "socket.io-request#/#");
        assert_eq!(c.response_to("/", "abc"), "socket.io-response#/#abc#");
        assert_eq!(
            c.classify("socket.io-request#/chat#"),
            Some(ChannelKind::Request("/chat"))
        );
        assert_eq!(
            c.classify("socket.io-response#/#x#"),
            Some(ChannelKind::Response)
        );
        assert_eq!(
            c.classify("socket.io#/#room#"),
            Some(ChannelKind::Broadcast)
        );
        assert_eq!(c.classify("other#/#"), None);
    }
}
