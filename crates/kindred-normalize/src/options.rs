use std::collections::BTreeSet;
use std::sync::Arc;

use crate::phone::MobileFastPath;

/// How ambiguous numeric dates such as `03/04/1990` are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// 3 April 1990 (most of the world).
    #[default]
    DayFirst,
    /// 4 March 1990 (United States).
    MonthFirst,
}

impl DateOrder {
    /// How people in `region` write a numeric date, day and month both
    /// numbers (`03/04/1990`), as CLDR 46 writes the short date of the
    /// region's official language (Babel 2.17.0, `Locale.date_formats`;
    /// query in BENCHMARKS.md): month first in the United States and its
    /// territories, the Philippines, Panama, the Marshall Islands and
    /// Eritrea; day first in every other region (those whose likely
    /// language CLDR has no data for, Paraguay, Haiti or Rwanda, write the
    /// day first too). `None` where the year comes first (China, Japan,
    /// Korea, Canada, Sweden, ...: such a region's own form says nothing of
    /// how `03/04/1990` reads).
    pub fn of_region(region: phonenumber::country::Id) -> Option<DateOrder> {
        const MONTH_FIRST: [&str; 11] = [
            "AS", "ER", "GU", "MH", "MP", "PA", "PH", "PR", "UM", "US", "VI",
        ];
        const YEAR_FIRST: [&str; 18] = [
            "AF", "AX", "BT", "CA", "CN", "GL", "HU", "IR", "JP", "KP", "KR", "LK", "LT", "MN",
            "NP", "SE", "TW", "ZA",
        ];
        let code = region.as_ref();
        if MONTH_FIRST.contains(&code) {
            Some(DateOrder::MonthFirst)
        } else if YEAR_FIRST.contains(&code) {
            None
        } else {
            Some(DateOrder::DayFirst)
        }
    }
}

/// Settings that change how values are read. Build with
/// [`NormalizeOptions::default`] or [`NormalizeOptions::for_region`].
#[derive(Debug, Clone)]
pub struct NormalizeOptions {
    /// ISO 3166 region assumed for national phone numbers ("CN").
    pub default_region: phonenumber::country::Id,
    /// Mobile numbers of the default region, checked without the full
    /// parser (see `phone::MobileFastPath`); rebuilt by `for_region`.
    pub(crate) phone_fast_path: Option<Arc<MobileFastPath>>,
    /// Loyalty program of member cards whose event names none ("MAIN").
    pub default_loyalty_program: String,
    /// How an ambiguous numeric date reads where the event's region has no
    /// convention of its own ([`DateOrder::of_region`]), or everywhere when
    /// `date_order_from_event` is off.
    pub date_order: DateOrder,
    /// Read an ambiguous numeric birthday as the country of the event's
    /// address writes dates, before `date_order`. Never by a currency: a
    /// shop prices in USD for customers everywhere.
    pub date_order_from_event: bool,
    /// Apply email provider rules (Gmail dots and +tags, ...) to match keys.
    pub email_provider_rules: bool,
    /// Identifiers that never link anyone, as `kind:normalized-value`
    /// (`phone:+862100000000`, `email:info@shop.example`, `member_id:MAIN:00000001`).
    pub blocklist: BTreeSet<String>,
    /// Read a national phone number first in the region the event itself
    /// names (a web event's address country, a sale's currency when one
    /// country uses it, else its e-mail's country-code domain, which only
    /// makes a mobile there of a landline at home), then in the default
    /// region.
    pub phone_region_from_event: bool,
    /// Store-id prefix -> the region its stores stand in, longest prefix
    /// first: read before a sale's currency (see [`Self::store_region`]).
    pub store_regions: Vec<(String, phonenumber::country::Id)>,
    /// How far ahead of the reading clock an event time may be
    /// ([`crate::normalize_at`]); 0: no limit.
    pub max_future_secs: u64,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions::for_region(phonenumber::country::Id::CN)
    }
}

impl NormalizeOptions {
    /// Default settings with `region` as the default phone region.
    pub fn for_region(region: phonenumber::country::Id) -> Self {
        NormalizeOptions {
            default_region: region,
            phone_fast_path: MobileFastPath::shared(region),
            default_loyalty_program: "MAIN".into(),
            date_order: DateOrder::DayFirst,
            date_order_from_event: true,
            email_provider_rules: true,
            blocklist: BTreeSet::new(),
            phone_region_from_event: true,
            store_regions: Vec::new(),
            max_future_secs: 86_400,
        }
    }

    /// Sets the store table from (prefix, region) pairs, longest prefix first.
    pub fn with_store_regions(
        mut self,
        regions: impl IntoIterator<Item = (String, phonenumber::country::Id)>,
    ) -> Self {
        let mut regions: Vec<_> = regions.into_iter().collect();
        // Longest first; of one prefix in two cases, the lowercase one
        // (the environment lowercases keys, and overrides the file:
        // `KINDRED_NORMALIZE__STORE_REGIONS__FR=BE` beside a file's `FR`).
        regions.sort_by(|a, b| {
            b.0.len()
                .cmp(&a.0.len())
                .then_with(|| a.0.to_ascii_lowercase().cmp(&b.0.to_ascii_lowercase()))
                .then_with(|| b.0.cmp(&a.0))
        });
        regions.dedup_by(|later, kept| later.0.eq_ignore_ascii_case(&kept.0));
        self.store_regions = regions;
        self
    }

    /// The region of the store `store_id` (trimmed), by the longest
    /// configured prefix it starts with, in either case (a prefix set from
    /// the environment arrives lowercased).
    pub fn store_region(&self, store_id: &str) -> Option<phonenumber::country::Id> {
        let id = store_id.trim().as_bytes();
        self.store_regions
            .iter()
            .find(|(prefix, _)| {
                id.get(..prefix.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
            })
            .map(|(_, region)| *region)
    }

    /// Parses a region code such as `CN` or `us`.
    pub fn parse_region(code: &str) -> Result<phonenumber::country::Id, String> {
        code.trim().to_ascii_uppercase().parse().map_err(|_| {
            format!("unknown region code {code:?} (expected ISO 3166-1 alpha-2, e.g. CN)")
        })
    }
}
