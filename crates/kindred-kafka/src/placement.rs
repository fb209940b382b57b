//! Which partitioner placed a topic's keyed records: librdkafka's own
//! partitioner functions, asked where they put each key.
//!
//! A compacted topic keeps a key's records on one partition only while
//! every producer places the key alike; a store rebuilt from its events
//! must go on with the partitioner its topic was written with, whatever
//! the configuration says now.

use std::os::raw::c_void;

/// The partitioners that place a non-empty key by a hash of it, by the
/// name `[kafka.client] partitioner` gives them, each with the names that
/// place keys alike (the `_random` variants differ for empty keys only).
const HASHED: [(&str, &[&str]); 3] = [
    ("consistent_random", &["consistent_random", "consistent"]),
    ("murmur2_random", &["murmur2_random", "murmur2"]),
    ("fnv1a_random", &["fnv1a_random", "fnv1a"]),
];

/// The partition librdkafka's partitioner named `partitioner` gives a
/// non-empty `key` among `partitions`; `None` for a partitioner that does
/// not place by key (`random`, an unknown name), an empty key or no
/// partitions.
pub fn keyed_partition(partitioner: &str, key: &[u8], partitions: i32) -> Option<i32> {
    if key.is_empty() || partitions < 1 {
        return None;
    }
    let family = HASHED
        .iter()
        .position(|(_, names)| names.contains(&partitioner))?;
    let place = match family {
        0 => rdkafka::bindings::rd_kafka_msg_partitioner_consistent,
        1 => rdkafka::bindings::rd_kafka_msg_partitioner_murmur2,
        _ => rdkafka::bindings::rd_kafka_msg_partitioner_fnv1a,
    };
    // SAFETY: the non-`_random` partitioners read `keylen` bytes of `key`
    // and nothing else (no topic handle, no opaque pointers); the key is
    // non-empty and `partitions` positive (no division by zero).
    Some(unsafe {
        place(
            std::ptr::null(),
            key.as_ptr().cast::<c_void>(),
            key.len(),
            partitions,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    })
}

/// Whether two partitioner names place every non-empty key alike.
pub fn places_alike(a: &str, b: &str) -> bool {
    a == b
        || HASHED
            .iter()
            .any(|(_, names)| names.contains(&a) && names.contains(&b))
}

/// The hashing partitioners that would have placed every one of `records`
/// (partition, key) where it is, among `partitions`: all of them when no
/// record tells them apart (one partition, no keyed records), none when
/// the records were placed otherwise (randomly, by hand, or before
/// partitions were added).
pub fn partitioners_placing<'a>(
    records: impl IntoIterator<Item = (i32, &'a [u8])>,
    partitions: i32,
) -> Vec<&'static str> {
    let mut fitting: Vec<&'static str> = HASHED.iter().map(|(name, _)| *name).collect();
    for (partition, key) in records {
        fitting.retain(|name| {
            keyed_partition(name, key, partitions).is_none_or(|placed| placed == partition)
        });
        if fitting.is_empty() {
            break;
        }
    }
    fitting
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Java's `Utils.murmur2` values (Apache Kafka's `UtilsTest`): what
    /// Kafka Streams and the Java producer place keys with.
    #[test]
    fn murmur2_places_keys_where_the_java_client_does() {
        for (key, java_hash) in [
            ("21", -973932308i32),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            ("abc", 479470107),
        ] {
            let java_partition = (java_hash & 0x7fff_ffff) % 7;
            assert_eq!(
                keyed_partition("murmur2_random", key.as_bytes(), 7),
                Some(java_partition),
                "{key}"
            );
        }
    }

    #[test]
    fn consistent_is_the_crc32_of_the_key() {
        // The CRC-32 check value of "123456789" is 0xCBF43926.
        let expected = (0xCBF4_3926u32 % 1_000) as i32;
        for name in ["consistent", "consistent_random"] {
            assert_eq!(keyed_partition(name, b"123456789", 1_000), Some(expected));
        }
        assert_eq!(keyed_partition("random", b"123456789", 10), None);
        assert_eq!(keyed_partition("consistent", b"", 10), None);
        assert_eq!(keyed_partition("consistent", b"k", 0), None);
    }

    #[test]
    fn the_records_tell_which_partitioner_placed_them() {
        let keys: Vec<String> = (0..40).map(|i| format!("kp-{i:012}")).collect();
        for placed_by in ["consistent_random", "murmur2_random", "fnv1a_random"] {
            let records: Vec<(i32, &[u8])> = keys
                .iter()
                .map(|k| {
                    let p = keyed_partition(placed_by, k.as_bytes(), 6).unwrap_or(-1);
                    (p, k.as_bytes())
                })
                .collect();
            assert_eq!(
                partitioners_placing(records.iter().copied(), 6),
                vec![placed_by]
            );
        }
        // One partition tells nothing apart; a key moved by hand fits none.
        let one: Vec<(i32, &[u8])> = keys.iter().map(|k| (0, k.as_bytes())).collect();
        assert_eq!(partitioners_placing(one.iter().copied(), 1).len(), 3);
        let mut moved: Vec<(i32, &[u8])> = keys
            .iter()
            .map(|k| {
                (
                    keyed_partition("murmur2", k.as_bytes(), 6).unwrap_or(-1),
                    k.as_bytes(),
                )
            })
            .collect();
        moved[7].0 = (moved[7].0 + 1) % 6;
        assert!(!partitioners_placing(moved.iter().copied(), 6).contains(&"murmur2_random"));
        assert!(places_alike("murmur2", "murmur2_random"));
        assert!(!places_alike("murmur2", "consistent_random"));
    }
}
