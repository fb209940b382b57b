//! Shared body of the per-channel decode targets: any bytes on a channel's
//! topic, decoded as Confluent Avro and as JSON, then normalized, must give
//! a value or a reason, never a panic.

/// Defines the fuzz target for one raw record type and its `RawEvent` variant.
#[macro_export]
macro_rules! channel_target {
    ($ty:ident, $variant:ident) => {
        use std::sync::OnceLock;

        use kindred_model::raw::{$ty, RawEvent};
        use kindred_normalize::{normalize, NormalizeOptions};
        use kindred_schema::{Framing, SchemaKind, WireCodec};
        use libfuzzer_sys::fuzz_target;

        fn codec() -> &'static WireCodec {
            static CODEC: OnceLock<WireCodec> = OnceLock::new();
            CODEC.get_or_init(|| WireCodec::with_default_ids().expect("embedded schemas parse"))
        }

        fuzz_target!(|data: &[u8]| {
            for framing in [Framing::Confluent, Framing::Json] {
                if let Ok(record) = codec().decode::<$ty>(framing, SchemaKind::$ty, data) {
                    let _ = normalize(&RawEvent::$variant(record), &NormalizeOptions::default());
                }
            }
        });
    };
}
