//! Identity resolution over a RocksDB golden-record store.
//!
//! [`Resolver::apply`] is the whole engine: a batch of canonical events in,
//! the new state (committed as one atomic RocksDB `WriteBatch`, together with
//! the source offsets the batch came from) and the profile change events out.
//! It is deterministic: the same events in the same order give the same state
//! and the same changes, so it is tested without Kafka.
//!
//! Linking rule (first version): two records are one person when they share
//! a normalized identifier (member id, phone, email, social id), transitively.
//! When an event links several profiles, the oldest profile survives and
//! absorbs the others, which keep resolving to it through redirects.

mod resolver;
mod store;

pub use resolver::{BatchOutcome, Resolver};
pub use store::{SourceOffset, Store, StoreError, StoreOptions, StoreStats};
