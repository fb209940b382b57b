//! Any bytes on the social topic.
#![no_main]

#[path = "channel.rs"]
mod channel;

channel_target!(SocialInteraction, Social);
