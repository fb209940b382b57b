//! Records as the channel systems emit them, before any cleaning.
//!
//! Field for field these mirror the raw Avro schemas in `schemas/`
//! (`pos_transaction.avsc`, `web_event.avsc`, `social_interaction.avsc`).
//! Values are kept exactly as the source typed them: normalization happens
//! in `kindred-normalize`, never here. Every field a source may omit is an
//! `Option` (or an empty list), with a default in the schema, so older
//! producers keep working as the schemas grow.

use serde::{Deserialize, Serialize};

use crate::Channel;

/// One line of a receipt or order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub sku: String,
    pub quantity: i32,
    /// Price of one unit in minor units (fen, cents).
    pub unit_price_minor: i64,
}

/// A postal address as a form or cashier captured it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// Country name or code as typed.
    pub country: Option<String>,
}

impl RawAddress {
    /// Its six fields, in order: line 1, line 2, city, region, postal
    /// code, country.
    pub fn fields(&self) -> [&Option<String>; 6] {
        [
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
    }
}

/// A consent given or withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawConsent {
    /// What for, e.g. `marketing`, `personalised_ads`, `profiling`.
    pub purpose: String,
    /// Through which channel, e.g. `email`, `sms`, `push`, `wechat`, `all`.
    pub channel: String,
    pub granted: bool,
}

/// One sale at a store till.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PosTransaction {
    /// Unique per source system; becomes the stable source event id.
    pub transaction_id: String,
    pub store_id: String,
    pub terminal_id: String,
    pub receipt_no: String,
    pub cashier_id: Option<String>,
    /// Loyalty program of the card (the configured default when absent).
    pub loyalty_program: Option<String>,
    pub member_card_no: Option<String>,
    pub phone: Option<String>,
    /// Name as the cashier typed it.
    pub customer_name: Option<String>,
    /// Receipt total in minor units (fen, cents); negative for a refund.
    pub amount_minor: i64,
    pub currency: String,
    pub line_items: Vec<LineItem>,
    pub points_earned: i64,
    pub points_redeemed: i64,
    /// cash, bank_card, alipay, wechat_pay, gift_card, ...
    pub payment_type: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub event_time: i64,
}

/// An order placed in the web shop or a social mini-program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawOrder {
    pub order_id: String,
    pub total_minor: i64,
    pub currency: String,
    pub lines: Vec<LineItem>,
    pub points_earned: i64,
    pub points_redeemed: i64,
}

/// One event from the web shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebEvent {
    pub event_id: String,
    /// signup, login, page_view, add_to_cart, order, profile_update, consent_change.
    pub event_type: String,
    /// The shop account id, once the visitor is logged in.
    pub user_id: Option<String>,
    /// Cookie or device id of the browser.
    pub anonymous_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Full name when the form has a single field.
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// As typed: `1990-05-17`, `17/05/1990`, `1990年5月17日`, ...
    pub birthday: Option<String>,
    pub gender: Option<String>,
    pub address: Option<RawAddress>,
    /// The product viewed or added to the cart.
    pub sku: Option<String>,
    pub order: Option<RawOrder>,
    /// Deprecated since `web_event` version 2 (use `order`): the order total
    /// as version 1 producers send it.
    pub order_amount_minor: Option<i64>,
    /// Deprecated since `web_event` version 2 (use `order`).
    pub currency: Option<String>,
    pub consents: Vec<RawConsent>,
    pub event_time: i64,
}

/// One interaction on a social platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocialInteraction {
    pub event_id: String,
    /// wechat, weibo, douyin, xiaohongshu, instagram, facebook, ...
    pub platform: String,
    /// The platform's user id for this brand's app (e.g. a WeChat openid).
    pub platform_user_id: String,
    /// A cross-app id where the platform has one (e.g. a WeChat unionid).
    pub union_id: Option<String>,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// follow, like, comment, message, mini_program_order.
    pub interaction_type: String,
    pub sku: Option<String>,
    pub order: Option<RawOrder>,
    pub event_time: i64,
}

/// A raw record of any channel.
// Web events are the largest variant; boxing them would cost an allocation
// per message on the ingest hot path, and these values are short-lived.
#[allow(clippy::large_enum_variant)]
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

    /// When the event happened, in ms since the Unix epoch.
    pub fn event_time(&self) -> i64 {
        match self {
            RawEvent::Pos(e) => e.event_time,
            RawEvent::Web(e) => e.event_time,
            RawEvent::Social(e) => e.event_time,
        }
    }
}
