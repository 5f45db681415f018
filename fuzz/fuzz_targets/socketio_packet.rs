//! Socket.IO packet decoding: the input is split into frames at 0xff bytes;
//! frames starting with 0xfe are binary attachments, the others text. An
//! event kept as text is checked, and the check must accept whatever
//! serde_json decodes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roomcast_socketio::parser::{Data, Decoder, JsonParser};

fuzz_target!(|data: &[u8]| {
    let mut decoder = JsonParser::new().json_decoder();
    for chunk in data.split(|b| *b == 0xff) {
        match chunk.split_first() {
            Some((0xfe, rest)) => {
                let _ = decoder.decode_binary(bytes::Bytes::copy_from_slice(rest));
            }
            _ => {
                if let Ok(text) = std::str::from_utf8(chunk) {
                    if let Ok(Some(mut packet)) = decoder.decode_text(text) {
                        if let Some(Data::Event(event)) = &packet.data {
                            let decodes = event.to_value().is_ok();
                            assert!(!decodes || event.check().is_ok(), "stricter than serde_json");
                        }
                        if packet.check_data().is_ok() {
                            let _ = packet.decode_data();
                        }
                        let _ = packet.decode_args::<roomcast_socketio::Args<serde_json::Value>>();
                        let _ = packet.decode_args::<(Option<String>, Option<bytes::Bytes>)>();
                    }
                }
            }
        }
    }
});
