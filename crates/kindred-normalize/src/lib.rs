//! Normalization: raw channel records in, canonical events out.
//!
//! Every function here is pure and total: it never panics, on any input. A
//! record that cannot be an event at all (no source id, an impossible event
//! time) is an [`InvalidRecord`], which the ingest service dead-letters. A
//! value that cannot be used (an invalid phone, a junk email, an impossible
//! birthday) is *dropped* with a low-cardinality reason
//! ([`kindred_model::Dropped`]); the event itself is always kept.
//!
//! Normalizing an already normalized value changes nothing (idempotence).

mod address;
mod consent;
mod date;
mod date_words;
mod email;
mod endonyms;
mod ids;
mod name;
mod options;
mod phone;
mod street_words;
mod surname;
mod text;

use chrono::DateTime;
use kindred_model::raw::{PosTransaction, RawEvent, RawOrder, SocialInteraction, WebEvent};
use kindred_model::{
    Activity, Attributes, CanonicalEvent, Channel, Consent, Dropped, Identifier, IdentifierKind,
    Order,
};

pub use address::{
    normalize_address, normalize_currency, normalize_gender, postal_code_digits, street_word,
};
/// Re-exported for callers of [`normalize_birthday`].
pub use chrono::NaiveDate;
pub use consent::{
    consent_statements, normalize_consent_channel, normalize_consent_purpose, normalize_label,
};
pub use date::normalize_birthday;
pub use email::{is_email_shaped, normalize_email, Email};
pub use ids::{
    normalize_member_card, normalize_namespaced_id, normalize_platform, normalize_program,
};
pub use name::{names, normalize_name, Names};
pub use options::{DateOrder, NormalizeOptions};
use phone::grouped_as_there;
pub use phone::{
    clear_phone_memo, normalize_phone, normalize_phone_in, phone_line, region_of_currency,
    through_trunk_prefix, typed_as_written_nationally, typed_in_national_groups,
    typed_internationally, PhoneLine,
};
pub use surname::{
    expand_iteration_marks, family_name_len, family_name_len_beside,
    family_name_len_in_given_field, is_chinese_surname, is_cjk_family_name, is_kana,
    surname_reading, CHINESE_SURNAMES, COMPOUND_SURNAMES, ITERATION_MARK, KOREAN_COMPOUND_SURNAMES,
    KOREAN_RARE_FIRST_COMPOUNDS, SURNAME_READINGS,
};
pub use text::{fold, is_combining_mark, is_name_apostrophe, push_name_letter, Rejected};

/// Event times outside [2000-01-01, 2100-01-01) are not believable.
const MIN_EVENT_TIME_MS: i64 = 946_684_800_000;
const MAX_EVENT_TIME_MS: i64 = 4_102_444_800_000;

/// Money amounts beyond ±10^15 minor units (ten trillion in a currency of
/// cents) and points beyond ±10^12 are not believable; kept, they would
/// overflow a profile's totals.
const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;
const MAX_POINTS: i64 = 1_000_000_000_000;

/// The longest source event id (after folding) an event may have. The id
/// is a key in Kafka and in the store, repeated in every change that cites
/// the event; transaction numbers and UUIDs are far shorter.
pub const MAX_SOURCE_ID_BYTES: usize = 256;

/// The longest text field (bytes, before cleaning) normalization reads: a
/// phone, e-mail, name, birthday, id, sku, event type or address line. A
/// longer value ([`too_long`]: also one NFKC expands past twice this) is
/// dropped as `too_long`; the event is kept. Real values are far
/// shorter; without a bound, one field could make parsing (and the
/// resolver's name comparison, quadratic in tokens) slow for everyone.
pub const MAX_FIELD_BYTES: usize = 512;

/// Most consents one event may carry; past it each is dropped as `too_long`.
pub const MAX_CONSENTS: usize = 64;

/// Most line items one order may carry; past it each is dropped as
/// `too_long` (the order and its total stay).
pub const MAX_ORDER_LINES: usize = 500;

/// Whether a text field is too long to read: over [`MAX_FIELD_BYTES`] as
/// sent, or over twice that once Unicode NFKC has expanded it. A few
/// compatibility characters expand a dozen times (`\u{FDFA}` is 33 bytes
/// of Arabic), so 510 bytes of them made a 5.6 KB street line, compared
/// letter by letter with every other in its block.
pub fn too_long(raw: &str) -> bool {
    use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
    // Text already in NFKC (ASCII, most CJK) does not expand: the quick
    // check, a table lookup per character, spares it the normalization.
    raw.len() > MAX_FIELD_BYTES
        || (!raw.is_ascii()
            && is_nfkc_quick(raw.chars()) != IsNormalized::Yes
            && raw
                .nfkc()
                .try_fold(0usize, |n, c| {
                    let n = n + c.len_utf8();
                    (n <= 2 * MAX_FIELD_BYTES).then_some(n)
                })
                .is_none())
}

/// A record that cannot become a canonical event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRecord {
    #[error("the record has no source event id, so it cannot be de-duplicated")]
    MissingSourceId,
    #[error("the source event id is {bytes} bytes long, more than the {MAX_SOURCE_ID_BYTES} an id may have")]
    SourceIdTooLong { bytes: usize },
    #[error("event time {0} ms is outside 2000-01-01..2100-01-01")]
    EventTimeOutOfRange(i64),
    #[error("event time {event_ms} ms is more than {ahead_secs} s ahead of the clock ({now_ms} ms): a wrong clock at the source")]
    EventTimeInFuture {
        event_ms: i64,
        now_ms: i64,
        ahead_secs: u64,
    },
    #[error("{field} {value} is beyond the ±{limit} normalization keeps")]
    OutOfRange {
        field: &'static str,
        value: i64,
        limit: i64,
    },
    #[error("{field} is {size} long, more than the {limit} normalization keeps")]
    TooLarge {
        field: &'static str,
        /// Bytes of a text, or items of a list.
        size: String,
        limit: String,
    },
}

impl InvalidRecord {
    /// Stable name for the dead-letter reason.
    pub fn kind(&self) -> &'static str {
        match self {
            InvalidRecord::MissingSourceId => "missing_source_id",
            InvalidRecord::SourceIdTooLong { .. } => "source_id_too_long",
            InvalidRecord::EventTimeOutOfRange(_) => "event_time_out_of_range",
            InvalidRecord::EventTimeInFuture { .. } => "event_time_in_future",
            InvalidRecord::OutOfRange { .. } => "value_out_of_range",
            InvalidRecord::TooLarge { .. } => "too_large",
        }
    }
}

/// The longest text a canonical event holds where normalization made it:
/// a raw value of [`MAX_FIELD_BYTES`] at most, twice that once Unicode
/// NFKC has expanded it ([`too_long`]).
pub const MAX_CANONICAL_TEXT_BYTES: usize = 2 * MAX_FIELD_BYTES;

/// The most identifiers normalization gives one event (one per field of
/// its channel's schema: a handful); far more is another producer's.
pub const MAX_IDENTIFIERS: usize = 64;

/// The most consent statements normalization gives one event: each of
/// [`MAX_CONSENTS`] consents names a few purposes and channels.
pub const MAX_CONSENT_STATEMENTS: usize = 16 * MAX_CONSENTS;

/// Whether a canonical event keeps the bounds [`normalize`] keeps: a source
/// id (after its channel's prefix) at most [`MAX_SOURCE_ID_BYTES`] long, a believable event
/// time, points and an order total in range. The resolver checks what it
/// reads from the canonical topic (any producer with access can write
/// there): its totals are the same in any order of events only while no sum
/// saturates, and its records are cut to Kafka's size with ids this short.
pub fn check_canonical(e: &CanonicalEvent) -> Result<(), InvalidRecord> {
    // The source's id after its channel's prefix ([`event_id`]).
    let source_id = e
        .event_id
        .strip_prefix(e.channel.as_str())
        .and_then(|id| id.strip_prefix(':'))
        .unwrap_or(&e.event_id);
    if source_id.trim().is_empty() {
        return Err(InvalidRecord::MissingSourceId);
    }
    if source_id.len() > MAX_SOURCE_ID_BYTES {
        return Err(InvalidRecord::SourceIdTooLong {
            bytes: source_id.len(),
        });
    }
    if !(MIN_EVENT_TIME_MS..MAX_EVENT_TIME_MS).contains(&e.event_time_ms) {
        return Err(InvalidRecord::EventTimeOutOfRange(e.event_time_ms));
    }
    check_canonical_sizes(e)?;
    let a = &e.activity;
    let values = [
        ("points_earned", a.points_earned, MAX_POINTS),
        ("points_redeemed", a.points_redeemed, MAX_POINTS),
        (
            "amount_minor",
            a.order.as_ref().map_or(0, |o| o.amount_minor),
            MAX_AMOUNT_MINOR,
        ),
    ];
    for (field, value, limit) in values {
        if value.unsigned_abs() > limit.unsigned_abs() {
            return Err(InvalidRecord::OutOfRange {
                field,
                value,
                limit,
            });
        }
    }
    Ok(())
}

/// The identifiers of a canonical event against what normalization makes:
/// 40,000 phones on one event (each a companion of every other) stalled
/// the resolver; no release made more than a handful, or a value longer
/// than [`MAX_CANONICAL_TEXT_BYTES`].
fn check_canonical_sizes(e: &CanonicalEvent) -> Result<(), InvalidRecord> {
    if e.identifiers.len() > MAX_IDENTIFIERS {
        return Err(InvalidRecord::TooLarge {
            field: "identifiers",
            size: format!("{} items", e.identifiers.len()),
            limit: format!("{MAX_IDENTIFIERS}"),
        });
    }
    for id in &e.identifiers {
        if id.value.len() > MAX_CANONICAL_TEXT_BYTES {
            return Err(InvalidRecord::TooLarge {
                field: "identifier",
                size: format!("{} bytes", id.value.len()),
                limit: format!("{MAX_CANONICAL_TEXT_BYTES} bytes"),
            });
        }
    }
    Ok(())
}

/// Cuts a canonical event's texts and lists to what normalization keeps
/// (texts to [`MAX_CANONICAL_TEXT_BYTES`] at a character boundary, order
/// lines and browsed skus to [`MAX_ORDER_LINES`], consent statements to
/// [`MAX_CONSENT_STATEMENTS`]), and says which fields it cut. The resolver
/// applies it to what it reads from the canonical topic, before
/// [`check_canonical`]: a 400 KB name (compared by Jaro-Winkler,
/// quadratic, with every name on its phone) stalled it, and an event an
/// older release made before these bounds (a 600-line receipt) must still
/// replay, its links intact, rather than be refused.
pub fn bound_canonical(e: &mut CanonicalEvent) -> Vec<&'static str> {
    fn cut(field: &'static str, text: &mut String, cut_fields: &mut Vec<&'static str>) {
        if text.len() > MAX_CANONICAL_TEXT_BYTES {
            let mut end = MAX_CANONICAL_TEXT_BYTES;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            cut_fields.push(field);
        }
    }
    fn cut_list<T>(
        field: &'static str,
        list: &mut Vec<T>,
        limit: usize,
        cut_fields: &mut Vec<&'static str>,
    ) {
        if list.len() > limit {
            list.truncate(limit);
            cut_fields.push(field);
        }
    }
    let mut cut_fields = Vec::new();
    let a = &mut e.attributes;
    for (field, text) in [
        ("full_name", &mut a.full_name),
        ("given_name", &mut a.given_name),
        ("family_name", &mut a.family_name),
        ("birthday", &mut a.birthday),
        ("gender", &mut a.gender),
    ] {
        if let Some(t) = text {
            cut(field, t, &mut cut_fields);
        }
    }
    if let Some(address) = &mut a.address {
        for text in [
            &mut address.line1,
            &mut address.line2,
            &mut address.city,
            &mut address.region,
            &mut address.postal_code,
            &mut address.country,
        ]
        .into_iter()
        .flatten()
        {
            cut("address", text, &mut cut_fields);
        }
    }
    let activity = &mut e.activity;
    cut("event_type", &mut activity.event_type, &mut cut_fields);
    cut_list(
        "browsed_skus",
        &mut activity.browsed_skus,
        MAX_ORDER_LINES,
        &mut cut_fields,
    );
    for sku in &mut activity.browsed_skus {
        cut("browsed_skus", sku, &mut cut_fields);
    }
    if let Some(order) = &mut activity.order {
        cut("order", &mut order.order_id, &mut cut_fields);
        cut("order", &mut order.currency, &mut cut_fields);
        for text in [&mut order.payment_type, &mut order.store_id]
            .into_iter()
            .flatten()
        {
            cut("order", text, &mut cut_fields);
        }
        cut_list(
            "order_lines",
            &mut order.lines,
            MAX_ORDER_LINES,
            &mut cut_fields,
        );
        for line in &mut order.lines {
            cut("order_lines", &mut line.sku, &mut cut_fields);
        }
    }
    cut_list(
        "consents",
        &mut e.consents,
        MAX_CONSENT_STATEMENTS,
        &mut cut_fields,
    );
    for c in &mut e.consents {
        cut("consents", &mut c.purpose, &mut cut_fields);
        cut("consents", &mut c.channel, &mut cut_fields);
    }
    cut_fields.dedup();
    cut_fields
}

/// [`normalize`], also refusing an event time more than
/// `opts.max_future_secs` ahead of `now_ms` (the reading clock): one such
/// event would move the resolver's event-time watermark, and with it every
/// profile's recency, years ahead for good.
pub fn normalize_at(
    raw: &RawEvent,
    opts: &NormalizeOptions,
    now_ms: i64,
) -> Result<CanonicalEvent, InvalidRecord> {
    let event_ms = raw.event_time();
    let ahead_ms = i64::try_from(opts.max_future_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    if opts.max_future_secs > 0 && event_ms > now_ms.saturating_add(ahead_ms) {
        return Err(InvalidRecord::EventTimeInFuture {
            event_ms,
            now_ms,
            ahead_secs: opts.max_future_secs,
        });
    }
    normalize(raw, opts)
}

/// Turns a raw record of any channel into a canonical event (pure: no
/// clock; see [`normalize_at`]).
pub fn normalize(raw: &RawEvent, opts: &NormalizeOptions) -> Result<CanonicalEvent, InvalidRecord> {
    let source_id = fold(raw.source_id());
    if source_id.is_empty() {
        return Err(InvalidRecord::MissingSourceId);
    }
    if source_id.len() > MAX_SOURCE_ID_BYTES {
        return Err(InvalidRecord::SourceIdTooLong {
            bytes: source_id.len(),
        });
    }
    let event_time_ms = raw.event_time();
    if !(MIN_EVENT_TIME_MS..MAX_EVENT_TIME_MS).contains(&event_time_ms) {
        return Err(InvalidRecord::EventTimeOutOfRange(event_time_ms));
    }
    let mut b = Builder {
        opts,
        region: None,
        region_guessed: false,
        sale_region: None,
        event_time_ms,
        identifiers: Vec::new(),
        attributes: Attributes::default(),
        activity: Activity::default(),
        consents: Vec::new(),
        dropped: Vec::new(),
    };
    match raw {
        RawEvent::Pos(e) => b.pos(e),
        RawEvent::Web(e) => b.web(e),
        RawEvent::Social(e) => b.social(e),
    }
    let channel = raw.channel();
    b.identifiers.sort_by_cached_key(Identifier::link_key);
    b.identifiers.dedup_by(|a, b| a.link_key() == b.link_key());
    b.identifiers.sort();
    b.consents.sort();
    b.consents.dedup();
    Ok(CanonicalEvent {
        event_id: event_id(channel, &source_id),
        channel,
        event_time_ms,
        identifiers: b.identifiers,
        attributes: b.attributes,
        activity: b.activity,
        consents: b.consents,
        dropped: b.dropped,
    })
}

/// One identifier typed by a person (`kindred explain`, `split`, `forget`),
/// normalized exactly as the same value inside an event would be, so that
/// it finds the same index entry. A phone number in national form is read
/// in the default region: a foreign number (which an event may have read in
/// its own region) is typed with its `+` country code. Member ids may name their program
/// (`PROGRAM:CARD`); social, account and device ids must (`wechat:o6_bm`).
pub fn normalize_identifier(
    kind: IdentifierKind,
    raw: &str,
    opts: &NormalizeOptions,
) -> Result<Identifier, Rejected> {
    let (value, match_key) = match kind {
        IdentifierKind::Phone => (normalize_phone(raw, opts)?, None),
        IdentifierKind::Email => {
            let e = normalize_email(raw, opts.email_provider_rules)?;
            (e.value, e.match_key)
        }
        IdentifierKind::MemberId => {
            let (program, card) = match raw.split_once(':') {
                Some((p, c)) => (
                    normalize_program(p).unwrap_or_else(|| opts.default_loyalty_program.clone()),
                    c,
                ),
                None => (opts.default_loyalty_program.clone(), raw),
            };
            (format!("{program}:{}", normalize_member_card(card)?), None)
        }
        IdentifierKind::Social | IdentifierKind::Account | IdentifierKind::Device => {
            let (namespace, id) = raw.split_once(':').ok_or(Rejected::Invalid)?;
            let namespace = typed_namespace(kind, namespace).ok_or(Rejected::Invalid)?;
            (normalize_namespaced_id(&namespace, id)?, None)
        }
    };
    Ok(Identifier {
        kind,
        value,
        match_key,
    })
}

/// A typed identifier's namespace as events write it: a platform as
/// [`normalize_platform`] names it (`WeChat`, `weixin` and `微信` are
/// `wechat`), with its `-union` suffix kept (`WeChat-union`); an account's
/// or device's source lower case (`WEB` is `web`).
fn typed_namespace(kind: IdentifierKind, namespace: &str) -> Option<String> {
    if kind != IdentifierKind::Social {
        let namespace = crate::text::fold_lower(namespace);
        return (!namespace.is_empty()).then_some(namespace);
    }
    let folded = crate::text::fold_lower(namespace);
    match folded.strip_suffix("-union") {
        Some(platform) => normalize_platform(platform).map(|p| format!("{p}-union")),
        None => normalize_platform(namespace),
    }
}

/// The stable source event id: `channel:source-id`.
pub fn event_id(channel: Channel, source_id: &str) -> String {
    format!("{}:{}", channel.as_str(), source_id.trim())
}

struct Builder<'a> {
    opts: &'a NormalizeOptions,
    /// Where the event says it happened: national phone numbers are read
    /// there, and numeric birthdays as it writes dates.
    region: Option<phonenumber::country::Id>,
    /// `region` is only the e-mail domain's country ([`email_region`]): a
    /// guess, weaker than an address, a store or a currency.
    region_guessed: bool,
    /// Where the sale was made, for a currency sign several currencies
    /// use (`¥`, `$`, `kr`): a till's store or currency country; `None`
    /// for a web or social order, priced in the brand's home market
    /// whatever the customer's address (a shop prices in one currency for
    /// customers everywhere).
    sale_region: Option<phonenumber::country::Id>,
    event_time_ms: i64,
    identifiers: Vec<Identifier>,
    attributes: Attributes,
    activity: Activity,
    consents: Vec<Consent>,
    dropped: Vec<Dropped>,
}

impl Builder<'_> {
    /// Records a value dropped, once per field and reason: a receipt of
    /// 54,000 lines past [`MAX_ORDER_LINES`] said so 53,500 times, which
    /// made its canonical event too large to send (the order lost with
    /// it) and its stored contribution as large for good.
    fn drop(&mut self, field: &str, reason: Rejected) {
        let reason = reason.as_str();
        if reason != Rejected::Empty.as_str()
            && !self
                .dropped
                .iter()
                .any(|d| d.field == field && d.reason == reason)
        {
            self.dropped.push(Dropped {
                field: field.to_string(),
                reason: reason.to_string(),
            });
        }
    }

    /// `raw` unless it is [`too_long`]; then the value is dropped as
    /// `too_long`.
    fn bounded<'r>(&mut self, field: &str, raw: Option<&'r str>) -> Option<&'r str> {
        match raw {
            Some(r) if too_long(r) => {
                self.drop(field, Rejected::TooLong);
                None
            }
            r => r,
        }
    }

    fn identifier(
        &mut self,
        kind: IdentifierKind,
        normalized: Result<(String, Option<String>), Rejected>,
    ) {
        let checked = normalized.and_then(|(value, match_key)| {
            let id = Identifier {
                kind,
                value,
                match_key,
            };
            if self.opts.blocklist.contains(&id.key())
                || self.opts.blocklist.contains(&id.link_key())
            {
                Err(Rejected::Blocklisted)
            } else {
                Ok(id)
            }
        });
        match checked {
            Ok(id) => self.identifiers.push(id),
            Err(reason) => self.drop(kind.as_str(), reason),
        }
    }

    fn phone(&mut self, raw: Option<&str>) {
        if let Some(raw) = self.bounded("phone", raw) {
            let home = normalize_phone(raw, self.opts);
            let region = self
                .region
                .filter(|r| self.opts.phone_region_from_event && *r != self.opts.default_region);
            let n = match (region, home) {
                // A mobile of the default region stays one: its digits can
                // read as a number of the event's region too (`131 2345
                // 6789`, a Chinese mobile, is also +1 312 345 6789), and a
                // customer from home shopping abroad types it that way.
                // Unless it is typed the way the event's region writes its
                // own numbers and not the way home writes mobiles
                // (`1-312-663-8544` at a US till), or read at home only
                // through a trunk prefix home's mobiles are not written
                // with (`0151 23984712` in Germany), or it is a toll-free
                // line or a placeholder there not typed as home writes
                // mobiles (`1-800-642-7676` at a US till, 180 0642 7676 in
                // China).
                // A trunk prefix home writes its mobiles with (`07 78 12
                // 34 56` in France) is home's, unless the digits are typed
                // as the event's region writes a number of its own too
                // (`010-6552-9988`: a Korean mobile and a Beijing
                // landline, at a Beijing till).
                (Some(r), Ok(e164))
                    if phone_line(&e164) == PhoneLine::Mobile
                        && !written_as_in(raw, r, &e164)
                        && not_through_a_foreign_trunk(raw, r, &e164) =>
                {
                    match refused_there(raw, r) {
                        Some(reason) => Err(reason),
                        None => Ok(e164),
                    }
                }
                // The e-mail's country is a guess: a number of the default
                // region is read there only as a mobile there against a
                // landline at home (`090-3816-4729` with a `.jp` address,
                // not a Hotan landline), never as a landline (`020 8888
                // 6666`, Guangzhou, with a student's `.ac.uk` address).
                (Some(r), Ok(e164)) if self.region_guessed => match normalize_phone_in(raw, r) {
                    Ok(there) if phone_line(&there) == PhoneLine::Mobile => Ok(there),
                    _ => Ok(e164),
                },
                // Otherwise the event's region reads first: a number there,
                // or a placeholder there (`(212) 555-0123` at a US till), is
                // what the till saw; not a number there, the default region's
                // reading stands.
                (Some(r), home) => match normalize_phone_in(raw, r) {
                    Ok(e164) => Ok(e164),
                    Err(Rejected::Junk) => Err(Rejected::Junk),
                    // A toll-free line typed as the region writes it
                    // (`(888) 642-7676` at a US till) is the brand's
                    // hotline, though its digits make a landline at home.
                    Err(Rejected::Business) if grouped_as_there(raw, r) => Err(Rejected::Business),
                    Err(_) => home,
                },
                (None, home) => home,
            };
            self.identifier(IdentifierKind::Phone, n.map(|v| (v, None)));
        }
    }

    fn email(&mut self, raw: Option<&str>) {
        if let Some(raw) = self.bounded("email", raw) {
            let n = normalize_email(raw, self.opts.email_provider_rules)
                .map(|e| (e.value, e.match_key));
            self.identifier(IdentifierKind::Email, n);
        }
    }

    fn namespaced(&mut self, kind: IdentifierKind, namespace: &str, raw: Option<&str>) {
        if let Some(raw) = self.bounded(kind.as_str(), raw) {
            let n = normalize_namespaced_id(namespace, raw).map(|v| (v, None));
            self.identifier(kind, n);
        }
    }

    fn names(&mut self, full: Option<&str>, given: Option<&str>, family: Option<&str>) {
        let full = self.bounded("full_name", full);
        let given = self.bounded("given_name", given);
        let family = self.bounded("family_name", family);
        let (n, dropped) = names(full, given, family);
        for (field, reason) in dropped {
            self.drop(field, reason);
        }
        self.attributes.full_name = n.full;
        self.attributes.given_name = n.given;
        self.attributes.family_name = n.family;
        // A gender field of the event's own, read after, takes its place.
        if self.attributes.gender.is_none() {
            self.attributes.gender = n.title_gender.map(str::to_string);
        }
    }

    /// The order and its points. Points out of range are dropped (none
    /// counted); a total out of range drops the whole order (there is no
    /// order without its total), each with the reason; the event goes on.
    fn order(&mut self, raw: &RawOrder, payment_type: Option<&str>, store_id: Option<&str>) {
        let payment_type = self.bounded("payment_type", payment_type);
        let store_id = self.bounded("store_id", store_id);
        if too_long(&raw.order_id) {
            self.drop("order_id", Rejected::TooLong);
            return;
        }
        let mut points = |field: &str, value: i64| {
            if value.unsigned_abs() > MAX_POINTS.unsigned_abs() {
                self.drop(field, Rejected::Invalid);
                0
            } else {
                value
            }
        };
        // Points redeemed are a count, whichever sign a till writes them
        // with (a debit, -200): sent negative on a sale they raised the
        // balance. (A refund's are given back by `reversed_order`.)
        let (earned, redeemed) = (
            points("points_earned", raw.points_earned),
            points("points_redeemed", raw.points_redeemed).saturating_abs(),
        );
        self.activity.points_earned = self.activity.points_earned.saturating_add(earned);
        self.activity.points_redeemed = self.activity.points_redeemed.saturating_add(redeemed);
        if raw.total_minor.unsigned_abs() > MAX_AMOUNT_MINOR.unsigned_abs() {
            self.drop("amount_minor", Rejected::Invalid);
            return;
        }
        // A sign the market's region cannot read (`$` in a yuan shop) is
        // read where the customer is, then.
        let region = self.sale_region.unwrap_or(self.opts.default_region);
        let currency = normalize_currency(&raw.currency, region)
            .or_else(|| normalize_currency(&raw.currency, self.region?))
            .unwrap_or_else(|| {
                self.drop("currency", Rejected::Invalid);
                "XXX".to_string()
            });
        self.activity.order = Some(Order {
            order_id: fold(&raw.order_id),
            amount_minor: raw.total_minor,
            currency,
            lines: self.order_lines(&raw.lines),
            payment_type: payment_type.and_then(normalize_label),
            store_id: store_id.map(fold).filter(|s| !s.is_empty()),
        });
    }

    /// An order's line items: at most [`MAX_ORDER_LINES`], a line whose sku
    /// is [`too_long`] left out, each dropped as `too_long`.
    fn order_lines(
        &mut self,
        lines: &[kindred_model::raw::LineItem],
    ) -> Vec<kindred_model::raw::LineItem> {
        let mut kept = Vec::with_capacity(lines.len().min(MAX_ORDER_LINES));
        for line in lines {
            if kept.len() >= MAX_ORDER_LINES || too_long(&line.sku) {
                self.drop("order_line", Rejected::TooLong);
            } else {
                kept.push(line.clone());
            }
        }
        kept
    }

    /// [`Self::order`] of a refund or return: the points it earned are
    /// taken back and the points redeemed on it given back, whichever sign
    /// the feed gives them (a feed copying the sale sends them as the sale
    /// had them; a till may send them negative).
    fn reversed_order(&mut self, order: &RawOrder, payment: Option<&str>, store: Option<&str>) {
        let before = (self.activity.points_earned, self.activity.points_redeemed);
        self.order(order, payment, store);
        let earned = self.activity.points_earned.saturating_sub(before.0);
        let redeemed = self.activity.points_redeemed.saturating_sub(before.1);
        self.activity.points_earned = before.0.saturating_sub(earned.saturating_abs());
        self.activity.points_redeemed = before.1.saturating_sub(redeemed.saturating_abs());
    }

    fn pos(&mut self, e: &PosTransaction) {
        if let Some(card) = self.bounded("member_id", e.member_card_no.as_deref()) {
            let program = e
                .loyalty_program
                .as_deref()
                .and_then(normalize_program)
                .unwrap_or_else(|| self.opts.default_loyalty_program.clone());
            let n = normalize_member_card(card).map(|c| (format!("{program}:{c}"), None));
            self.identifier(IdentifierKind::MemberId, n);
        }
        // The store's country if configured, else the currency's when one
        // country uses it.
        self.region = self
            .opts
            .store_region(&e.store_id)
            .or_else(|| currency_region(Some(&e.currency), self.opts));
        self.sale_region = self.region;
        self.phone(e.phone.as_deref());
        self.names(e.customer_name.as_deref(), None, None);
        self.activity.event_type = if e.amount_minor < 0 {
            "refund"
        } else {
            "purchase"
        }
        .into();
        let order = RawOrder {
            order_id: e.receipt_no.clone(),
            total_minor: e.amount_minor,
            currency: e.currency.clone(),
            lines: e.line_items.clone(),
            points_earned: e.points_earned,
            points_redeemed: e.points_redeemed,
        };
        if e.amount_minor < 0 {
            self.reversed_order(&order, e.payment_type.as_deref(), Some(&e.store_id));
        } else {
            self.order(&order, e.payment_type.as_deref(), Some(&e.store_id));
        }
    }

    fn web(&mut self, e: &WebEvent) {
        self.namespaced(IdentifierKind::Account, "web", e.user_id.as_deref());
        self.namespaced(IdentifierKind::Device, "web", e.anonymous_id.as_deref());
        self.email(e.email.as_deref());
        self.attributes.address = e.address.as_ref().and_then(|a| {
            if a.fields()
                .iter()
                .any(|l| l.as_deref().is_some_and(too_long))
            {
                self.drop("address", Rejected::TooLong);
                return None;
            }
            normalize_address(a)
        });
        // The address's country, else the order currency's when one country
        // uses it (as at a till).
        let address_region: Option<phonenumber::country::Id> = self
            .attributes
            .address
            .as_ref()
            .and_then(|a| a.country.as_deref())
            .and_then(|c| c.parse().ok());
        self.region = address_region
            .or_else(|| {
                currency_region(
                    e.order
                        .as_ref()
                        .map(|o| o.currency.as_str())
                        .or(e.currency.as_deref()),
                    self.opts,
                )
            })
            .or_else(|| {
                let guess = email_region(e.email.as_deref()?);
                self.region_guessed = guess.is_some();
                guess
            });
        self.phone(e.phone.as_deref());
        self.names(
            e.name.as_deref(),
            e.given_name.as_deref(),
            e.family_name.as_deref(),
        );
        let today = DateTime::from_timestamp_millis(self.event_time_ms)
            .map(|t| t.date_naive())
            .unwrap_or_default();
        if let Some(raw) = self.bounded("birthday", e.birthday.as_deref()) {
            // The address's country only: a currency says where a shop
            // prices, not how its customer writes dates (USD).
            let order = address_region
                .filter(|_| self.opts.date_order_from_event)
                .and_then(DateOrder::of_region)
                .unwrap_or(self.opts.date_order);
            match normalize_birthday(raw, order, today) {
                Ok(d) => self.attributes.birthday = Some(d),
                Err(r) => self.drop("birthday", r),
            }
        }
        if let Some(raw) = self.bounded("gender", e.gender.as_deref()) {
            match normalize_gender(raw) {
                Ok(g) => self.attributes.gender = Some(g),
                Err(r) => self.drop("gender", r),
            }
        }
        self.activity_of(&e.event_type, e.sku.as_deref(), e.order.as_ref());
        if let (None, Some(total), "order") = (
            &e.order,
            e.order_amount_minor,
            self.activity.event_type.as_str(),
        ) {
            // Producers still on web_event.v1 send the total in the event itself.
            let legacy = RawOrder {
                order_id: e.event_id.clone(),
                total_minor: total,
                currency: e.currency.clone().unwrap_or_default(),
                lines: vec![],
                points_earned: 0,
                points_redeemed: 0,
            };
            self.order(&legacy, None, None);
        }
        // No form asks for more consents than MAX_CONSENTS: the rest is
        // junk (or a message built to bloat the golden record). The ones
        // kept are every withdrawal first (none is cut, whatever grants
        // come before it in a consent platform's snapshot), then grants;
        // read in the order sent.
        let withdrawals = e.consents.iter().filter(|c| !c.granted).count();
        let mut grants_left = MAX_CONSENTS.saturating_sub(withdrawals);
        let mut withdrawals_left = MAX_CONSENTS;
        for c in &e.consents {
            let left = if c.granted {
                &mut grants_left
            } else {
                &mut withdrawals_left
            };
            if *left == 0 {
                self.drop("consent", Rejected::TooLong);
                continue;
            }
            *left -= 1;
            // A label too long to keep: a grant is refused; a withdrawal
            // withdraws as one that names no purpose or channel does (all
            // of them), rather than being lost.
            let (purpose, channel) = match (too_long(&c.purpose), too_long(&c.channel)) {
                (false, false) => (c.purpose.as_str(), c.channel.as_str()),
                _ if c.granted => {
                    self.drop("consent", Rejected::TooLong);
                    continue;
                }
                (p, ch) => (
                    if p { "" } else { c.purpose.as_str() },
                    if ch { "" } else { c.channel.as_str() },
                ),
            };
            match consent_statements(purpose, channel, c.granted) {
                Ok(statements) => self.consents.extend(statements),
                Err(r) => self.drop("consent", r),
            }
        }
    }

    fn social(&mut self, e: &SocialInteraction) {
        // The platform is the social identifier's namespace: bounded as the id is.
        let platform = match self.bounded("social", Some(&e.platform)) {
            Some(p) => normalize_platform(p),
            None => return self.social_rest(e),
        };
        match platform {
            Some(platform) => {
                self.namespaced(IdentifierKind::Social, &platform, Some(&e.platform_user_id));
                let union_ns = format!("{platform}-union");
                self.namespaced(IdentifierKind::Social, &union_ns, e.union_id.as_deref());
                // A WhatsApp user id (`wa_id`) is the account's phone number
                // in international form without the `+`: it is the person's
                // phone too, where it reads as a valid one.
                if platform == "whatsapp" {
                    let id = fold(&e.platform_user_id);
                    let id = id.strip_prefix("whatsapp:").unwrap_or(&id);
                    let digits = id.strip_prefix('+').unwrap_or(id);
                    if (8..=15).contains(&digits.len())
                        && digits.bytes().all(|b| b.is_ascii_digit())
                    {
                        // A Brazilian account registered before mobiles
                        // gained their ninth digit keeps its 8-digit id
                        // (`55 21 64180266`): the mobile is `+55 21
                        // 96418-0266` (subscribers 6 to 9 are mobiles;
                        // 2 to 5, landlines, stay as they are).
                        let brazilian = digits.len() == 12
                            && digits.starts_with("55")
                            && matches!(digits.as_bytes()[4], b'6'..=b'9');
                        let digits = if brazilian {
                            format!("{}9{}", &digits[..4], &digits[4..])
                        } else {
                            digits.to_string()
                        };
                        if let Ok(e164) = normalize_phone(&format!("+{digits}"), self.opts) {
                            self.identifier(IdentifierKind::Phone, Ok((e164, None)));
                        }
                    }
                }
            }
            None => self.drop("social", Rejected::Invalid),
        }
        self.social_rest(e);
    }

    /// What a social interaction says besides its platform identifiers.
    fn social_rest(&mut self, e: &SocialInteraction) {
        // A mini-program order's currency, when one country uses it, says
        // where its national numbers are read (as at a till).
        self.region = currency_region(e.order.as_ref().map(|o| o.currency.as_str()), self.opts);
        self.phone(e.phone.as_deref());
        self.email(e.email.as_deref());
        // Display names on social platforms are nicknames, not names: they
        // are not used for the golden record.
        self.activity_of(&e.interaction_type, e.sku.as_deref(), e.order.as_ref());
    }

    /// Event type, browsed product and order of a web or social event.
    fn activity_of(&mut self, event_type: &str, sku: Option<&str>, order: Option<&RawOrder>) {
        let event_type = self.bounded("event_type", Some(event_type));
        self.activity.event_type = event_type
            .and_then(normalize_label)
            .unwrap_or_else(|| "unknown".into());
        self.activity.browsed_skus = self
            .bounded("sku", sku)
            .map(fold)
            .filter(|s| !s.is_empty())
            .into_iter()
            .collect();
        // The kind says what becomes of an order and of a browsed sku:
        // without either (a like, a follow), nothing to read it for.
        if order.is_none() && self.activity.browsed_skus.is_empty() {
            return;
        }
        let kind = OrderKind::of(&self.activity.event_type);
        if kind == OrderKind::Reversal
            || kind == OrderKind::FollowUp
            || (kind == OrderKind::NotDone
                && (order.is_some() || names_a_reversal(&self.activity.event_type)))
        {
            // A product returned, shipped (bought already), or one of an
            // order or refund that did not happen, is no product the
            // customer looked at (a product on a `back_in_stock_requested`
            // event is).
            self.activity.browsed_skus.clear();
        }
        let Some(order) = order else { return };
        match kind {
            OrderKind::Purchase => self.order(order, None, None),
            OrderKind::Reversal => {
                // The order's total taken back, whichever sign the feed
                // gives it (Segment's `Order Refunded` and GA4's `refund`
                // send it positive); so are its points.
                self.reversed_order(order, None, None);
                match self.activity.order.as_mut() {
                    // Nothing to take back: no order (it would count as a
                    // free sale, a fresh order for recency and frequency).
                    Some(o) if o.amount_minor == 0 => {
                        self.activity.order = None;
                        self.drop("order", Rejected::NotAPurchase);
                    }
                    Some(o) => o.amount_minor = -o.amount_minor.abs(),
                    None => {}
                }
            }
            OrderKind::NotDone | OrderKind::FollowUp => self.drop("order", Rejected::NotAPurchase),
            OrderKind::NotAPurchase => {
                self.drop("order", Rejected::NotAPurchase);
                // The products in a cart or at checkout were looked at.
                let lines = self.order_lines(&order.lines);
                for sku in lines.iter().map(|l| fold(&l.sku)) {
                    if !sku.is_empty() && !self.activity.browsed_skus.contains(&sku) {
                        self.activity.browsed_skus.push(sku);
                    }
                }
            }
        }
    }
}

/// What an order on a web or social event is, read from the event's type
/// (its [`normalize_label`]) the way e-commerce tracking specs name them
/// (Segment's `Order Completed` / `Checkout Started` / `Order Refunded`,
/// GA4's `purchase` / `begin_checkout` / `refund`, this project's `order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderKind {
    /// A sale: counted, its total spent (`order`, `purchase`,
    /// `order_completed`, `checkout_completed`, and any type not below).
    Purchase,
    /// A sale taken back (`order_refunded`, `refund`, `order_cancelled`,
    /// `return`, `void`): its total is subtracted, as a till's negative
    /// sale is, and its points taken back; not an order.
    Reversal,
    /// A sale or a reversal that did not happen, or not yet (`order_failed`,
    /// `payment_declined`, `return_requested`, `refund_pending`,
    /// `refund_failed`; not `order_paid_pending_shipment`): the order is
    /// dropped as `not_a_purchase`, and no product of it is browsed.
    NotDone,
    /// Not a sale, or not a new one (`add_to_cart`, `begin_checkout`,
    /// `checkout_started`, `payment_info_entered`, `order_updated`,
    /// `cart_abandoned`): the order is dropped as `not_a_purchase` (an
    /// update restates a sale already counted), its skus browsed.
    NotAPurchase,
    /// What happens to a sale already counted (`order_shipped`, `Order
    /// Fulfilled`, Shopify's `orders/fulfilled`, `order_delivered`): the
    /// order is dropped as `not_a_purchase`, and no product of it is
    /// browsed (it was bought).
    FollowUp,
}

/// Words of an event type that take a sale back.
const REVERSAL_WORDS: [&str; 22] = [
    "refund",
    "refunds",
    "refunded",
    "return",
    "returns",
    "returned",
    "cancel",
    "cancels",
    "cancelled",
    "canceled",
    "cancellation",
    "cancellations",
    "void",
    "voided",
    "chargeback",
    "chargebacks",
    "reversal",
    "reversals",
    "reversed",
    // Tills' and shops' own (a CJK type is one word: `取消订单`, read by
    // its stem below).
    "退款",
    "退货",
    "取消",
];

/// Stems that name a reversal inside a word: a type written joined up
/// (`OrderRefunded`, `orderCancelled`) or in Chinese (`退款成功`,
/// `取消订单`). Not `return` (`returning_customer_order` is a sale) nor
/// `void` (`avoided`).
const REVERSAL_STEMS: [&str; 6] = ["refund", "cancel", "chargeback", "退款", "退货", "取消"];

/// Stems of a state inside a joined or Chinese word, and the word they
/// are read as: `RefundRequested`, `退款失败` (refund failed), `申请退款`
/// (refund requested), `退款关闭` (refund closed: none made).
const STATE_STEMS: [(&str, &str); 6] = [
    ("request", "requested"),
    ("fail", "failed"),
    ("pending", "pending"),
    ("申请", "requested"),
    ("失败", "failed"),
    ("关闭", "failed"),
];

/// The words of an event type (its [`normalize_label`]); a word with a
/// reversal or state stem inside it (`orderrefunded`, `取消订单`,
/// `refundfailed`) is read as that stem too.
fn type_words(event_type: &str) -> Vec<&str> {
    // (The label is lower case already. An English word as long as a
    // stem or shorter is read by the word lists; joined words are longer.
    // A Chinese word of two characters is six bytes.)
    let mut words: Vec<&str> = event_type
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for i in 0..words.len() {
        let word = words[i];
        if word.len() < if word.is_ascii() { 7 } else { 6 } {
            continue;
        }
        for stem in REVERSAL_STEMS {
            if word.contains(stem) {
                words.push(stem);
            }
        }
        for (stem, read_as) in STATE_STEMS {
            if word.contains(stem) {
                words.push(read_as);
            }
        }
    }
    words
}

/// Whether an event type names a sale taken back, done or not
/// (`return_requested`: its product is not browsed).
fn names_a_reversal(event_type: &str) -> bool {
    type_words(event_type)
        .iter()
        .any(|w| REVERSAL_WORDS.contains(w))
}

impl OrderKind {
    fn of(event_type: &str) -> OrderKind {
        let words = type_words(event_type);
        let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
        // Done: a sale paid or completed, whatever is still pending after
        // it (`order_paid_pending_shipment`); a reversal requested is no
        // reversal done, whatever its request's state
        // (`return_request_completed`); nor is a return's step before its
        // refund (`return_created`, `return_received`: the goods, not the
        // money, `refund_issued` moves that).
        let done = !has(&REVERSAL_WORDS)
            && has(&["complete", "completed", "success", "succeeded", "paid"]);
        // A return without a refund word is a reversal done only as a
        // till's or a shop's return itself (`return`, `order_returned`,
        // `return_completed`); any other step of it (`returns/update`,
        // `return_closed`, `returns/decline`, `return_received`) moves
        // goods or paperwork, not money (`refunds/create` does that).
        let return_step = has(&["return", "returns", "returned"])
            && !has(&REVERSAL_STEMS)
            && words.iter().any(|w| {
                !matches!(
                    *w,
                    "return"
                        | "returns"
                        | "returned"
                        | "order"
                        | "orders"
                        | "item"
                        | "items"
                        | "product"
                        | "pos"
                        | "completed"
                        | "complete"
                        | "processed"
                        | "success"
                        | "succeeded"
                )
            });
        if has(&[
            "fail", "failed", "failure", "declined", "rejected", "denied", "error", "errored",
        ]) || return_step
            || (!done
                && (has(&["request", "requested", "pending", "attempted"])
                    || (has(&["initiated"]) && has(&REVERSAL_WORDS))))
        {
            OrderKind::NotDone
        } else if has(&REVERSAL_WORDS) {
            OrderKind::Reversal
        } else if has(&[
            "complete",
            "completed",
            "success",
            "succeeded",
            "paid",
            "placed",
        ]) {
            OrderKind::Purchase
        } else if has(&[
            "cart",
            "carts",
            "basket",
            "checkout",
            "checkouts",
            "edit",
            "edited",
            "delete",
            "deleted",
            "begin",
            "started",
            "initiated",
            "payment",
            "wishlist",
            "update",
            "updated",
            "amend",
            "amended",
            "modified",
            "abandoned",
            "view",
            "viewed",
            // Checkout steps (GA4's `add_shipping_info`,
            // `add_payment_info`, `select_item`; `delivery_option_selected`).
            "add",
            "added",
            "remove",
            "removed",
            "select",
            "selected",
            "info",
        ]) {
            OrderKind::NotAPurchase
        } else if has(&[
            // What happens to an order placed before: its shipment
            // (`order_shipped`, `Order Fulfilled`, Shopify's
            // `orders/fulfilled`) is no second sale. Words of a done
            // shipment only: `shipping` and `delivery` name checkout steps
            // as often (`add_shipping_info`).
            "shipped",
            "shipment",
            "dispatched",
            "fulfilled",
            "fulfillment",
            "fulfilment",
            "delivered",
            "transit",
        ]) {
            OrderKind::FollowUp
        } else {
            OrderKind::Purchase
        }
    }
}

/// Whether `raw`, read at home as the mobile `home`, came there without a
/// trunk prefix home's mobiles are not written with (`0151 23984712` read
/// in China), or with home's own (`07 78 12 34 56` in France) and not typed
/// as the event's `region` writes a number of its own (`010-6552-9988`, a
/// Korean mobile and a Beijing landline, at a Beijing till).
fn not_through_a_foreign_trunk(raw: &str, region: phonenumber::country::Id, home: &str) -> bool {
    !through_trunk_prefix(raw, home)
        || (typed_as_written_nationally(raw, home) && !grouped_as_there(raw, region))
}

/// Why the event's `region` refuses `raw` (a toll-free or premium line,
/// a placeholder), when it does and `raw` is typed in the groups the
/// region writes that number in: `1-800-642-7676` at a US till is the US
/// hotline, though its digits make a Chinese mobile (`180 0642 7676`, or
/// `18006427676` in one run, which says nothing: home's mobile stands).
fn refused_there(raw: &str, region: phonenumber::country::Id) -> Option<Rejected> {
    match normalize_phone_in(raw, region) {
        Err(reason @ (Rejected::Business | Rejected::Junk)) if grouped_as_there(raw, region) => {
            Some(reason)
        }
        _ => None,
    }
}

/// Whether `raw`, read in `region`, is typed in the groups `region` writes
/// that number in, and not in those `home` (its reading at home) is written in.
fn written_as_in(raw: &str, region: phonenumber::country::Id, home: &str) -> bool {
    normalize_phone_in(raw, region).is_ok_and(|there| typed_in_national_groups(raw, &there))
        && !typed_in_national_groups(raw, home)
}

/// The country an e-mail address's domain names by its country-code
/// top-level domain (`docomo.ne.jp`: JP, `web.de`: DE, `bt.co.uk`: GB):
/// where a web sign-up without an address or an order was most likely
/// typed, so its national phone number (`090-3816-4729`) is read there
/// before the default region. Country codes sold as generic names
/// ([`VANITY_TLDS`]: `.io`, `.me`, `.co`, ...) name no country.
/// The address is read as [`normalize_email`] reads it (a display name
/// around it, full-width characters typed by an input method), and only a
/// valid one names a country.
fn email_region(email: &str) -> Option<phonenumber::country::Id> {
    let email = normalize_email(email, false).ok()?;
    let tld = email
        .value
        .rsplit_once('@')?
        .1
        .trim_end_matches('.')
        .rsplit('.')
        .next()?;
    if tld.len() != 2 || VANITY_TLDS.contains(&tld.to_ascii_lowercase().as_str()) {
        return None;
    }
    let code = match tld.to_ascii_uppercase().as_str() {
        "UK" => "GB".to_string(),
        code => code.to_string(),
    };
    code.parse().ok()
}

/// Country-code top-level domains used as generic ones (startups, media,
/// personal sites): they say nothing of where the mailbox's owner lives.
const VANITY_TLDS: &[&str] = &[
    "io", "me", "co", "tv", "ai", "ly", "fm", "am", "gg", "so", "to", "cc", "ws", "sh", "ac", "eu",
    "su", "nu", "la", "vc",
];

/// The country of a currency that only one country uses (`JPY`, `SGD`; not
/// `EUR`), as tills and shops write it.
fn currency_region(
    currency: Option<&str>,
    opts: &NormalizeOptions,
) -> Option<phonenumber::country::Id> {
    normalize_currency(currency?, opts.default_region).and_then(|c| region_of_currency(&c))
}

#[cfg(test)]
mod tests;
