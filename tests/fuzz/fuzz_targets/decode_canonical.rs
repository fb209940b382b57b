//! Any bytes on the canonical topic: decoding returns an event or a reason.
#![no_main]

use std::sync::OnceLock;

use kindred_model::CanonicalEvent;
use kindred_schema::{Framing, SchemaKind, WireCodec};
use libfuzzer_sys::fuzz_target;

fn codec() -> &'static WireCodec {
    static CODEC: OnceLock<WireCodec> = OnceLock::new();
    CODEC.get_or_init(|| WireCodec::with_default_ids().expect("embedded schemas parse"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = codec().decode::<CanonicalEvent>(Framing::Confluent, SchemaKind::CanonicalEvent, data) {
        // What decodes must encode again (the resolver re-publishes it).
        let _ = codec().encode(SchemaKind::CanonicalEvent, &event);
    }
});
