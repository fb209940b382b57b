//! What to generate: population, period, channel mix, activity, and the
//! rates of each kind of mess real customer data has.

use serde::{Deserialize, Serialize};

/// What to generate. Every field has a default, so a partial JSON or TOML
/// document is a valid `GenOptions` (`#[serde(default)]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenOptions {
    /// Seed of every random choice. Same seed and options, identical output.
    /// Default 42.
    pub seed: u64,
    /// How many synthetic customers. Default 100.
    pub people: u32,
    /// Start of the simulated period, ms since the Unix epoch. Default
    /// 1735689600000 (2025-01-01T00:00:00Z).
    pub start_ms: i64,
    /// Length of the simulated period in days. Default 90.
    pub days: u32,
    /// Share of customers living in China (CN phones, hanzi names, CNY,
    /// WeChat and friends). The others are spread over `international`.
    /// Default 0.7.
    pub cn_share: f64,
    /// How the non-Chinese customers are spread over countries.
    pub international: IntlMix,
    /// Relative weights of the channels customers use.
    pub channels: ChannelWeights,
    /// How many events a customer has (heavy tailed).
    pub activity: ActivityOptions,
    /// How messy the data is. Default [`MessRates::default`] (moderate);
    /// [`MessRates::none`] gives clean data.
    pub mess: MessRates,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            seed: 42,
            people: 100,
            start_ms: 1_735_689_600_000, // 2025-01-01T00:00:00Z
            days: 90,
            cn_share: 0.7,
            international: IntlMix::default(),
            channels: ChannelWeights::default(),
            activity: ActivityOptions::default(),
            mess: MessRates::default(),
        }
    }
}

impl GenOptions {
    /// When the simulated period ends (Unix milliseconds): no event is
    /// dated after it.
    pub fn end_ms(&self) -> i64 {
        self.start_ms
            .saturating_add(i64::from(self.days).saturating_mul(crate::people::DAY_MS))
    }

    /// Checks that rates are in [0, 1], weights are not negative and some
    /// are positive, and the period and activity make sense.
    pub fn validate(&self) -> Result<(), String> {
        let share = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and 1, not {v}"))
            }
        };
        share("cn_share", self.cn_share)?;
        for (name, v) in self.mess.rates() {
            share(&format!("mess.{name}"), v)?;
        }
        let weights = |name: &str, ws: &[f64]| {
            if ws.iter().any(|w| !w.is_finite() || *w < 0.0) {
                Err(format!("{name} weights must not be negative"))
            } else if ws.iter().sum::<f64>() <= 0.0 {
                Err(format!("{name} weights must not all be zero"))
            } else {
                Ok(())
            }
        };
        weights("channels", &self.channels.as_array())?;
        if self.cn_share < 1.0 {
            weights("international", &self.international.as_array())?;
        }
        if self.days == 0 {
            return Err("days must be at least 1".into());
        }
        let a = &self.activity;
        if !(a.mean_events.is_finite() && a.mean_events >= 1.0) {
            return Err(format!(
                "activity.mean_events must be at least 1, not {}",
                a.mean_events
            ));
        }
        if !(a.spread.is_finite() && (0.0..=3.0).contains(&a.spread)) {
            return Err(format!(
                "activity.spread must be between 0 and 3, not {}",
                a.spread
            ));
        }
        if a.max_events == 0 {
            return Err("activity.max_events must be at least 1".into());
        }
        Ok(())
    }
}

/// Relative weights of the countries of non-Chinese customers. Each country
/// brings its own phone formats, names (with diacritics where the language
/// has them), email providers, addresses and currency. Defaults: GB 0.25,
/// US 0.2, SG 0.2, JP 0.15, DE 0.1, FR 0.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntlMix {
    pub gb: f64,
    pub us: f64,
    pub sg: f64,
    pub jp: f64,
    pub de: f64,
    pub fr: f64,
}

impl Default for IntlMix {
    fn default() -> Self {
        IntlMix {
            gb: 0.25,
            us: 0.2,
            sg: 0.2,
            jp: 0.15,
            de: 0.1,
            fr: 0.1,
        }
    }
}

impl IntlMix {
    pub(crate) fn as_array(&self) -> [f64; 6] {
        [self.gb, self.us, self.sg, self.jp, self.de, self.fr]
    }
}

/// Relative weights of the channels. Each customer's own mix varies around
/// these (some use one channel only). Defaults: POS 0.45, web 0.35, social 0.2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelWeights {
    pub pos: f64,
    pub web: f64,
    pub social: f64,
}

impl Default for ChannelWeights {
    fn default() -> Self {
        ChannelWeights {
            pos: 0.45,
            web: 0.35,
            social: 0.2,
        }
    }
}

impl ChannelWeights {
    pub(crate) fn as_array(&self) -> [f64; 3] {
        [self.pos, self.web, self.social]
    }
}

/// Events per customer: `1 + floor(X)` with X log-normal, capped. Most
/// customers have one to three events, a few have dozens or hundreds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityOptions {
    /// Mean events per customer before the cap (the cap lowers it a little
    /// for large `spread`). Default 4.
    pub mean_events: f64,
    /// Sigma of the log-normal: 0 gives everyone about the mean, 1 to 1.5
    /// is retail-like (the top 1% of customers hold 10-20% of events).
    /// Default 1.2.
    pub spread: f64,
    /// Most events one customer can have. Default 300.
    pub max_events: u32,
}

impl Default for ActivityOptions {
    fn default() -> Self {
        ActivityOptions {
            mean_events: 4.0,
            spread: 1.2,
            max_events: 300,
        }
    }
}

/// How often each kind of mess happens. Every rate is a probability in
/// [0, 1]. Decisions are coupled across rates: raising a rate keeps the
/// mess of the lower rate and adds more. Each rate touches only its own
/// kind of mess: with the same seed, the customers, their events and the
/// other kinds of mess stay the same when one rate changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessRates {
    /// Share of phone numbers written in another format than the clean one
    /// (national digits for China, E.164 elsewhere): `+86 139 1024 8876`,
    /// `0086-139-1024-8876`, `139.1024.8876`, `(+86) 139-1024-8876`,
    /// full-width digits, `(415) 555-2671`, `+44 (0)7911 123456`, and
    /// national forms of foreign numbers (`07911 123456`, which a reader
    /// assuming China cannot place). Default 0.3.
    pub phone_format: f64,
    /// Share of email addresses written differently from the canonical
    /// lower-case form: case changes, surrounding spaces, `Name <addr>`,
    /// `mailto:`, and where the provider ignores them Gmail dots, `+tags`
    /// and googlemail.com. Default 0.2.
    pub email_format: f64,
    /// Share of names and addresses written differently: upper or lower
    /// case, extra spaces, `李 伟`, family name first, diacritics dropped,
    /// Japanese names in romaji instead of kanji, country spelled `中国`,
    /// `China`, `PRC` or `CN`. Default 0.15.
    pub name_format: f64,
    /// Share of member cards and platform names written differently:
    /// spaces in card numbers, full-width digits, lower case, `WeChat`,
    /// `weixin`, `微信`, `mini_program`. Default 0.1.
    pub id_format: f64,
    /// Share of birthdays not in ISO form: `1990/5/17`, `1990年5月17日`,
    /// `17/05/1990`, `17.05.1990`, `May 17, 1990`, and month-first
    /// `05/17/1990` from US customers. Default 0.4.
    pub birthday_format: f64,
    /// Share of names typed with a one-character mistake: a wrong homophone
    /// hanzi (`张伟` -> `张玮`), a dropped, doubled or swapped letter, a
    /// neighbouring key, a missing space. Default 0.03.
    pub name_typo: f64,
    /// Share of email addresses typed with a mistake (`gmial.com`,
    /// `163.con`, swapped or dropped letters): in effect another
    /// identifier. The same share of web accounts were opened with a
    /// mistyped address, which stays on the account. Default 0.02.
    pub email_typo: f64,
    /// Probability that each optional field of an event is missing
    /// (a phone, an email, a name part, a union id, an address...). An
    /// event always keeps at least one identifying field. Default 0.1.
    pub missing_field: f64,
    /// Share of customers living with another customer: they share the
    /// address (mostly) and a home landline (often), sometimes a computer
    /// (device id), and now and then one gives the other's mobile at the
    /// till; names, cards and emails differ, family names often not.
    /// Default 0.1.
    pub household: f64,
    /// Share of customers who switch to a new mobile number during the
    /// period: later events carry the new one (a few still the old), while
    /// the member card, account and email stay. Default 0.05.
    pub phone_change: f64,
    /// Share of customers who switch to a new email address during the
    /// period (the web account follows). Default 0.04.
    pub email_change: f64,
    /// Extra share of customers with exactly the full name of another
    /// customer of the same country and gender, on top of the namesakes
    /// common Chinese names give anyway. Default 0.01.
    pub namesake: f64,
    /// Share of till sales and web form submissions (signup, order,
    /// profile update) where a junk identifier was typed instead of the
    /// customer's: a cashier's placeholder phone (`13800000000`,
    /// `13800138000`, `0000`, `na`), the store's own phone, a store's house
    /// card, `test@test.com`, `a@a.com`. Junk values are shared by unrelated
    /// customers; some are recognisably junk, some look like real values.
    /// Default 0.03.
    pub junk_id: f64,
    /// Share of events delivered twice: the same source id and identical
    /// content, again later in the stream. Default 0.02.
    pub duplicate_delivery: f64,
    /// Share of events that arrive late (minutes to days after their event
    /// time), out of event-time order. Default 0.03.
    pub late: f64,
}

impl Default for MessRates {
    fn default() -> Self {
        MessRates {
            phone_format: 0.3,
            email_format: 0.2,
            name_format: 0.15,
            id_format: 0.1,
            birthday_format: 0.4,
            name_typo: 0.03,
            email_typo: 0.02,
            missing_field: 0.1,
            household: 0.1,
            phone_change: 0.05,
            email_change: 0.04,
            namesake: 0.01,
            junk_id: 0.03,
            duplicate_delivery: 0.02,
            late: 0.03,
        }
    }
}

impl MessRates {
    /// Clean data: every rate zero.
    pub fn none() -> Self {
        MessRates {
            phone_format: 0.0,
            email_format: 0.0,
            name_format: 0.0,
            id_format: 0.0,
            birthday_format: 0.0,
            name_typo: 0.0,
            email_typo: 0.0,
            missing_field: 0.0,
            household: 0.0,
            phone_change: 0.0,
            email_change: 0.0,
            namesake: 0.0,
            junk_id: 0.0,
            duplicate_delivery: 0.0,
            late: 0.0,
        }
    }

    /// Every rate multiplied by `factor`, capped to [0, 1].
    pub fn scale(&self, factor: f64) -> Self {
        let mut out = self.clone();
        for (_, rate) in out.rates_mut() {
            *rate = (*rate * factor).clamp(0.0, 1.0);
            if rate.is_nan() {
                *rate = 0.0;
            }
        }
        out
    }

    /// Each rate with its field name, in declaration order.
    pub fn rates(&self) -> [(&'static str, f64); 15] {
        [
            ("phone_format", self.phone_format),
            ("email_format", self.email_format),
            ("name_format", self.name_format),
            ("id_format", self.id_format),
            ("birthday_format", self.birthday_format),
            ("name_typo", self.name_typo),
            ("email_typo", self.email_typo),
            ("missing_field", self.missing_field),
            ("household", self.household),
            ("phone_change", self.phone_change),
            ("email_change", self.email_change),
            ("namesake", self.namesake),
            ("junk_id", self.junk_id),
            ("duplicate_delivery", self.duplicate_delivery),
            ("late", self.late),
        ]
    }

    fn rates_mut(&mut self) -> [(&'static str, &mut f64); 15] {
        [
            ("phone_format", &mut self.phone_format),
            ("email_format", &mut self.email_format),
            ("name_format", &mut self.name_format),
            ("id_format", &mut self.id_format),
            ("birthday_format", &mut self.birthday_format),
            ("name_typo", &mut self.name_typo),
            ("email_typo", &mut self.email_typo),
            ("missing_field", &mut self.missing_field),
            ("household", &mut self.household),
            ("phone_change", &mut self.phone_change),
            ("email_change", &mut self.email_change),
            ("namesake", &mut self.namesake),
            ("junk_id", &mut self.junk_id),
            ("duplicate_delivery", &mut self.duplicate_delivery),
            ("late", &mut self.late),
        ]
    }

    /// The same rates clamped to [0, 1] (NaN as 0), as generation uses them.
    pub(crate) fn clamped(&self) -> Self {
        self.scale(1.0)
    }
}

impl GenOptions {
    /// The options as generation uses them: shares and rates clamped to
    /// [0, 1], negative or NaN weights as 0 (all zero: the defaults).
    pub(crate) fn sanitized(&self) -> Self {
        let share = |v: f64| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        let weight = |v: f64| if v.is_nan() { 0.0 } else { v.max(0.0) };
        let mut o = self.clone();
        o.cn_share = share(o.cn_share);
        o.mess = o.mess.clamped();
        let c = &mut o.channels;
        (c.pos, c.web, c.social) = (weight(c.pos), weight(c.web), weight(c.social));
        if c.as_array().iter().sum::<f64>() <= 0.0 || !c.as_array().iter().all(|w| w.is_finite()) {
            o.channels = ChannelWeights::default();
        }
        let i = &mut o.international;
        (i.gb, i.us, i.sg, i.jp, i.de, i.fr) = (
            weight(i.gb),
            weight(i.us),
            weight(i.sg),
            weight(i.jp),
            weight(i.de),
            weight(i.fr),
        );
        if i.as_array().iter().sum::<f64>() <= 0.0 || !i.as_array().iter().all(|w| w.is_finite()) {
            o.international = IntlMix::default();
        }
        let a = &mut o.activity;
        if !a.mean_events.is_finite() || a.mean_events < 1.0 {
            a.mean_events = 1.0;
        }
        a.spread = if a.spread.is_finite() {
            a.spread.clamp(0.0, 3.0)
        } else {
            0.0
        };
        a.max_events = a.max_events.max(1);
        o.days = o.days.max(1);
        o
    }
}
