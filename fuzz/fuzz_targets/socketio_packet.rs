//! Socket.IO packet decoding: the input is split into frames at 0xff bytes;
//! frames starting with 0xfe are binary attachments, the others text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roomcast_socketio::parser::{Decoder, JsonParser};

fuzz_target!(|data: &[u8]| {
    let mut decoder = JsonParser::new().json_decoder();
    for chunk in data.split(|b| *b == 0xff) {
        match chunk.split_first() {
            Some((0xfe, rest)) => {
                let _ = decoder.decode_binary(bytes::Bytes::copy_from_slice(rest));
            }
            _ => {
                if let Ok(text) = std::str::from_utf8(chunk) {
                    if let Ok(Some(packet)) = decoder.decode_text(text) {
                        let _ = packet.decode_args::<roomcast_socketio::Args<serde_json::Value>>();
                        let _ = packet.decode_args::<(Option<String>, Option<bytes::Bytes>)>();
                    }
                }
            }
        }
    }
});
