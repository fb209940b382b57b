//! Decisions asked of the running resolver: `kindred review` and `kindred
//! split` with `--live` send them to the decision-request topic, which the
//! resolver service reads in order with the events (as erasure requests),
//! so a reviewer does not stop the service.
//!
//! [`Resolver::apply_request`] carries one out with the request's source
//! offset in the decision's own WriteBatch, and queues a [`DecisionReply`]
//! in the outbox for the decision-outcome topic: applied (the decision's
//! number and the profiles it left) or refused (why). A refused request
//! changes nothing but its offset and its reply. So each request is decided
//! exactly once, whatever crashed when.

use kindred_model::Channel;
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use crate::admin::{AdminError, DecisionOutcome};
use crate::outbox::OutboxEntry;
use crate::resolver::BatchView;
use crate::{BatchOutcome, Resolver, SourceOffset, SplitSelector, StoreError};

/// One request on the decision-request topic (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The caller's id for it; its reply carries it back.
    pub request_id: String,
    /// Who decided (a reviewer's name, or the operator).
    pub actor: String,
    /// When the person decided, ms since the epoch.
    pub at_ms: i64,
    /// `{"review": {...}}` or `{"split": {...}}`.
    pub action: DecisionAction,
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DecisionAction {
    /// `review approve|reject A B`, by profile ids.
    Review { a: String, b: String, approve: bool },
    /// `split PROFILE --identifier | --source`: an identifier by its index
    /// key (`kind:keyed-hash`, never the raw value in a keyed store), or a
    /// channel.
    Split {
        profile: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identifier_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<Channel>,
    },
}

/// What became of a request, for the decision-outcome topic (JSON, keyed by
/// request id). Profile ids and decision numbers; no personal data. Every
/// field is written (null when empty): the outbox's binary encoding reads
/// fields by position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionReply {
    pub request_id: String,
    /// `applied` or `refused`.
    pub outcome: String,
    /// The decision's number and kind (`approve`, `reject`, `split_identifier`, ...).
    #[serde(default)]
    pub decision: Option<u64>,
    #[serde(default)]
    pub kind: Option<String>,
    /// The profiles it left.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// How many profile changes it published.
    #[serde(default)]
    pub changes: usize,
    /// Why it was refused.
    #[serde(default)]
    pub reason: Option<String>,
}

impl DecisionReply {
    pub(crate) fn applied(request_id: &str, done: &crate::DecisionRecord, changes: usize) -> Self {
        DecisionReply {
            request_id: request_id.to_string(),
            outcome: "applied".into(),
            decision: Some(done.id),
            kind: Some(done.kind.as_str().to_string()),
            profiles: done.outcome.clone(),
            changes,
            reason: None,
        }
    }

    pub(crate) fn refused(request_id: &str, reason: String) -> Self {
        DecisionReply {
            request_id: request_id.to_string(),
            outcome: "refused".into(),
            decision: None,
            kind: None,
            profiles: Vec::new(),
            changes: 0,
            reason: Some(reason),
        }
    }
}

/// The request a decision is carried out for: its reply and source offsets
/// go in the decision's WriteBatch.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub(crate) request_id: String,
    pub(crate) offsets: Vec<SourceOffset>,
}

/// What [`Resolver::apply_request`] did.
#[derive(Debug)]
pub struct RequestOutcome {
    pub reply: DecisionReply,
    /// The decision's change events (none when refused).
    pub decided: Option<DecisionOutcome>,
    /// Sequence of the last outbox entry written.
    pub outbox_last: Option<u64>,
    /// An earlier erasure's neighbours, clustered again before the request
    /// in a write of their own (a crash between that erasure's two
    /// writes left them waiting); empty as a rule. Not the decision's: its
    /// reply does not count these changes.
    pub neighbours: BatchOutcome,
}

impl Resolver {
    /// Carries out `request` and records `offsets` (the request's source
    /// position) with it in one write: the decision, or for a refusal
    /// (a profile gone, a pair already one, a split that leaves it whole)
    /// nothing but the reply. A store error is returned as such.
    pub fn apply_request(
        &mut self,
        request: &DecisionRequest,
        offsets: &[SourceOffset],
    ) -> Result<RequestOutcome, StoreError> {
        // Whatever the request's fate, an erasure's waiting neighbours
        // first, as the next batch would have them.
        let neighbours = self.finish_erasure()?;
        self.request = Some(RequestContext {
            request_id: request.request_id.clone(),
            offsets: offsets.to_vec(),
        });
        let (actor, at) = (request.actor.as_str(), request.at_ms);
        let result = match &request.action {
            DecisionAction::Review { a, b, approve } => {
                self.review_now(a, b, *approve, None, actor, at)
            }
            DecisionAction::Split {
                profile,
                identifier_key,
                source,
            } => match (identifier_key, source) {
                (Some(key), None) => {
                    self.split_now(profile, &SplitSelector::IndexKey(key.clone()), actor, at)
                }
                (None, Some(channel)) => {
                    self.split_now(profile, &SplitSelector::Source(*channel), actor, at)
                }
                _ => Err(AdminError::NotSeparable {
                    profile: profile.clone(),
                    reason: "a split request names exactly one of identifier_key or source".into(),
                }),
            },
        };
        self.request = None;
        match result {
            Ok(done) => {
                let reply = DecisionReply::applied(
                    &request.request_id,
                    &done.decision,
                    done.outcome.changes.len(),
                );
                Ok(RequestOutcome {
                    reply,
                    decided: Some(done),
                    outbox_last: self.store.next_outbox_seq()?.checked_sub(1),
                    neighbours,
                })
            }
            Err(AdminError::Store(e)) => Err(e),
            // Answered in the refusal's own write.
            Err(AdminError::Replied(refusal)) => Ok(RequestOutcome {
                reply: DecisionReply::refused(&request.request_id, refusal.to_string()),
                decided: None,
                outbox_last: self.store.next_outbox_seq()?.checked_sub(1),
                neighbours,
            }),
            Err(refusal) => {
                let mut refused =
                    self.refuse_request(&request.request_id, &refusal.to_string(), offsets)?;
                refused.outbox_last = refused.outbox_last.or(neighbours.outbox_last);
                refused.neighbours = neighbours;
                Ok(refused)
            }
        }
    }

    /// Refuses request `request_id` for `reason` (ids and masked
    /// identifiers only): its reply queued, `offsets` recorded, nothing
    /// else changed.
    pub fn refuse_request(
        &mut self,
        request_id: &str,
        reason: &str,
        offsets: &[SourceOffset],
    ) -> Result<RequestOutcome, StoreError> {
        let reply = DecisionReply::refused(request_id, reason.to_string());
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        view.push_outbox(&OutboxEntry::Replied(reply.clone()));
        let outbox_last = view.outbox_last();
        let mut batch: WriteBatch = view.into_write_batch();
        for offset in offsets {
            self.store.put_offset(&mut batch, offset);
        }
        self.store.write(batch)?;
        Ok(RequestOutcome {
            reply,
            decided: None,
            outbox_last,
            neighbours: BatchOutcome::default(),
        })
    }

    /// A view of the store for an operation, carrying the request it is
    /// done for (if any) to [`crate::admin`]'s `decide`.
    pub(crate) fn view(&self) -> Result<BatchView<'_>, StoreError> {
        let mut view = BatchView::new(&self.store, &self.policy, &self.survivorship)?;
        view.request = self.request.clone();
        Ok(view)
    }
}
