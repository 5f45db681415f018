//! Engine.IO packet decoding of arbitrary text and binary frames.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roomcast_core::{Frame, Text};

fuzz_target!(|data: &[u8]| {
    let frame = match Text::from_utf8(bytes::Bytes::copy_from_slice(data)) {
        Ok(text) => Frame::Text(text),
        Err(_) => Frame::binary(data.to_vec()),
    };
    let _ = roomcast_engineio::decode_packet(frame);
});
