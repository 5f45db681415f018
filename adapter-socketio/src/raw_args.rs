//! An event's arguments as received, for relaying: [`RawArgs`].
//!
//! A listener added with [`Socket::on_raw`](crate::Socket::on_raw) gets the
//! arguments of an event without any type applied. Over the default JSON
//! parser an `EVENT` without binary arrives as text, and stays text while
//! only such listeners handle it: the text was checked as JSON on arrival,
//! [`Socket::emit_raw`](crate::Socket::emit_raw) and
//! [`AckSender::send_raw`](crate::AckSender::send_raw) copy it into the
//! outgoing frame, and nothing is decoded unless
//! [`values`](RawArgs::values) is asked for. Otherwise (binary arguments,
//! the MessagePack parser, a packet a typed listener had decoded already)
//! they are JSON values whose placeholders `{"_placeholder":true,"num":N}`
//! refer to the attachments.

use std::borrow::Cow;

use bytes::Bytes;
use serde_json::Value;

use crate::parser::{Data, EventJson, Packet};

/// An event's arguments, undecoded JSON text or values, and the binary
/// attachments their placeholders refer to.
///
/// ```
/// use roomcast_socketio::RawArgs;
/// use serde_json::json;
/// let args = RawArgs::new(vec![json!(1), json!("two")], vec![]);
/// assert_eq!(args.values().as_ref(), &[json!(1), json!("two")]);
/// assert!(args.attachments().is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct RawArgs {
    args: Args,
    attachments: Vec<Bytes>,
}

#[derive(Debug, Clone)]
enum Args {
    /// An event's array as received and checked.
    Json(EventJson),
    Values(Vec<Value>),
}

impl RawArgs {
    /// Arguments given as values, placeholders referring to `attachments`.
    pub fn new(args: Vec<Value>, attachments: Vec<Bytes>) -> Self {
        RawArgs {
            args: Args::Values(args),
            attachments,
        }
    }

    /// Takes the arguments and attachments of an event or ack whose data
    /// was checked ([`Packet::check_data`]) or decoded.
    pub(crate) fn take(packet: &mut Packet) -> Self {
        match packet.data.take() {
            Some(Data::Event(event)) => RawArgs {
                args: Args::Json(event),
                attachments: std::mem::take(&mut packet.attachments),
            },
            data => {
                packet.data = data;
                let args = packet.take_args();
                RawArgs::new(args, std::mem::take(&mut packet.attachments))
            }
        }
    }

    /// [`take`](RawArgs::take), copying.
    pub(crate) fn copy(packet: &Packet) -> Self {
        match &packet.data {
            Some(Data::Event(event)) => RawArgs {
                args: Args::Json(event.clone()),
                attachments: packet.attachments.clone(),
            },
            _ => RawArgs::new(packet.args().to_vec(), packet.attachments.clone()),
        }
    }

    /// The arguments as JSON values (decoded from the text, which was
    /// checked on arrival, if they are held as text).
    pub fn values(&self) -> Cow<'_, [Value]> {
        match &self.args {
            Args::Values(values) => Cow::Borrowed(values),
            Args::Json(event) => Cow::Owned(decode(event)),
        }
    }

    /// The values and the attachments, owned.
    pub fn into_parts(self) -> (Vec<Value>, Vec<Bytes>) {
        let values = match self.args {
            Args::Values(values) => values,
            Args::Json(event) => decode(&event),
        };
        (values, self.attachments)
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The arguments' JSON text (between the event name and the closing
    /// `]`), when they are held as text.
    pub(crate) fn json(&self) -> Option<&str> {
        match &self.args {
            Args::Json(event) => Some(event.args_json()),
            Args::Values(_) => None,
        }
    }
}

/// The arguments of a checked event array: decoding cannot fail (the check
/// is the decoder's, building nothing), so a failure is only logged.
fn decode(event: &EventJson) -> Vec<Value> {
    event.args().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "checked event arguments failed to decode");
        Vec::new()
    })
}
