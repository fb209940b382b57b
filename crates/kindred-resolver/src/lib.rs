//! Identity resolution over a RocksDB golden-record store.
//!
//! [`Resolver::apply`] is the whole engine: a batch of canonical events in,
//! the new state (committed as one atomic RocksDB `WriteBatch`, together with
//! the source offsets the batch came from) and the profile change events out.
//!
//! - `keys`: what an event offers to linking (identifier and rule keys, a
//!   folded name, member cards, companions for the quarantine guard);
//! - `score`: the typo-tolerant attribute comparison of scored match rules;
//! - `cluster`: the deterministic core, a set of events in, people out,
//!   independent of arrival order; no I/O;
//! - `resolver`: applies events incrementally where that provably gives the
//!   same result, and re-partitions the affected profiles with `cluster`
//!   otherwise; writes profiles, contributions, index entries, redirects and
//!   lineage;
//! - `decision`: decisions by people (review approve/reject, split), pinned
//!   on events as constraints the clustering honours;
//! - `admin`: the operations behind `kindred review`, `split`, `explain` and
//!   `rules diff|apply`;
//! - `erase`: the right to be forgotten (erasure, suppression, audit);
//! - `request`: decisions asked of the running resolver on a topic;
//! - `protect`: keyed index keys and sealed values (personal data at rest);
//! - `outbox`: what a batch must publish, written with its state;
//! - `store`: the column families and their encodings.

mod admin;
mod cluster;
mod conflict;
mod decision;
mod erase;
mod keys;
mod names;
mod nicknames;
mod outbox;
mod protect;
mod published;
mod request;
mod resolver;
mod score;
mod store;

pub use admin::{
    policy_fingerprint, AdminError, DecisionOutcome, Explanation, PlannedGroup, PlannedSuggestion,
    RecordLinks, RulesPlan, MAX_EXPLAINED_RECORDS,
};
pub use cluster::Refusal;
pub use conflict::ConflictingDuplicate;
pub use decision::{Constraint, DecisionKind, DecisionRecord, SplitSelector};
pub use erase::{
    AuditRecord, Erasure, ErasureOutcome, ErasureRequest, ErasureTarget, ListedAudit, ERASED,
    MAX_LISTED_SUPPRESSIONS, MIN_REQUEST_TIME_MS,
};
pub use outbox::{OutboxEntry, PinnedEvent, ReviewNotice, Tombstone};
pub use protect::index_key;
pub use published::{Published, PublishedKey, Reconciled};
pub use request::{DecisionAction, DecisionReply, DecisionRequest, RequestOutcome};
pub use resolver::{
    profile_seq, BatchOutcome, QuarantineNotice, Resolver, SharedNotice, Suggestion,
    PROFILE_ID_PREFIX,
};
pub use store::{
    BackgroundTask, EngineStats, GuardState, Holder, IndexEntry, LineageRecord, PendingSuggestion,
    PinnedDecisions, SourceOffset, Store, StoreError, StoreOptions, StoreStats, StoredProfile,
    ERASED_VALUES_GONE_SECS, LINKING_VERSION,
};
