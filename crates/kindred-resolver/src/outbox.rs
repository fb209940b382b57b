//! The transactional outbox: everything the resolver must publish, written
//! in the same RocksDB `WriteBatch` as the state that produced it.
//!
//! The resolver service drains it in Kafka transactions and deletes what
//! was committed (see ARCHITECTURE.md, "Delivery"). Nothing is published
//! straight from a batch: an output either sits in the outbox or was
//! committed to Kafka, so a crash between the state write and the broker
//! loses nothing.

use kindred_model::{GoldenRecord, MergeEvidence, ProfileChange};
use serde::{Deserialize, Serialize};

use crate::resolver::{BatchOutcome, BatchView, QuarantineNotice, Suggestion};
use crate::StoreError;

/// One record waiting to be published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OutboxEntry {
    /// A profile change, for the profile topic.
    Change(Box<ProfileChange>),
    /// An identifier taken out of linking, for the quarantine topic.
    Quarantined(QuarantineNotice),
    /// A pair of profiles to review, for the review topic.
    Review(Box<ReviewNotice>),
    /// A null value for a key of a compacted topic: compaction removes
    /// what the key held (an erased person's records).
    Tombstone(Tombstone),
    /// The audit record of an erasure request, for the audit topic (as an
    /// older release queued it, without its suppression-list entries).
    Audit(crate::AuditRecord),
    /// The audit record of an erasure request with the suppression-list
    /// entries it made, for the audit topic.
    AuditListed(Box<crate::ListedAudit>),
    /// The decisions now pinned on an event, for the compacted decisions
    /// topic (keyed by event id; an empty list is a tombstone): the
    /// `constraints` family's changelog, which `kindred rebuild` reads
    /// back so a store rebuilt without the old volume keeps them.
    Decisions(PinnedEvent),
    /// What became of a decision request, for the decision-outcome topic.
    Replied(crate::request::DecisionReply),
    /// The audit record of an erasure request with its suppression-list
    /// entries and the time their windows run from (`None`: for good):
    /// what this release queues. A window runs from the later of the
    /// request's time and the person's last event, so a request dated
    /// long ago (a portal's resend) does not let the person's own
    /// in-flight events bring them back.
    AuditWindowed {
        listed: Box<crate::ListedAudit>,
        suppressed_from_ms: Option<i64>,
    },
}

/// An event's pinned decisions as the decisions topic carries them (JSON,
/// keyed by `event_id`): decision numbers and sides, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedEvent {
    pub event_id: String,
    pub constraints: Vec<crate::Constraint>,
}

/// [`OutboxEntry`]'s first variants, borrowed: encodes to the same bytes
/// (same variant indices, and a `Box` encodes as what it holds), so a
/// batch's changes are written to the outbox without being cloned.
#[derive(Serialize)]
enum OutboxEntryRef<'a> {
    Change(&'a ProfileChange),
    Quarantined(&'a QuarantineNotice),
}

/// Which record a tombstone removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tombstone {
    /// A profile id's records on the profile topic.
    Profile(String),
    /// A pair's record on the review topic.
    Review {
        profile_a: String,
        profile_b: String,
    },
}

/// A pair of profiles flagged for review, with both golden records as they
/// were when the pair was flagged (the reviewer needs them: the review topic
/// carries personal data and is for reviewers only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewNotice {
    pub profile_a: String,
    pub profile_b: String,
    pub evidence: MergeEvidence,
    /// Which guard refused the link, or `suggest_rule`.
    pub reason: String,
    pub record_a: Option<GoldenRecord>,
    pub record_b: Option<GoldenRecord>,
}

impl crate::store::PendingSuggestion {
    /// The review topic's record of this waiting pair, with the golden
    /// records given (today's, when a pair goes out again).
    pub(crate) fn into_notice(
        self,
        record_a: Option<GoldenRecord>,
        record_b: Option<GoldenRecord>,
    ) -> ReviewNotice {
        ReviewNotice {
            profile_a: self.profile_a,
            profile_b: self.profile_b,
            evidence: MergeEvidence {
                rule: self.rule,
                rule_version: self.rule_version,
                kinds: self.kinds,
            },
            reason: self.reason,
            record_a,
            record_b,
        }
    }
}

impl BatchView<'_> {
    /// Queues everything `outcome` must publish: its changes, quarantines
    /// and review suggestions, in that order, then a tombstone for every
    /// pair this view took out of the review queue (decided, or merged
    /// since), so the compacted review topic drops its golden records.
    pub(crate) fn queue_outputs(&mut self, outcome: &mut BatchOutcome) -> Result<(), StoreError> {
        self.settle_suggestions(outcome)?;
        for change in &outcome.changes {
            self.push_outbox(&OutboxEntryRef::Change(change));
        }
        for notice in &outcome.quarantined {
            self.push_outbox(&OutboxEntryRef::Quarantined(notice));
        }
        for s in &outcome.suggestions {
            let review = ReviewNotice {
                profile_a: s.profile_a.clone(),
                profile_b: s.profile_b.clone(),
                evidence: s.evidence.clone(),
                reason: s.reason.to_string(),
                record_a: self.current_record(&s.profile_a)?,
                record_b: self.current_record(&s.profile_b)?,
            };
            self.push_outbox(&OutboxEntry::Review(Box::new(review)));
        }
        let removed: Vec<(String, String)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(pair, _)| pair.clone())
            .collect();
        for (profile_a, profile_b) in removed {
            self.push_outbox(&OutboxEntry::Tombstone(Tombstone::Review {
                profile_a,
                profile_b,
            }));
        }
        // Decisions this view pinned or lifted.
        let pinned = decisions_entries(self.constraints.iter());
        for entry in &pinned {
            self.push_outbox(entry);
        }
        Ok(())
    }
}

impl BatchView<'_> {
    /// A pair raised earlier in this view whose profile a later event or
    /// recomputation absorbed stands between the profiles the two ended in
    /// (and is dropped when they ended in one, or either is gone), as it
    /// would have been raised had the events come the other way round.
    fn settle_suggestions(&mut self, outcome: &mut BatchOutcome) -> Result<(), StoreError> {
        let mut settled = Vec::with_capacity(outcome.suggestions.len());
        for s in std::mem::take(&mut outcome.suggestions) {
            let a = self.follow_redirects(&s.profile_a)?;
            let b = self.follow_redirects(&s.profile_b)?;
            if a == s.profile_a && b == s.profile_b {
                settled.push(s);
                continue;
            }
            // Queued by this view (a waiting pair is never raised again).
            let raised = self
                .pending
                .remove(&(s.profile_a.clone(), s.profile_b.clone()))
                .flatten();
            let Some(mut pending) = raised else { continue };
            if a == b || !self.store_has_profile(&a)? || !self.store_has_profile(&b)? {
                continue;
            }
            let pair = (a.clone().min(b.clone()), a.max(b));
            if self.is_pending(&pair)? {
                continue;
            }
            pending.profile_a = pair.0.clone();
            pending.profile_b = pair.1.clone();
            self.pending.insert(pair.clone(), Some(pending));
            settled.push(Suggestion {
                profile_a: pair.0,
                profile_b: pair.1,
                ..s
            });
        }
        outcome.suggestions = settled;
        Ok(())
    }
}

/// The decisions topic's records of `lists` (event id, its decisions), in
/// event order.
pub(crate) fn decisions_entries<'a>(
    lists: impl Iterator<Item = (&'a String, &'a Vec<crate::Constraint>)>,
) -> Vec<OutboxEntry> {
    let mut pinned: Vec<(&String, &Vec<crate::Constraint>)> = lists.collect();
    pinned.sort_unstable_by(|a, b| a.0.cmp(b.0));
    pinned
        .into_iter()
        .map(|(event_id, list)| {
            OutboxEntry::Decisions(PinnedEvent {
                event_id: event_id.clone(),
                constraints: list.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::encode;

    #[test]
    fn borrowed_entries_encode_like_the_owned_ones() {
        let mut change = ProfileChange::superseded(
            "kp-000000000002".into(),
            3,
            "pos:e-9".into(),
            "kp-000000000001".into(),
        );
        let event = kindred_model::CanonicalEvent {
            event_id: "pos:e-9".into(),
            channel: kindred_model::Channel::Pos,
            event_time_ms: 1_735_689_600_000,
            identifiers: vec![kindred_model::Identifier::new(
                kindred_model::IdentifierKind::Phone,
                "+8613910248876",
            )],
            attributes: kindred_model::Attributes::default(),
            activity: kindred_model::Activity::default(),
            consents: vec![],
            dropped: vec![],
        };
        change.record = Some(GoldenRecord::new("kp-000000000001".into(), &event));
        change.changed_fields = vec!["identifiers".into()];
        assert_eq!(
            encode(&OutboxEntryRef::Change(&change)),
            encode(&OutboxEntry::Change(Box::new(change.clone())))
        );
        let notice = QuarantineNotice {
            kind: "phone".into(),
            masked: "phone:+86****876".into(),
            digest: "00ff".into(),
            companions: 5,
            at_ms: 1_735_689_600_000,
        };
        assert_eq!(
            encode(&OutboxEntryRef::Quarantined(&notice)),
            encode(&OutboxEntry::Quarantined(notice.clone()))
        );
    }
}
