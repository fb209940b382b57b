//! Any bytes on the web topic.
#![no_main]

#[path = "channel.rs"]
mod channel;

channel_target!(WebEvent, Web);
