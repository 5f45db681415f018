//! An `EVENT`'s data as it arrived: [`EventJson`].
//!
//! The JSON decoder reads an `EVENT`'s name at once (routing needs it) and
//! keeps the rest of the array as text. What happens to the text is decided
//! where the event is delivered, by who listens:
//!
//! - a catch-all or a packet middleware, which take values, gets the array
//!   decoded into [`serde_json::Value`]s, once;
//! - otherwise the text is [checked](EventJson::check) and stays text: a
//!   typed listener reads its arguments from it straight into its type
//!   (`parser::de_text`), and a listener that relays the arguments
//!   ([`Socket::on_raw`]) gets the text, which an emit copies into the
//!   outgoing frame.
//!
//! Either way the whole array is checked as JSON before any listener runs,
//! with the nesting limit the decoder applies to values (127 open
//! containers): a packet that is not valid JSON closes its connection, as
//! if the decoder had refused it.
//!
//! [`Socket::on_raw`]: crate::Socket::on_raw

use roomcast_core::Text;
use serde_json::Value;
use smol_str::SmolStr;

use super::{json_check, DecodeError};

/// An `EVENT`'s array `["name", args...]` as received: the name read, the
/// arguments kept as JSON text.
///
/// ```
/// use roomcast_socketio::parser::EventJson;
/// let event = EventJson::read(r#"["chat", 1, {"a": "b"}]"#).unwrap();
/// assert_eq!(event.name(), "chat");
/// event.check().unwrap();
/// assert_eq!(event.args_json(), r#" 1, {"a": "b"}"#);
/// assert_eq!(event.args().unwrap(), vec![serde_json::json!(1), serde_json::json!({"a": "b"})]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventJson {
    /// The whole array, as received: a slice of the frame it came in.
    text: Text,
    /// The event name, unescaped.
    name: SmolStr,
    /// Where the first argument starts, or where the closing `]` is.
    args_at: usize,
}

impl EventJson {
    /// Reads the event name of `text`, which must be a JSON array starting
    /// with a string; the arguments are not looked at (see
    /// [`check`](EventJson::check)). `None` when `text` does not start that
    /// way: decode it as a value, which says what is wrong.
    pub fn read(text: &str) -> Option<EventJson> {
        EventJson::read_shared(Text::from(text))
    }

    /// [`read`](EventJson::read), keeping `text` (a slice of the frame)
    /// instead of a copy.
    pub(crate) fn read_shared(shared: Text) -> Option<EventJson> {
        let text = shared.as_str();
        let after_open = text
            .trim_ascii_start()
            .strip_prefix('[')?
            .trim_ascii_start();
        let token_len = string_token_len(after_open)?;
        let (token, after_name) = after_open.split_at_checked(token_len)?;
        let name = match token.get(1..token_len - 1) {
            // A control character is refused by the check.
            Some(name) if !name.contains('\\') => SmolStr::from(name),
            _ => SmolStr::from(serde_json::from_str::<String>(token).ok()?),
        };
        let rest = after_name.trim_ascii_start();
        let args_at = text.len() - rest.len() + usize::from(rest.starts_with(','));
        if !(rest.starts_with(',') || rest.starts_with(']')) {
            return None;
        }
        Some(EventJson {
            text: shared,
            name,
            args_at,
        })
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event name as kept (a copy is a copy of its 24 bytes).
    pub(crate) fn name_smol(&self) -> &SmolStr {
        &self.name
    }

    /// The whole array, as received.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// Checks that the whole array is valid JSON nested at most 127 deep,
    /// building nothing: what decoding it into values accepts, and also
    /// lone surrogate escapes and numbers out of `f64`'s range, which are
    /// relayed as they are (see `json_check`).
    pub fn check(&self) -> Result<(), DecodeError> {
        if json_check::is_valid(self.text.as_str()) {
            return Ok(());
        }
        // Refused: serde_json says why (and it is never more lenient).
        self.to_value().map(drop)
    }

    /// The whole array decoded, name first.
    pub fn to_value(&self) -> Result<Value, DecodeError> {
        serde_json::from_str(self.text.as_str()).map_err(DecodeError::InvalidJson)
    }

    /// The arguments decoded (the name left out).
    pub fn args(&self) -> Result<Vec<Value>, DecodeError> {
        match self.to_value()? {
            Value::Array(mut items) => {
                items.remove(0);
                Ok(items)
            }
            // `read` saw an array.
            _ => Ok(Vec::new()),
        }
    }

    /// The arguments' text, between the name's `,` and the closing `]`
    /// (empty when there are none). Meaningful once
    /// [`check`](EventJson::check) passed.
    pub fn args_json(&self) -> &str {
        let text = self.text.as_str();
        let end = text
            .trim_ascii_end()
            .strip_suffix(']')
            .map_or(self.args_at, str::len);
        text.get(self.args_at..end).unwrap_or_default()
    }
}

/// The length of the JSON string token `s` starts with (quotes included),
/// if it starts with one; escapes are skipped, not checked.
fn string_token_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn reads_the_name_and_finds_the_arguments() {
        let e = EventJson::read(r#"["a\"b",1]"#).unwrap();
        assert_eq!((e.name(), e.args_json()), ("a\"b", "1"));
        let e = EventJson::read(r#" [ "x" ] "#).unwrap();
        assert_eq!((e.name(), e.args_json()), ("x", ""));
        let e = EventJson::read(r#"["x" , "y" ,2 ]"#).unwrap();
        assert_eq!((e.name(), e.args_json()), ("x", r#" "y" ,2 "#));
        assert_eq!(e.args().unwrap(), vec![json!("y"), json!(2)]);
        for not_an_event in [r#"{"a":1}"#, "[1]", "[]", r#"["x""#, r#"["x" 1]"#, r#""x""#] {
            assert_eq!(EventJson::read(not_an_event), None, "{not_an_event}");
        }
    }

    #[test]
    fn check_refuses_what_value_decoding_refuses() {
        let deep = format!("[\"e\",{}1{}]", "[".repeat(200), "]".repeat(200));
        let fine = format!("[\"e\",{}1{}]", "[".repeat(100), "]".repeat(100));
        for (text, ok) in [
            (r#"["e",1,]"#, false),
            (r#"["e",1]x"#, false),
            (r#"["e",{"a":}]"#, false),
            (r#"["e","\q"]"#, false),
            ("[\"a\u{1}\",1]", false),
            (r#"["e",{"a":[1,{"b":null}]},"s",-1.5e3,true]"#, true),
            (deep.as_str(), false),
            (fine.as_str(), true),
        ] {
            let e = EventJson::read(text).unwrap();
            assert_eq!(e.check().is_ok(), ok, "{text}");
            assert_eq!(serde_json::from_str::<Value>(text).is_ok(), ok, "{text}");
        }
    }

    fn arg() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[ -~\\n\"\\\\é]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z\"]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any event array, compact or pretty: the name and the arguments
        /// come back, and the argument text is exactly the arguments.
        #[test]
        fn round_trips(name in "[ -~é]{0,8}", args in prop::collection::vec(arg(), 0..4), pretty: bool) {
            let mut array = vec![Value::from(name.clone())];
            array.extend(args.iter().cloned());
            let text = if pretty {
                serde_json::to_string_pretty(&array).unwrap()
            } else {
                serde_json::to_string(&array).unwrap()
            };
            let e = EventJson::read(&text).unwrap();
            prop_assert_eq!(e.name(), name.as_str());
            prop_assert!(e.check().is_ok());
            prop_assert_eq!(e.args().unwrap(), args.clone());
            let relayed: Vec<Value> = serde_json::from_str(&format!("[{}]", e.args_json())).unwrap();
            prop_assert_eq!(relayed, args);
        }
    }
}
