//! Identity resolution over a RocksDB golden-record store.
//!
//! [`Resolver::apply`] is the whole engine: a batch of canonical events in,
//! the new state (committed as one atomic RocksDB `WriteBatch`, together with
//! the source offsets the batch came from) and the profile change events out.
//!
//! - `keys`: what an event offers to linking (identifier and rule keys, a
//!   folded name, member cards, companions for the quarantine guard);
//! - `cluster`: the deterministic core, a set of events in, people out,
//!   independent of arrival order; no I/O;
//! - `resolver`: applies events incrementally where that provably gives the
//!   same result, and re-partitions the affected profiles with `cluster`
//!   otherwise; writes profiles, contributions, index entries, redirects and
//!   lineage;
//! - `store`: the column families and their encodings.

mod cluster;
mod keys;
mod resolver;
mod store;

pub use resolver::{BatchOutcome, Resolver, Suggestion};
pub use store::{
    Holder, IndexEntry, LineageRecord, SourceOffset, Store, StoreError, StoreOptions, StoreStats,
    StoredProfile,
};
