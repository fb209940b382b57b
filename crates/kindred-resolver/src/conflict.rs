//! Event ids given to two different events. The resolver applies an event
//! id once (a redelivered event changes nothing), so a source that reuses
//! ids (two tills numbering receipts alike on one topic, a reset counter)
//! would have its second event dropped as a duplicate, silently. Told
//! apart by event time, which a redelivery or a producer's retry keeps and
//! which no normalizer release changes: the service dead-letters such an
//! event, with the reason, instead of dropping it.

use foldhash::{HashMap, HashMapExt};
use kindred_model::CanonicalEvent;

use crate::resolver::as_bytes;
use crate::store::cf;
use crate::{Resolver, StoreError};

/// An event whose id belongs to another event already: one applied to the
/// store, or an earlier one of the same batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictingDuplicate {
    /// Its index in the events checked.
    pub index: usize,
    pub event_id: String,
    /// The event time of the event that keeps the id.
    pub kept_time_ms: i64,
    /// Its own event time.
    pub time_ms: i64,
}

impl Resolver {
    /// The events of `events` (a batch about to be applied, in order) whose
    /// id the store already holds, or an earlier event of the batch has,
    /// for an event of another event time: the first keeps the id. One
    /// batched read of the events' ids; a stored event is decoded only
    /// when its id comes again.
    pub fn conflicting_duplicates(
        &self,
        events: &[&CanonicalEvent],
    ) -> Result<Vec<ConflictingDuplicate>, StoreError> {
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        let stored = self.store.multi_get(cf::CONTRIBUTIONS, &as_bytes(&ids))?;
        let mut first: HashMap<&str, i64> = HashMap::new();
        let mut out = Vec::new();
        for (index, (event, value)) in events.iter().zip(stored).enumerate() {
            let id = event.event_id.as_str();
            let kept = match (first.get(id), value) {
                (Some(t), _) => *t,
                // One the store cannot read back (sealed under a key no
                // longer in the keyring) is left to the batch, which
                // counts a duplicate as it did: a redelivery must not
                // stop the service.
                (None, Some(bytes)) => {
                    match self
                        .store
                        .decode_value::<CanonicalEvent>(cf::CONTRIBUTIONS, id, &bytes)
                    {
                        Ok(applied) => {
                            first.insert(id, applied.event_time_ms);
                            applied.event_time_ms
                        }
                        Err(_) => continue,
                    }
                }
                (None, None) => {
                    first.insert(id, event.event_time_ms);
                    continue;
                }
            };
            if kept != event.event_time_ms {
                out.push(ConflictingDuplicate {
                    index,
                    event_id: id.to_string(),
                    kept_time_ms: kept,
                    time_ms: event.event_time_ms,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use kindred_model::{Channel, Identifier, IdentifierKind};

    use super::*;
    use crate::Store;

    fn sale(id: &str, t: i64, card: &str) -> CanonicalEvent {
        CanonicalEvent::new(
            id,
            Channel::Pos,
            t,
            vec![Identifier::new(IdentifierKind::MemberId, card)],
        )
    }

    /// Till 2 numbers its receipts as till 1 does: its sale `pos:T-1` is
    /// another customer's, at another time. A redelivery of till 1's own
    /// sale is no conflict.
    #[test]
    fn an_event_id_used_again_for_another_event_is_told_from_a_redelivery() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = Resolver::new(Store::open(dir.path()).expect("store"));
        r.apply(&[sale("pos:T-1", 1_000, "default:1")], &[])
            .expect("apply");
        let batch = [
            sale("pos:T-1", 1_000, "default:1"),
            sale("pos:T-1", 5_000, "default:2"),
            sale("pos:T-2", 6_000, "default:3"),
            sale("pos:T-2", 6_000, "default:3"),
            sale("pos:T-2", 7_000, "default:4"),
        ];
        let refs: Vec<&CanonicalEvent> = batch.iter().collect();
        let found = r.conflicting_duplicates(&refs).expect("check");
        assert_eq!(
            found,
            vec![
                ConflictingDuplicate {
                    index: 1,
                    event_id: "pos:T-1".into(),
                    kept_time_ms: 1_000,
                    time_ms: 5_000,
                },
                ConflictingDuplicate {
                    index: 4,
                    event_id: "pos:T-2".into(),
                    kept_time_ms: 6_000,
                    time_ms: 7_000,
                },
            ]
        );
    }
}
