use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Address, CanonicalEvent, Channel, Identifier};

/// How many recently browsed skus a [`GoldenRecord`] keeps.
pub const RECENT_SKUS: usize = 20;

const DAY_MS: i64 = 86_400_000;

/// Where a golden value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub channel: Channel,
    pub event_id: String,
    pub event_time_ms: i64,
}

/// A golden attribute value with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Provenance,
}

impl<T> Sourced<T> {
    fn from_event(value: T, event: &CanonicalEvent) -> Self {
        Sourced {
            value,
            source: Provenance::of(event),
        }
    }

    /// Survivorship "most recent wins": the later event time wins; ties are
    /// broken by event id so the outcome never depends on arrival order.
    pub(crate) fn newer_than(&self, other: &Sourced<T>) -> bool {
        self.source.newer_than(&other.source)
    }
}

impl Provenance {
    pub(crate) fn of(event: &CanonicalEvent) -> Self {
        Provenance {
            channel: event.channel,
            event_id: event.event_id.clone(),
            event_time_ms: event.event_time_ms,
        }
    }

    /// The later event time wins; ties are broken by event id, so "most
    /// recent" never depends on arrival order.
    pub fn newer_than(&self, other: &Provenance) -> bool {
        (self.event_time_ms, &self.event_id) > (other.event_time_ms, &other.event_id)
    }
}

/// When and how often the person was seen on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelActivity {
    pub channel: Channel,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub event_count: i64,
}

/// A product the person viewed or put in a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuView {
    pub sku: String,
    pub event_time_ms: i64,
    pub channel: Channel,
}

impl SkuView {
    /// The order of [`GoldenRecord::recent_skus`]: newest first, then by sku
    /// and channel, a total order, so that keeping the first
    /// [`RECENT_SKUS`] never depends on the order views arrive in.
    fn rank(&self) -> (std::cmp::Reverse<i64>, &str, Channel) {
        (
            std::cmp::Reverse(self.event_time_ms),
            &self.sku,
            self.channel,
        )
    }
}

/// Digits of an ISO 4217 currency's minor unit: 2 unless ISO 4217 says
/// otherwise (its exceptions, listed here: a short, stable list), `None`
/// for `XXX` (a till's currency the normalizer could not read).
pub fn minor_unit_digits(currency: &str) -> Option<u32> {
    match currency {
        "XXX" => None,
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => Some(0),
        // Withdrawn codes kindred still reads (orders made in them): ISO
        // 4217 gave these no decimals.
        "BYR" | "TRL" => Some(0),
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => Some(3),
        "CLF" | "UYW" => Some(4),
        _ => Some(2),
    }
}

/// Recency, frequency and monetary value of a customer as of a moment.
///
/// Derived when a change is published ([`GoldenRecord::rfm`]), never
/// stored in the golden record, so the stored record stays independent of
/// wall-clock time. The scores are 1 (low) to 5 (high), 0 when there is no
/// order, from fixed thresholds:
///
/// | score | recency (days since last order) | frequency (orders) | monetary (largest single-currency total, major units) |
/// |---|---|---|---|
/// | 5 | <= 30 | >= 10 | >= 5000 |
/// | 4 | <= 90 | >= 5 | >= 1000 |
/// | 3 | <= 180 | >= 3 | >= 300 |
/// | 2 | <= 365 | 2 | >= 100 |
/// | 1 | older | 1 | > 0 |
/// | 0 | never ordered | 0 | <= 0 or no spend |
///
/// Monetary is scored without currency conversion: on the largest total of
/// any one currency, in its major units (yen and won have no minor unit,
/// dinars three digits of it: [`minor_unit_digits`]); spend of no known
/// currency (`XXX`) is not scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rfm {
    /// The moment the scores are computed for, in milliseconds since the Unix epoch.
    pub as_of_ms: i64,
    /// Whole days from the last order to `as_of_ms` (0 if the order is
    /// later); `None` if the person never ordered.
    pub recency_days: Option<i64>,
    /// Number of orders (`order_count`).
    pub frequency: i64,
    /// Total spend per ISO currency code, in minor units (`spend_minor`).
    pub monetary_minor: BTreeMap<String, i64>,
    pub recency_score: i32,
    pub frequency_score: i32,
    pub monetary_score: i32,
}

impl Rfm {
    /// Recency score of a number of days since the last order.
    pub fn recency_score(recency_days: Option<i64>) -> i32 {
        match recency_days {
            None => 0,
            Some(d) if d <= 30 => 5,
            Some(d) if d <= 90 => 4,
            Some(d) if d <= 180 => 3,
            Some(d) if d <= 365 => 2,
            Some(_) => 1,
        }
    }

    /// Frequency score of a number of orders.
    pub fn frequency_score(orders: i64) -> i32 {
        match orders {
            n if n >= 10 => 5,
            n if n >= 5 => 4,
            n if n >= 3 => 3,
            2 => 2,
            1 => 1,
            _ => 0,
        }
    }

    /// Monetary score of the largest single-currency total, in hundredths
    /// of its major unit (cents, for a currency with two minor digits).
    pub fn monetary_score(largest_hundredths: i64) -> i32 {
        match largest_hundredths {
            m if m >= 500_000 => 5,
            m if m >= 100_000 => 4,
            m if m >= 30_000 => 3,
            m if m >= 10_000 => 2,
            m if m > 0 => 1,
            _ => 0,
        }
    }
}

/// The merged, trusted profile of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldenRecord {
    pub profile_id: String,
    /// Monotonic per profile: every published change carries the next version.
    pub version: i64,
    /// All identifiers linked to this person, sorted.
    pub identifiers: Vec<Identifier>,
    pub full_name: Option<Sourced<String>>,
    pub given_name: Option<Sourced<String>>,
    pub family_name: Option<Sourced<String>>,
    pub birthday: Option<Sourced<String>>,
    pub gender: Option<Sourced<String>>,
    pub address: Option<Sourced<Address>>,
    /// Consent per `purpose:channel`, with the statement that decided it:
    /// the latest within one identity; identities found to be one person
    /// combine by [`crate::ConsentMerge`] (see [`crate::combine_consents`]).
    pub consents: BTreeMap<String, Sourced<bool>>,
    /// Channels the person was seen on, sorted.
    pub channels: Vec<Channel>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub event_count: i64,
    /// Orders, free ones included (a refund, a negative total, is not
    /// counted; it counts in `spend_minor`).
    pub order_count: i64,
    /// Total spend per ISO currency code, in minor units.
    pub spend_minor: BTreeMap<String, i64>,
    /// Loyalty points earned minus redeemed, across all channels.
    pub points_balance: i64,
    /// First and last seen and event count per channel, sorted by channel.
    #[serde(default)]
    pub channel_activity: Vec<ChannelActivity>,
    /// Loyalty points earned, across all channels.
    #[serde(default)]
    pub points_earned: i64,
    /// Loyalty points redeemed, across all channels.
    #[serde(default)]
    pub points_redeemed: i64,
    /// Event time of the earliest order.
    #[serde(default)]
    pub first_order_ms: Option<i64>,
    /// Event time of the latest order.
    #[serde(default)]
    pub last_order_ms: Option<i64>,
    /// The last [`RECENT_SKUS`] distinct skus browsed, newest first (ties by
    /// sku, then channel); each sku once, with its newest view.
    #[serde(default)]
    pub recent_skus: Vec<SkuView>,
    /// Whether the person may be contacted for marketing through each
    /// contact channel (`email`, `sms`, `wechat`, `push`): the consent
    /// grants it and the profile holds a contact point for the channel.
    /// Derived from `consents` and `identifiers`; see
    /// [`crate::may_contact`].
    #[serde(default)]
    pub may_contact: BTreeMap<String, bool>,
}

impl GoldenRecord {
    /// A new profile seeded from its first event.
    pub fn new(profile_id: String, event: &CanonicalEvent) -> Self {
        let mut record = GoldenRecord {
            profile_id,
            first_seen_ms: event.event_time_ms,
            last_seen_ms: event.event_time_ms,
            ..GoldenRecord::blank()
        };
        record.absorb_event(event);
        record
    }

    /// A record with every field empty (no id, no values, zero counts).
    pub(crate) fn blank() -> Self {
        GoldenRecord {
            profile_id: String::new(),
            version: 0,
            identifiers: Vec::new(),
            full_name: None,
            given_name: None,
            family_name: None,
            birthday: None,
            gender: None,
            address: None,
            consents: BTreeMap::new(),
            channels: Vec::new(),
            first_seen_ms: 0,
            last_seen_ms: 0,
            event_count: 0,
            order_count: 0,
            spend_minor: BTreeMap::new(),
            points_balance: 0,
            channel_activity: Vec::new(),
            points_earned: 0,
            points_redeemed: 0,
            first_order_ms: None,
            last_order_ms: None,
            recent_skus: Vec::new(),
            may_contact: BTreeMap::new(),
        }
    }

    /// Recomputes `may_contact` from `consents` and `identifiers`.
    pub fn refresh_may_contact(&mut self) {
        self.may_contact = crate::consent::may_contact(&self.consents, &self.identifiers);
    }

    /// Folds one event into the record. Every rule here is commutative and
    /// associative, so the result does not depend on the order events arrive in.
    pub fn absorb_event(&mut self, event: &CanonicalEvent) {
        for id in &event.identifiers {
            insert_sorted(&mut self.identifiers, id.clone());
        }
        insert_sorted(&mut self.channels, event.channel);
        let a = &event.attributes;
        let sourced = |v: &Option<String>| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| Sourced::from_event(v.clone(), event))
        };
        choose_newer(&mut self.full_name, sourced(&a.full_name));
        choose_newer(&mut self.given_name, sourced(&a.given_name));
        choose_newer(&mut self.family_name, sourced(&a.family_name));
        choose_newer(&mut self.birthday, sourced(&a.birthday));
        choose_newer(&mut self.gender, sourced(&a.gender));
        choose_newer(
            &mut self.address,
            a.address.clone().map(|v| Sourced::from_event(v, event)),
        );
        for (key, granted) in crate::consent::statements(event) {
            let slot = self.consents.entry(key);
            let candidate = Some(Sourced::from_event(granted, event));
            match slot {
                std::collections::btree_map::Entry::Vacant(v) => {
                    if let Some(c) = candidate {
                        v.insert(c);
                    }
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let mut current = Some(o.get().clone());
                    choose_newer(&mut current, candidate);
                    if let Some(c) = current {
                        *o.get_mut() = c;
                    }
                }
            }
        }
        self.first_seen_ms = self.first_seen_ms.min(event.event_time_ms);
        self.last_seen_ms = self.last_seen_ms.max(event.event_time_ms);
        self.event_count += 1;
        let t = event.event_time_ms;
        merge_channel_activity(
            &mut self.channel_activity,
            ChannelActivity {
                channel: event.channel,
                first_seen_ms: t,
                last_seen_ms: t,
                event_count: 1,
            },
        );
        if let Some(order) = &event.activity.order {
            let spend = self.spend_minor.entry(order.currency.clone()).or_insert(0);
            *spend = spend.saturating_add(order.amount_minor);
            // A refund (negative total) takes back spend; it is no order of
            // its own, for frequency and recency (see [`Rfm`]). A free
            // order (total 0) is an order.
            if order.amount_minor >= 0 {
                self.order_count += 1;
                self.first_order_ms = min_opt(self.first_order_ms, Some(t));
                self.last_order_ms = max_opt(self.last_order_ms, Some(t));
            }
        }
        // Saturating: a producer's value is range-checked at ingest, but
        // many large ones could still pass i64 (a wrapped balance is worse).
        let (earned, redeemed) = (event.activity.points_earned, event.activity.points_redeemed);
        self.points_balance = self
            .points_balance
            .saturating_add(earned)
            .saturating_sub(redeemed);
        self.points_earned = self.points_earned.saturating_add(earned);
        self.points_redeemed = self.points_redeemed.saturating_add(redeemed);
        if !event.activity.browsed_skus.is_empty() {
            merge_recent_skus(
                &mut self.recent_skus,
                event.activity.browsed_skus.iter().map(|sku| SkuView {
                    sku: sku.clone(),
                    event_time_ms: t,
                    channel: event.channel,
                }),
            );
        }
    }

    /// Folds an absorbed profile into this survivor (a merge).
    pub fn absorb_profile(&mut self, other: GoldenRecord) {
        for id in other.identifiers {
            insert_sorted(&mut self.identifiers, id);
        }
        for channel in other.channels {
            insert_sorted(&mut self.channels, channel);
        }
        choose_newer(&mut self.full_name, other.full_name);
        choose_newer(&mut self.given_name, other.given_name);
        choose_newer(&mut self.family_name, other.family_name);
        choose_newer(&mut self.birthday, other.birthday);
        choose_newer(&mut self.gender, other.gender);
        choose_newer(&mut self.address, other.address);
        for (key, consent) in other.consents {
            let mut current = self.consents.remove(&key);
            choose_newer(&mut current, Some(consent));
            if let Some(c) = current {
                self.consents.insert(key, c);
            }
        }
        self.first_seen_ms = self.first_seen_ms.min(other.first_seen_ms);
        self.last_seen_ms = self.last_seen_ms.max(other.last_seen_ms);
        self.event_count += other.event_count;
        self.order_count += other.order_count;
        for (currency, amount) in other.spend_minor {
            let spend = self.spend_minor.entry(currency).or_insert(0);
            *spend = spend.saturating_add(amount);
        }
        self.points_balance = self.points_balance.saturating_add(other.points_balance);
        for activity in other.channel_activity {
            merge_channel_activity(&mut self.channel_activity, activity);
        }
        self.points_earned = self.points_earned.saturating_add(other.points_earned);
        self.points_redeemed = self.points_redeemed.saturating_add(other.points_redeemed);
        self.first_order_ms = min_opt(self.first_order_ms, other.first_order_ms);
        self.last_order_ms = max_opt(self.last_order_ms, other.last_order_ms);
        merge_recent_skus(&mut self.recent_skus, other.recent_skus);
    }

    /// Recency, frequency and monetary scores as of `as_of_ms` (see [`Rfm`]
    /// for the thresholds). Computed when a change is published, not stored.
    pub fn rfm(&self, as_of_ms: i64) -> Rfm {
        let recency_days = self
            .last_order_ms
            .map(|last| as_of_ms.saturating_sub(last).max(0) / DAY_MS);
        let largest = self
            .spend_minor
            .iter()
            .filter_map(|(currency, minor)| {
                let digits = minor_unit_digits(currency)?;
                let hundredths = i128::from(*minor) * 100 / 10i128.pow(digits);
                Some(i64::try_from(hundredths).unwrap_or(if hundredths < 0 {
                    i64::MIN
                } else {
                    i64::MAX
                }))
            })
            .max()
            .unwrap_or(0);
        Rfm {
            as_of_ms,
            recency_days,
            frequency: self.order_count,
            monetary_minor: self.spend_minor.clone(),
            recency_score: Rfm::recency_score(recency_days),
            frequency_score: Rfm::frequency_score(self.order_count),
            monetary_score: Rfm::monetary_score(largest),
        }
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.max(b)
}

/// Folds one channel's activity into the list, kept sorted by channel.
fn merge_channel_activity(list: &mut Vec<ChannelActivity>, add: ChannelActivity) {
    match list.binary_search_by_key(&add.channel, |a| a.channel) {
        Ok(i) => {
            let a = &mut list[i];
            a.first_seen_ms = a.first_seen_ms.min(add.first_seen_ms);
            a.last_seen_ms = a.last_seen_ms.max(add.last_seen_ms);
            a.event_count += add.event_count;
        }
        Err(i) => list.insert(i, add),
    }
}

/// Adds views to a recent-sku list: one view per sku (its first by
/// [`SkuView::rank`], i.e. the newest), the first [`RECENT_SKUS`] by rank.
/// Keeping the top N of a total order commutes with merging, so the result
/// does not depend on event order or grouping.
fn merge_recent_skus(list: &mut Vec<SkuView>, add: impl IntoIterator<Item = SkuView>) {
    list.extend(add);
    list.sort_by(|a, b| a.sku.cmp(&b.sku).then_with(|| a.rank().cmp(&b.rank())));
    list.dedup_by(|later, first| later.sku == first.sku);
    list.sort_by(|a, b| a.rank().cmp(&b.rank()));
    list.truncate(RECENT_SKUS);
}

fn choose_newer<T>(slot: &mut Option<Sourced<T>>, candidate: Option<Sourced<T>>) {
    let Some(candidate) = candidate else {
        return;
    };
    match slot {
        Some(current) if !candidate.newer_than(current) => {}
        _ => *slot = Some(candidate),
    }
}

fn insert_sorted<T: Ord>(items: &mut Vec<T>, item: T) {
    if let Err(pos) = items.binary_search(&item) {
        items.insert(pos, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activity, Attributes, Consent, IdentifierKind, Order};

    fn event(id: &str, t: i64, name: Option<&str>, points: i64) -> CanonicalEvent {
        CanonicalEvent {
            event_id: id.into(),
            channel: Channel::Pos,
            event_time_ms: t,
            identifiers: vec![Identifier::new(IdentifierKind::MemberId, id)],
            attributes: Attributes {
                full_name: name.map(Into::into),
                ..Attributes::default()
            },
            activity: Activity {
                event_type: "purchase".into(),
                order: Some(Order {
                    order_id: id.into(),
                    amount_minor: 100,
                    currency: "CNY".into(),
                    lines: vec![],
                    payment_type: None,
                    store_id: None,
                }),
                points_earned: points,
                ..Activity::default()
            },
            consents: vec![Consent {
                purpose: "marketing".into(),
                channel: "sms".into(),
                granted: t > 15,
            }],
            dropped: vec![],
        }
    }

    #[test]
    fn most_recent_values_win_regardless_of_arrival_order() {
        let a = event("a", 10, Some("Old Name"), 5);
        let b = event("b", 20, Some("New Name"), 7);
        let mut forward = GoldenRecord::new("p".into(), &a);
        forward.absorb_event(&b);
        let mut backward = GoldenRecord::new("p".into(), &b);
        backward.absorb_event(&a);
        assert_eq!(forward, backward);
        assert_eq!(
            forward.full_name.as_ref().map(|n| n.value.as_str()),
            Some("New Name")
        );
        assert!(forward.consents["marketing:sms"].value);
        assert_eq!(forward.points_balance, 12);
        assert_eq!(forward.spend_minor.get("CNY"), Some(&200));
        assert_eq!((forward.first_seen_ms, forward.last_seen_ms), (10, 20));
    }

    /// Totals saturate instead of wrapping (a debug build would panic):
    /// many huge values, each believable alone, or a canonical event that
    /// did not come through ingest's range checks.
    #[test]
    fn totals_saturate_rather_than_wrap() {
        let mut big = event("a", 10, None, i64::MAX);
        if let Some(order) = big.activity.order.as_mut() {
            order.amount_minor = i64::MAX;
        }
        let mut r = GoldenRecord::new("p".into(), &big);
        r.absorb_event(&event("b", 20, None, i64::MAX));
        let mut redeemed = event("c", 30, None, 0);
        redeemed.activity.points_redeemed = i64::MAX;
        r.absorb_event(&redeemed);
        assert_eq!((r.points_earned, r.points_redeemed), (i64::MAX, i64::MAX));
        assert_eq!(r.points_balance, 0, "MAX + MAX saturates, then - MAX");
        assert_eq!(r.spend_minor.get("CNY"), Some(&i64::MAX));
        let other = r.clone();
        r.absorb_profile(other);
        assert_eq!(
            (r.points_earned, r.spend_minor.get("CNY")),
            (i64::MAX, Some(&i64::MAX))
        );
    }

    #[test]
    fn merging_profiles_equals_folding_all_their_events() {
        let (a, b, c) = (
            event("a", 10, Some("A"), 1),
            event("b", 30, None, 2),
            event("c", 20, Some("C"), 3),
        );
        let mut one = GoldenRecord::new("p".into(), &a);
        one.absorb_event(&b);
        one.absorb_event(&c);
        let mut left = GoldenRecord::new("p".into(), &a);
        let mut right = GoldenRecord::new("q".into(), &c);
        right.absorb_event(&b);
        left.absorb_profile(right);
        assert_eq!(one, left);
    }

    /// An event on `channel` at `t` browsing `skus`, with an order when
    /// `order` is set and some points.
    fn rich(
        id: &str,
        t: i64,
        channel: Channel,
        skus: &[&str],
        order: Option<(i64, &str)>,
        earned: i64,
        redeemed: i64,
    ) -> CanonicalEvent {
        let mut e = event(id, t, Some(id), earned);
        e.channel = channel;
        e.activity.browsed_skus = skus.iter().map(|s| s.to_string()).collect();
        e.activity.order = order.map(|(amount, currency)| Order {
            order_id: id.into(),
            amount_minor: amount,
            currency: currency.into(),
            lines: vec![],
            payment_type: None,
            store_id: None,
        });
        e.activity.points_redeemed = redeemed;
        e
    }

    /// Events touching every portrait field, with more than `RECENT_SKUS`
    /// distinct skus, repeated skus and equal times across channels.
    fn portrait_events() -> Vec<CanonicalEvent> {
        let many: Vec<String> = (0..RECENT_SKUS + 5).map(|i| format!("S{i:02}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        vec![
            rich("a", 100, Channel::Pos, &[], Some((5_000, "CNY")), 10, 0),
            rich("b", 300, Channel::Web, &many[..12], None, 0, 0),
            rich("c", 300, Channel::Social, &many[8..], None, 0, 0),
            rich(
                "d",
                50,
                Channel::Web,
                &["S00", "X"],
                Some((700, "EUR")),
                4,
                3,
            ),
            rich(
                "e",
                400,
                Channel::Pos,
                &["S03"],
                Some((-1_000, "CNY")),
                0,
                6,
            ),
            rich("f", 200, Channel::Social, &["Y", "Y", "S20"], None, 2, 0),
        ]
    }

    fn fold(events: &[&CanonicalEvent], id: &str) -> GoldenRecord {
        let mut r = GoldenRecord::new(id.into(), events[0]);
        for e in &events[1..] {
            r.absorb_event(e);
        }
        r
    }

    /// Every permutation of `items` (Heap's algorithm).
    fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
        fn go<T: Clone>(k: usize, a: &mut Vec<T>, out: &mut Vec<Vec<T>>) {
            if k <= 1 {
                out.push(a.clone());
                return;
            }
            for i in 0..k {
                go(k - 1, a, out);
                let j = if k % 2 == 0 { i } else { 0 };
                a.swap(j, k - 1);
            }
        }
        let mut out = Vec::new();
        go(items.len(), &mut items.to_vec(), &mut out);
        out
    }

    #[test]
    fn portrait_fields_are_independent_of_event_order_and_grouping() {
        let events = portrait_events();
        let refs: Vec<&CanonicalEvent> = events.iter().collect();
        let expected = fold(&refs, "p");
        for order in permutations(&refs) {
            assert_eq!(fold(&order, "p"), expected);
            // Every split into two merged profiles, folded in this order.
            for mask in 1..(1u32 << order.len()) - 1 {
                let (left, right): (Vec<_>, Vec<_>) = order
                    .iter()
                    .enumerate()
                    .partition(|(i, _)| mask & (1 << i) != 0);
                let left: Vec<_> = left.into_iter().map(|(_, e)| *e).collect();
                let right: Vec<_> = right.into_iter().map(|(_, e)| *e).collect();
                let mut merged = fold(&left, "p");
                merged.absorb_profile(fold(&right, "q"));
                assert_eq!(merged, expected, "split {mask:b}");
            }
        }
        // Three-way grouping: (a b) + ((c d) + (e f)).
        let mut inner = fold(&refs[2..4], "r");
        inner.absorb_profile(fold(&refs[4..], "s"));
        let mut outer = fold(&refs[..2], "p");
        outer.absorb_profile(inner);
        assert_eq!(outer, expected);
    }

    #[test]
    fn portrait_fields_hold_what_the_events_say() {
        let events = portrait_events();
        let refs: Vec<&CanonicalEvent> = events.iter().collect();
        let r = fold(&refs, "p");
        let activity: Vec<_> = r
            .channel_activity
            .iter()
            .map(|a| (a.channel, a.first_seen_ms, a.last_seen_ms, a.event_count))
            .collect();
        assert_eq!(
            activity,
            vec![
                (Channel::Pos, 100, 400, 2),
                (Channel::Web, 50, 300, 2),
                (Channel::Social, 200, 300, 2),
            ]
        );
        assert_eq!((r.points_earned, r.points_redeemed), (16, 9));
        assert_eq!(r.points_balance, 7);
        // The refund at 400 takes back spend but is no order.
        assert_eq!((r.first_order_ms, r.last_order_ms), (Some(50), Some(100)));
        assert_eq!(r.order_count, 2);
        assert_eq!(r.spend_minor.get("CNY"), Some(&4_000));
        assert_eq!(r.recent_skus.len(), RECENT_SKUS);
        let first: Vec<_> = r
            .recent_skus
            .iter()
            .take(4)
            .map(|v| (v.sku.as_str(), v.event_time_ms, v.channel))
            .collect();
        // S03 at 400 (POS) is newest; at 300 web and social tie, sku order,
        // and S08..S11 seen on both at 300 keep web (the lower channel).
        assert_eq!(
            first,
            vec![
                ("S03", 400, Channel::Pos),
                ("S00", 300, Channel::Web),
                ("S01", 300, Channel::Web),
                ("S02", 300, Channel::Web),
            ]
        );
        assert!(r
            .recent_skus
            .iter()
            .any(|v| (v.sku.as_str(), v.channel) == ("S08", Channel::Web)));
        let mut skus: Vec<_> = r.recent_skus.iter().map(|v| &v.sku).collect();
        skus.sort();
        skus.dedup();
        assert_eq!(skus.len(), RECENT_SKUS, "each sku once");
        assert!(r.recent_skus.windows(2).all(|w| w[0].rank() < w[1].rank()));
    }

    #[test]
    fn a_free_order_is_an_order_and_a_refund_is_not() {
        let mut r = GoldenRecord::new(
            "p".into(),
            &rich("a", 0, Channel::Pos, &[], Some((0, "CNY")), 0, 0),
        );
        assert_eq!(r.order_count, 1);
        r.absorb_event(&rich("b", 10, Channel::Pos, &[], Some((-500, "CNY")), 0, 0));
        assert_eq!((r.order_count, r.last_order_ms), (1, Some(0)));
        assert_eq!(r.spend_minor.get("CNY"), Some(&-500));
    }

    /// Monetary is read in each currency's major units: ¥50,000 is 50,000
    /// yen (score 5), not 500; 2.000 dinars is 2 (score 1); spend of no
    /// known currency is not scored.
    #[test]
    fn monetary_reads_each_currency_in_its_own_major_units() {
        let score = |amount: i64, currency: &str| {
            let r = GoldenRecord::new(
                "p".into(),
                &rich("a", 0, Channel::Pos, &[], Some((amount, currency)), 0, 0),
            );
            r.rfm(0).monetary_score
        };
        assert_eq!(score(50_000, "JPY"), 5);
        assert_eq!(score(500, "JPY"), 3);
        assert_eq!(score(50_000, "CNY"), 3);
        assert_eq!(score(10_000, "CNY"), 2);
        assert_eq!(score(2_000, "KWD"), 1);
        assert_eq!(score(5_000_000, "KWD"), 5);
        assert_eq!(score(9_000_000, "XXX"), 0);
        // Withdrawn codes read for old orders: their own decimals (none).
        assert_eq!(minor_unit_digits("BYR"), Some(0));
        assert_eq!(minor_unit_digits("TRL"), Some(0));
        assert_eq!(score(150_000, "BYR"), score(150_000, "JPY"));
    }

    #[test]
    fn rfm_scores_follow_the_documented_thresholds() {
        let day = DAY_MS;
        let mut r = GoldenRecord::new("p".into(), &rich("a", 0, Channel::Web, &[], None, 0, 0));
        let none = r.rfm(400 * day);
        assert_eq!(
            (none.recency_days, none.frequency, none.recency_score),
            (None, 0, 0)
        );
        assert_eq!((none.frequency_score, none.monetary_score), (0, 0));
        r.absorb_event(&rich(
            "b",
            10 * day,
            Channel::Pos,
            &[],
            Some((99, "CNY")),
            0,
            0,
        ));
        r.absorb_event(&rich(
            "c",
            20 * day,
            Channel::Pos,
            &[],
            Some((120_000, "EUR")),
            0,
            0,
        ));
        let rfm = r.rfm(50 * day + day / 2);
        assert_eq!(rfm.recency_days, Some(30));
        assert_eq!(rfm.as_of_ms, 50 * day + day / 2);
        assert_eq!(
            (rfm.recency_score, rfm.frequency_score, rfm.monetary_score),
            (5, 2, 4)
        );
        assert_eq!(rfm.monetary_minor, r.spend_minor);
        assert_eq!(
            r.rfm(0).recency_days,
            Some(0),
            "an order after as_of is 0 days"
        );
        let scores: Vec<_> = [
            Some(31),
            Some(90),
            Some(91),
            Some(180),
            Some(365),
            Some(366),
        ]
        .into_iter()
        .map(Rfm::recency_score)
        .collect();
        assert_eq!(scores, vec![4, 4, 3, 3, 2, 1]);
        let scores: Vec<_> = [0, 1, 2, 3, 4, 5, 9, 10]
            .into_iter()
            .map(Rfm::frequency_score)
            .collect();
        assert_eq!(scores, vec![0, 1, 2, 3, 3, 4, 4, 5]);
        let scores: Vec<_> = [-5, 0, 1, 9_999, 10_000, 29_999, 30_000, 100_000, 500_000]
            .into_iter()
            .map(Rfm::monetary_score)
            .collect();
        assert_eq!(scores, vec![0, 0, 1, 1, 2, 2, 3, 4, 5]);
    }

    #[test]
    fn empty_name_never_overwrites_a_known_one() {
        let mut r = GoldenRecord::new("p".into(), &event("a", 10, Some("Ann"), 0));
        r.absorb_event(&event("b", 20, Some(""), 0));
        assert_eq!(r.full_name.map(|n| n.value).as_deref(), Some("Ann"));
    }
}
