//! Records as the channel systems emit them, before any cleaning.
//!
//! Field for field these mirror the raw Avro schemas in `schemas/`
//! (`pos_transaction.avsc`, `web_event.avsc`, `social_interaction.avsc`).
//! Values are kept exactly as the source typed them: normalization happens
//! in `kindred-normalize`, never here.

use serde::{Deserialize, Serialize};

use crate::Channel;

/// One sale at a store till.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PosTransaction {
    /// Unique per source system; becomes the stable source event id.
    pub transaction_id: String,
    pub store_id: String,
    pub terminal_id: String,
    pub receipt_no: String,
    pub member_card_no: Option<String>,
    pub phone: Option<String>,
    /// Name as the cashier typed it.
    pub customer_name: Option<String>,
    /// Receipt total in minor units (fen, cents).
    pub amount_minor: i64,
    pub currency: String,
    pub points_earned: i64,
    pub points_redeemed: i64,
    /// Milliseconds since the Unix epoch.
    pub event_time: i64,
}

/// One event from the web shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebEvent {
    pub event_id: String,
    /// signup, login, page_view, add_to_cart, order, profile_update, consent_change.
    pub event_type: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub order_amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub event_time: i64,
}

/// One interaction on a social platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocialInteraction {
    pub event_id: String,
    /// wechat, weibo, douyin, xiaohongshu, instagram, facebook, ...
    pub platform: String,
    pub platform_user_id: String,
    pub handle: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// follow, like, comment, message, mini_program_order.
    pub interaction_type: String,
    pub event_time: i64,
}

/// A raw record of any channel.
#[derive(Debug, Clone, PartialEq)]
pub enum RawEvent {
    Pos(PosTransaction),
    Web(WebEvent),
    Social(SocialInteraction),
}

impl RawEvent {
    pub fn channel(&self) -> Channel {
        match self {
            RawEvent::Pos(_) => Channel::Pos,
            RawEvent::Web(_) => Channel::Web,
            RawEvent::Social(_) => Channel::Social,
        }
    }

    /// The source system's own id for the event.
    pub fn source_id(&self) -> &str {
        match self {
            RawEvent::Pos(e) => &e.transaction_id,
            RawEvent::Web(e) => &e.event_id,
            RawEvent::Social(e) => &e.event_id,
        }
    }
}
