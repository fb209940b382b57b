//! Any bytes on the social topic: decoding (Confluent Avro and JSON) and
//! normalization must return a value or a reason, never panic.
#![no_main]

use std::sync::OnceLock;

use kindred_model::raw::{SocialInteraction, RawEvent};
use kindred_normalize::{normalize, NormalizeOptions};
use kindred_schema::{Framing, SchemaKind, WireCodec};
use libfuzzer_sys::fuzz_target;

fn codec() -> &'static WireCodec {
    static CODEC: OnceLock<WireCodec> = OnceLock::new();
    CODEC.get_or_init(|| WireCodec::with_default_ids().expect("embedded schemas parse"))
}

fuzz_target!(|data: &[u8]| {
    for framing in [Framing::Confluent, Framing::Json] {
        if let Ok(record) = codec().decode::<SocialInteraction>(framing, SchemaKind::SocialInteraction, data) {
            let _ = normalize(&RawEvent::Social(record), &NormalizeOptions::default());
        }
    }
});
