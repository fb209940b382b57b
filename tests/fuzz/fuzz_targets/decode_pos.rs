//! Any bytes on the pos topic.
#![no_main]

#[path = "channel.rs"]
mod channel;

channel_target!(PosTransaction, Pos);
