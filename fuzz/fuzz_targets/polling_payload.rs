//! Long-polling payload decoding: never panics; valid payloads round-trip.
//! The Engine.IO v3 forms (text and binary) never panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roomcast_transport_polling::{payload, payload_v3};

fuzz_target!(|data: &[u8]| {
    let body = bytes::Bytes::copy_from_slice(data);
    let _ = payload_v3::decode(body.clone(), false);
    let _ = payload_v3::decode(body, true);
    if let Ok(frames) = payload::decode(bytes::Bytes::copy_from_slice(data)) {
        let again = payload::decode(payload::encode(&frames)).expect("re-encoded payload decodes");
        assert_eq!(again, frames);
    }
});
