//! Long-polling payload decoding: never panics; valid payloads round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roomcast_transport_polling::payload;

fuzz_target!(|data: &[u8]| {
    if let Ok(frames) = payload::decode(bytes::Bytes::copy_from_slice(data)) {
        let again = payload::decode(payload::encode(&frames)).expect("re-encoded payload decodes");
        assert_eq!(again, frames);
    }
});
