//! The operator commands on the resolver's store: `kindred review`,
//! `split`, `explain`, `rules diff|apply` and `republish`. Those that change
//! the store open it as its one writer (the resolver service must be
//! stopped: RocksDB allows one writer, and says so), change it in one atomic
//! write, and leave the change events in the store's outbox; the resolver
//! service publishes them when it starts. Those that only read (`explain`,
//! `review list`, `rules diff`) open it as a reader beside the service
//! ([`open_reader`]).

use std::fmt::Write as _;

use kindred_config::Config;
use kindred_model::{Channel, GoldenRecord, IdentifierKind, Sourced};
use kindred_resolver::{
    AdminError, DecisionKind, DecisionOutcome, Explanation, Resolver, RulesPlan, SplitSelector,
};
use serde_json::json;

use crate::{normalize_options, PipelineError};

impl From<AdminError> for PipelineError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Store(e) => PipelineError::Store(e),
            other => PipelineError::Config(other.to_string()),
        }
    }
}

/// Opens the store of `config` with its linking and survivorship policies,
/// as its one writer: the resolver service must be stopped.
pub fn open(config: &Config) -> Result<Resolver, PipelineError> {
    existing_store(config)?;
    let store = crate::privacy::open_store(config).map_err(|e| match e {
        // RocksDB names the LOCK file of a store another process holds
        // (the path alone could contain "lock").
        PipelineError::Store(e) if e.to_string().contains("LOCK:") => {
            // `e` names the store's path already.
            PipelineError::Config(format!(
                "{e}; the store allows one writer at a time: stop the resolver service first \
                 (explain, review list and rules diff read it beside the service)"
            ))
        }
        other => other,
    })?;
    Ok(with_policies(store, config))
}

/// Opens the store of `config` to read it, beside the resolver service if
/// it runs (a RocksDB secondary instance: the batches committed when it
/// opens; see [`kindred_resolver::Store::open_reader`]).
pub fn open_reader(config: &Config) -> Result<Resolver, PipelineError> {
    let dir = existing_store(config)?;
    let store = crate::privacy::open_reader_at(config, dir)?;
    Ok(with_policies(store, config))
}

/// `resolver.data_dir`, if it holds a store: a directory without one (its
/// parent, a typo) would get a new, empty store, and every answer would be
/// "not found".
fn existing_store(config: &Config) -> Result<&std::path::Path, PipelineError> {
    let dir = &config.resolver.data_dir;
    if !dir.join("CURRENT").is_file() {
        return Err(PipelineError::Config(format!(
            "no resolver store at {} (resolver.data_dir): the directory has no RocksDB store \
             (no CURRENT file)",
            dir.display()
        )));
    }
    Ok(dir)
}

fn with_policies(store: kindred_resolver::Store, config: &Config) -> Resolver {
    Resolver::with_policy(
        store,
        config.resolver.linking.clone(),
        config.resolver.survivorship.clone(),
    )
}

/// The profile a target names: a profile id (`kp-...`, redirects
/// followed) or an identifier `kind:value`, normalized as in events.
pub fn profile_id(
    resolver: &Resolver,
    config: &Config,
    target: &str,
) -> Result<String, PipelineError> {
    if target.starts_with("kp-") {
        return Ok(resolver.store().resolve_redirects(target)?);
    }
    let identifier = parse_identifier(config, target)?;
    resolver.profile_of(&identifier)?.ok_or_else(|| {
        let kind = identifier.kind;
        if config.resolver.linking.identifiers.get(kind).link {
            PipelineError::Config(format!(
                "no profile holds {} (looked up by its normalized form)",
                identifier.masked()
            ))
        } else {
            // No index entry is kept for a kind that does not link: its
            // holders are not found this way, though profiles list it.
            PipelineError::Config(format!(
                "{} cannot be looked up: resolver.linking.identifiers.{kind}.link is off, so no \
                 index of {kind} identifiers is kept; name the profile by its id (kp-...)",
                identifier.masked()
            ))
        }
    })
}

/// The pair of profile ids an approval was given that made `profile` one
/// (both now lead to it): what a reject by identifiers means. Several such
/// approvals: the reviewer names the pair by profile ids.
fn approved_pair(resolver: &Resolver, profile: &str) -> Result<(String, String), PipelineError> {
    let store = resolver.store();
    // Only approvals still in force: one a reject took back holds nothing.
    let holding = resolver.approvals_holding(profile)?;
    let mut pairs = Vec::new();
    for d in store.decisions()? {
        if d.kind != DecisionKind::Approve || d.profiles.len() != 2 || !holding.contains(&d.id) {
            continue;
        }
        let mut all_here = true;
        for p in &d.profiles {
            all_here &= store.resolve_redirects(p)? == profile;
        }
        if all_here {
            pairs.push((d.profiles[0].clone(), d.profiles[1].clone(), d.actor));
        }
    }
    match pairs.len() {
        0 => Err(PipelineError::Config(format!(
            "both identifiers are held by {profile}, and no approval made it one: use `kindred split`"
        ))),
        1 => {
            let (a, b, _) = pairs.remove(0);
            Ok((a, b))
        }
        _ => Err(PipelineError::Config(format!(
            "{} approvals made {profile} one ({}): name the pair to reject by its profile ids",
            pairs.len(),
            pairs
                .iter()
                .map(|(a, b, by)| format!("{a} and {b}, by {by}"))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

/// A command that re-partitions and rebuilds profiles must do it by the
/// resolve service's linking and survivorship settings: under other ones
/// (a forgotten `-c`, the defaults) it would leave profiles the service
/// would have linked or summed otherwise.
fn same_settings_as_the_service(resolver: &Resolver, config: &Config) -> Result<(), PipelineError> {
    match resolver.running_settings_differ()? {
        None => Ok(()),
        Some(differ) => Err(PipelineError::Config(format!(
            "this configuration's {differ} differ from the ones the resolver service last ran \
             with on {}: run the command with the service's configuration (-c FILE)",
            config.resolver.data_dir.display()
        ))),
    }
}

/// [`profile_id`] for a command that changes the store: an identifier
/// held by more than one profile (a shared card, a household's line, the
/// two parts of a split) or quarantined names no one profile, and acting
/// on the oldest holder would act on the wrong person; the error lists
/// the holders to choose from.
pub fn sole_profile_id(
    resolver: &Resolver,
    config: &Config,
    target: &str,
) -> Result<String, PipelineError> {
    if !target.starts_with("kp-") {
        let s = standing(resolver, config, target)?;
        if s.quarantined {
            return Err(PipelineError::Config(format!(
                "{} is quarantined as over-shared and names no one profile: give a profile id \
                 (`kindred explain` lists its records' profiles)",
                s.masked
            )));
        }
        if s.holders.len() > 1 {
            return Err(PipelineError::Config(format!(
                "{} is held by {} profiles ({}): give the profile id of the one you mean",
                s.masked,
                s.holders.len(),
                s.holders.join(", ")
            )));
        }
    }
    profile_id(resolver, config, target)
}

/// `kind:value` typed by a person, normalized.
pub fn parse_identifier(
    config: &Config,
    text: &str,
) -> Result<kindred_model::Identifier, PipelineError> {
    let (kind, value) = text.split_once(':').ok_or_else(|| {
        // Not quoted: a bare value is likely a phone or email.
        PipelineError::Config(
            "the target given is neither a profile id (kp-...) nor an identifier kind:value (e.g. phone:+8613910248876, email:a@b.cn, member_id:MAIN:M001)"
                .to_string(),
        )
    })?;
    let kind: IdentifierKind = kind
        .parse()
        .map_err(|e| PipelineError::Config(format!("{e}")))?;
    let opts = normalize_options(config)?;
    kindred_normalize::normalize_identifier(kind, value, &opts).map_err(|r| {
        PipelineError::Config(format!(
            "{kind}: the value is not a valid identifier ({})",
            r.as_str(),
            kind = kind.as_str()
        ))
    })
}

/// `kindred review list`: the review queue.
pub fn review_list(config: &Config, as_json: bool) -> Result<String, PipelineError> {
    let resolver = open_reader(config)?;
    let queue = resolver.store().pending_suggestions()?;
    let items: Vec<_> = queue
        .iter()
        .map(|s| {
            json!({"profile_a": s.profile_a, "profile_b": s.profile_b, "rule": s.rule,
                   "rule_version": s.rule_version, "kinds": s.kinds, "reason": s.reason, "at_ms": s.at_ms})
        })
        .collect();
    Ok(queue_report(items, as_json))
}

/// The review queue as `kindred review list` prints it: `items` (JSON
/// objects with the pair, rule, rule version, evidence kinds and reason)
/// as a JSON array, or one line each.
pub(crate) fn queue_report(items: Vec<serde_json::Value>, as_json: bool) -> String {
    if as_json {
        return serde_json::Value::Array(items).to_string();
    }
    let text = |v: &serde_json::Value, k: &str| match &v[k] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    let mut out = format!("{} pairs waiting for review\n", items.len());
    for s in &items {
        let _ = writeln!(
            out,
            "{}  {}  {} v{} [{}] refused by {}",
            text(s, "profile_a"),
            text(s, "profile_b"),
            text(s, "rule"),
            text(s, "rule_version"),
            text(s, "kinds"),
            text(s, "reason")
        );
    }
    out
}

/// `kindred review approve|reject A B`.
pub fn review(
    config: &Config,
    a: &str,
    b: &str,
    approve: bool,
    reviewer: &str,
) -> Result<String, PipelineError> {
    let mut resolver = open(config)?;
    // Profile ids as given (the review queue keys pairs by the ids it
    // flagged; the resolver follows redirects itself); identifiers looked up.
    let id = |target: &str| {
        if target.starts_with("kp-") {
            Ok(target.to_string())
        } else {
            sole_profile_id(&resolver, config, target)
        }
    };
    let by_identifiers = !a.starts_with("kp-") && !b.starts_with("kp-");
    let (pa, pb) = (id(a)?, id(b)?);
    same_settings_as_the_service(&resolver, config)?;
    let done = if pa == pb && !approve && (!a.starts_with("kp-") || !b.starts_with("kp-")) {
        // Two identifiers of one profile: a reject takes back the approval
        // that made it one, which names the pair by the ids it was given,
        // and only if that parts the two identifiers' records.
        if !by_identifiers {
            // A profile id and an identifier of it: which records to part
            // is not said, and the profile's approval would be taken back
            // whatever it joined.
            return Err(PipelineError::Config(format!(
                "both name profile {pa}: to part two people's records in it, name each by an identifier of theirs (a reject takes back the approval that joined them), or give the approved pair's profile ids"
            )));
        }
        let (x, y) = approved_pair(&resolver, &pa)?;
        let (ia, ib) = (parse_identifier(config, a)?, parse_identifier(config, b)?);
        resolver.reject_parting(&x, &y, (&ia, &ib), reviewer, now_ms())?
    } else {
        resolver.review(&pa, &pb, approve, reviewer, now_ms())?
    };
    Ok(decision_report(&done))
}

/// `kindred split TARGET --identifier ID | --source CHANNEL`.
pub fn split(
    config: &Config,
    target: &str,
    identifier: Option<&str>,
    source: Option<Channel>,
    actor: &str,
) -> Result<String, PipelineError> {
    let mut resolver = open(config)?;
    // A profile id as given: the resolver follows redirects itself and
    // refuses an absorbed id (the split would act on the whole survivor);
    // an identifier is looked up.
    let profile = if target.starts_with("kp-") {
        target.to_string()
    } else {
        sole_profile_id(&resolver, config, target)?
    };
    let selector = match (identifier, source) {
        (Some(text), None) => SplitSelector::Identifier(parse_identifier(config, text)?),
        (None, Some(channel)) => SplitSelector::Source(channel),
        _ => {
            return Err(PipelineError::Config(
                "split needs exactly one of --identifier or --source".into(),
            ))
        }
    };
    same_settings_as_the_service(&resolver, config)?;
    let done = resolver.split(&profile, &selector, actor, now_ms())?;
    Ok(decision_report(&done))
}

/// The first ten of `ids`, joined, and how many there are in all if more.
fn first_of(ids: &[String], sep: &str) -> String {
    let mut out = ids.iter().take(10).cloned().collect::<Vec<_>>().join(sep);
    if ids.len() > 10 {
        let _ = write!(out, "{sep}... ({} in all)", ids.len());
    }
    out
}

fn decision_report(done: &DecisionOutcome) -> String {
    let d = &done.decision;
    let mut out = format!(
        "decision {} ({}) by {}: {} -> {}\n",
        d.id,
        match d.kind.split_by() {
            Some(by) => format!("{}, {by}", d.kind.as_str()),
            None => d.kind.as_str().to_string(),
        },
        d.actor,
        first_of(&d.profiles, " + "),
        first_of(&d.outcome, ", ")
    );
    let shown = 20;
    for c in done.outcome.changes.iter().take(shown) {
        // A new id starts at version 1: a later one created is an id a
        // merge absorbed, given back to the records it first named.
        let returned = c.change_type == kindred_model::ChangeType::Created && c.version > 1;
        let _ = writeln!(
            out,
            "  {} {} v{}{}{}",
            c.change_type.as_str(),
            c.profile_id,
            c.version,
            c.superseded_by
                .as_ref()
                .map(|s| format!(" -> {s}"))
                .unwrap_or_default(),
            if returned {
                " (an id absorbed earlier, given back)"
            } else {
                ""
            }
        );
    }
    if done.outcome.changes.len() > shown {
        let _ = writeln!(out, "  ... {} more", done.outcome.changes.len() - shown);
    }
    let _ = writeln!(
        out,
        "{} change events wait in the store's outbox; the resolver service publishes them when it starts",
        done.outcome.changes.len()
    );
    out
}

/// `kindred explain TARGET`.
///
/// Given an identifier, it also says where the identifier stands: a card
/// its records show shared (they name clearly different people); held by
/// several profiles (its records did not all link: a shared card or
/// computer, a household's line, a link a guard refused), then the first
/// of them is explained; or quarantined as over-shared, then it links no
/// one and there is no profile to explain.
pub fn explain(config: &Config, target: &str, as_json: bool) -> Result<String, PipelineError> {
    let resolver = open_reader(config)?;
    let standing = if target.starts_with("kp-") {
        None
    } else {
        Some(standing(&resolver, config, target)?)
    };
    if let Some(s) = standing.as_ref().filter(|s| s.quarantined) {
        return Ok(if as_json {
            json!({ "identifier": s.json() }).to_string()
        } else {
            format!(
                "{} is quarantined as over-shared (seen with more people than the quarantine's \
                 limits allow, resolver.linking.quarantine): it links no records, so no profile \
                 comes from it\n",
                s.masked
            )
        });
    }
    let profile = profile_id(&resolver, config, target)?;
    let e = resolver.explain(&profile)?;
    Ok(if as_json {
        let mut out = explanation_json(&e);
        if let Some(s) = &standing {
            out["identifier"] = s.json();
        }
        out.to_string()
    } else {
        let mut out = String::new();
        if let Some(s) = standing.as_ref().filter(|s| s.names_differ) {
            let _ = writeln!(
                out,
                "{} is shared: its records name clearly different people, or more than 16 names (a \
                 lent card or a store's house card), so it links only records of alike names, and \
                 its unnamed receipts count as customers of their own on households' lines",
                s.masked
            );
        }
        if let Some(s) = standing.filter(|s| s.holders.len() > 1) {
            let _ = writeln!(
                out,
                "{} is held by {} profiles ({}): its records did not all link (a shared card or \
                 computer, a household's line, or a link a guard refused); the first is explained \
                 below\n",
                s.masked,
                s.holders.len(),
                s.holders.join(", ")
            );
        }
        out.push_str(&explanation_text(&e));
        out
    })
}

/// Where an identifier stands in the index.
struct Standing {
    masked: String,
    /// Profile ids holding it, redirects followed, sorted.
    holders: Vec<String>,
    quarantined: bool,
    /// Its records name clearly different people (`IndexEntry::names_differ`).
    names_differ: bool,
}

impl Standing {
    fn json(&self) -> serde_json::Value {
        json!({
            "identifier": self.masked,
            "holders": self.holders,
            "quarantined": self.quarantined,
            "names_differ": self.names_differ,
        })
    }
}

fn standing(resolver: &Resolver, config: &Config, target: &str) -> Result<Standing, PipelineError> {
    let identifier = parse_identifier(config, target)?;
    let entry = resolver
        .store()
        .index_entry(&identifier)?
        .unwrap_or_default();
    let mut holders = Vec::with_capacity(entry.holders.len());
    for h in &entry.holders {
        holders.push(resolver.store().resolve_redirects(&h.profile_id)?);
    }
    holders.sort();
    holders.dedup();
    Ok(Standing {
        masked: identifier.masked(),
        holders,
        quarantined: entry.quarantined,
        names_differ: entry.names_differ,
    })
}

fn winners(r: &GoldenRecord) -> Vec<(&'static str, Option<&kindred_model::Provenance>)> {
    fn p<T>(s: &Option<Sourced<T>>) -> Option<&kindred_model::Provenance> {
        s.as_ref().map(|s| &s.source)
    }
    vec![
        ("full_name", p(&r.full_name)),
        ("given_name", p(&r.given_name)),
        ("family_name", p(&r.family_name)),
        ("birthday", p(&r.birthday)),
        ("gender", p(&r.gender)),
        ("address", p(&r.address)),
    ]
}

/// What the split decision behind lineage record `l` took out
/// (`identifier phone:+86****111`, `channel social`), when a split by a
/// person caused it and its decision record is among `e`'s.
fn split_by(e: &Explanation, l: &kindred_resolver::LineageRecord) -> Option<String> {
    if l.split_into.is_empty() {
        return None;
    }
    let (id, _) = l.decision.as_ref()?;
    e.decisions
        .iter()
        .find(|d| d.id == *id)
        .and_then(|d| d.kind.split_by())
}

fn explanation_text(e: &Explanation) -> String {
    let r = &e.record;
    let mut out = format!(
        "profile {} (version {}): {} source events, {} identifiers ({}), channels {}\n",
        r.profile_id,
        r.version,
        e.events,
        r.identifiers.len(),
        r.identifiers
            .iter()
            .map(|i| i.masked())
            .collect::<Vec<_>>()
            .join(", "),
        r.channels
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    out.push_str("\nhow it came together (oldest first):\n");
    if e.lineage.is_empty() {
        out.push_str(
            "  no merges or splits of profiles: its records joined it one by one (see below)\n",
        );
    }
    for l in &e.lineage {
        let what = if !l.absorbed.is_empty() {
            format!("absorbed {}", l.absorbed.join(", "))
        } else {
            format!("split off {}", l.split_into.join(", "))
        };
        let mut rules: Vec<String> = l
            .links
            .iter()
            .map(|(rule, v, kinds)| format!("{rule} v{v} [{}]", kinds.join(",")))
            .collect();
        // A split by a person: what it took out (masked), from its record.
        rules.extend(split_by(e, l));
        let by = l
            .decision
            .as_ref()
            .map(|(id, actor)| format!(" by {actor} (decision {id})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {} {}: {}{} (cause {})",
            fmt_time(l.at_ms),
            l.survivor,
            what,
            if rules.is_empty() {
                "-".to_string()
            } else {
                rules.join("; ")
            },
            by,
            l.cause_event_id
        );
    }
    out.push_str("\nwhat each record shares with the profile's other records:\n");
    for r in &e.records {
        let _ = writeln!(
            out,
            "  {} {:<6} {}: {}",
            fmt_time(r.event_time_ms),
            r.channel.as_str(),
            r.event_id,
            if r.shared.is_empty() {
                "nothing (its only record, or held by a decision)".to_string()
            } else {
                r.shared.join(", ")
            }
        );
    }
    if e.events > e.records.len() {
        let _ = writeln!(out, "  ... {} more records", e.events - e.records.len());
    }
    if !e.decisions.is_empty() {
        out.push_str("\ndecisions pinned on its records:\n");
        for d in &e.decisions {
            let _ = writeln!(
                out,
                "  {} decision {} {} by {}",
                fmt_time(d.at_ms),
                d.id,
                d.kind.as_str(),
                d.actor
            );
        }
    }
    // What the records add up to: a split moves these with their events.
    let spend: Vec<String> = r
        .spend_minor
        .iter()
        .map(|(c, m)| format!("{} {c}", crate::demo::major_units(*m, c)))
        .collect();
    let _ = writeln!(
        out,
        "\nwhat its records add up to:\n  {} orders, spend {}, points balance {} (earned {}, redeemed {})",
        r.order_count,
        if spend.is_empty() {
            "none".to_string()
        } else {
            spend.join(", ")
        },
        r.points_balance,
        r.points_earned,
        r.points_redeemed
    );
    out.push_str("\nwhich source won each attribute:\n");
    for (field, source) in winners(r) {
        if let Some(s) = source {
            let _ = writeln!(
                out,
                "  {field:<12} {} event {} at {}",
                s.channel.as_str(),
                s.event_id,
                fmt_time(s.event_time_ms)
            );
        }
    }
    for (key, c) in &r.consents {
        let _ = writeln!(
            out,
            "  consent {key}: {} ({} event {} at {})",
            if c.value { "granted" } else { "withdrawn" },
            c.source.channel.as_str(),
            c.source.event_id,
            fmt_time(c.source.event_time_ms)
        );
    }
    let reachable: Vec<&str> = r
        .may_contact
        .iter()
        .filter(|(_, may)| **may)
        .map(|(channel, _)| channel.as_str())
        .collect();
    let _ = writeln!(
        out,
        "  may contact via: {}",
        if reachable.is_empty() {
            "none".to_string()
        } else {
            reachable.join(", ")
        }
    );
    out
}

fn explanation_json(e: &Explanation) -> serde_json::Value {
    let r = &e.record;
    json!({
        "profile_id": r.profile_id,
        "version": r.version,
        "events": e.events,
        "identifiers": r.identifiers.iter().map(|i| i.masked()).collect::<Vec<_>>(),
        "lineage": e.lineage.iter().map(|l| json!({
            "at_ms": l.at_ms, "survivor": l.survivor, "absorbed": l.absorbed,
            "split_into": l.split_into, "cause": l.cause_event_id,
            "links": l.links.iter().map(|(rule, v, kinds)| json!({"rule": rule, "version": v, "kinds": kinds})).collect::<Vec<_>>(),
            "decision": l.decision.as_ref().map(|(id, actor)| json!({"id": id, "actor": actor})),
            "split_by": split_by(e, l),
        })).collect::<Vec<_>>(),
        "decisions": e.decisions.iter().map(|d| json!({"id": d.id, "kind": d.kind.as_str(), "actor": d.actor, "at_ms": d.at_ms, "split_by": d.kind.split_by()})).collect::<Vec<_>>(),
        "orders": r.order_count,
        "spend_minor": r.spend_minor,
        "points": {"balance": r.points_balance, "earned": r.points_earned, "redeemed": r.points_redeemed},
        "records": e.records.iter().map(|r| json!({
            "event_id": r.event_id, "channel": r.channel.as_str(), "event_time_ms": r.event_time_ms,
            "shares": r.shared})).collect::<Vec<_>>(),
        "winners": winners(r).into_iter().filter_map(|(f, s)| s.map(|s| (f.to_string(), json!({
            "channel": s.channel.as_str(), "event_id": s.event_id, "event_time_ms": s.event_time_ms})))).collect::<serde_json::Map<_, _>>(),
        "consents": r.consents.iter().map(|(key, c)| (key.clone(), json!({
            "value": c.value, "channel": c.source.channel.as_str(),
            "event_id": c.source.event_id, "event_time_ms": c.source.event_time_ms}))).collect::<serde_json::Map<_, _>>(),
        "may_contact": r.may_contact,
    })
}

/// `kindred rules diff --new FILE`: what applying the new linking policy
/// would do, changing nothing.
pub fn rules_diff(config: &Config, new: &Config, as_json: bool) -> Result<String, PipelineError> {
    let resolver = open_reader(config)?;
    let plan = resolver.plan_rules(&new.resolver.linking)?;
    Ok(plan_report(&plan, as_json, "would"))
}

/// `kindred rules apply --new FILE`: applies it to the affected profiles.
pub fn rules_apply(config: &Config, new: &Config, actor: &str) -> Result<String, PipelineError> {
    let mut resolver = open(config)?;
    // The profiles it re-partitions are rebuilt by `config`'s survivorship
    // rules: the service's, or they would differ from what it builds.
    same_settings_as_the_service(&resolver, config)?;
    let (plan, done) = resolver.apply_rules(new.resolver.linking.clone(), actor, now_ms())?;
    let mut out = plan_report(&plan, false, "did");
    out.push_str(&decision_report(&done));
    out.push_str("run the resolver with the new [resolver.linking] from now on\n");
    Ok(out)
}

/// `kindred republish`: queues every live profile for the profile topic
/// again, under the output policy the resolver publishes with.
pub fn republish(config: &Config, actor: &str) -> Result<String, PipelineError> {
    let mut resolver = open(config)?;
    // It settles every profile by `config`'s survivorship rules (a command
    // run without `-c` would restate everyone under the defaults).
    same_settings_as_the_service(&resolver, config)?;
    let decision = resolver.republish(actor, now_ms(), REPUBLISH_CHUNK)?;
    let profiles = match decision.kind {
        DecisionKind::Republish { profiles } => profiles,
        _ => 0,
    };
    Ok(format!(
        "decision {}: queued {profiles} profiles for {} as `updated` changes with their next \
         version and no changed fields; the resolver publishes them, with the [privacy.output] \
         policy of its config, when it next runs\n",
        decision.id, config.topics.profiles
    ))
}

/// Profiles per atomic batch of `kindred republish`.
pub(crate) const REPUBLISH_CHUNK: usize = 1000;

fn plan_report(plan: &RulesPlan, as_json: bool, verb: &str) -> String {
    if as_json {
        return json!({
            "events": plan.events, "profiles": plan.profiles,
            "profiles_affected": plan.profiles_affected(),
            "merges": plan.merges(), "splits": plan.splits(),
            "identifiers_quarantined": plan.quarantined, "identifiers_released": plan.released,
            "identifiers_removed": plan.removed, "index_entries_unmade": plan.unindexed,
            "cards_marked_shared": plan.marked_shared, "cards_unmarked": plan.unmarked,
            "groups": plan.groups.iter().map(|g| json!({"before": g.before, "after": g.after, "from": g.from})).collect::<Vec<_>>(),
            "suggestions": plan.suggestions.iter().map(|s| json!({"a": s.a, "b": s.b, "events": [s.events.0, s.events.1], "rule": s.rule, "version": s.rule_version, "kinds": s.kinds, "reason": s.reason.as_str()})).collect::<Vec<_>>(),
            "withdrawn": plan.withdrawn.iter().map(|(a, b)| json!({"profile_a": a, "profile_b": b})).collect::<Vec<_>>(),
            "erasure_waiting": plan.erasure_waiting,
            "recount_after_erasure": plan.recount_after_erasure,
        })
        .to_string();
    }
    let (change, be) = if verb == "would" {
        ("would change", "would be")
    } else {
        ("changed", "were")
    };
    let mut out = format!(
        "evaluated {} events in {} profiles: {} profiles {change}; {} people {be} merged from several profiles, {} profiles {be} split\n",
        plan.events,
        plan.profiles,
        plan.profiles_affected(),
        plan.merges(),
        plan.splits()
    );
    if plan.erasure_waiting {
        out.push_str(
            "note: an erasure's neighbours wait to be clustered again (the resolver stopped between its two \
             writes); the next batch, or `rules apply` before its own work, clusters them, so apply may \
             change profiles not listed here\n",
        );
    }
    if plan.recount_after_erasure {
        out.push_str(
            "note: an erasure since the last `rules apply` left quarantined identifiers the erased \
             records carried; every quarantine is recounted over the stored records, as a \
             store without the erased events counts them (apply, with the same rules too, releases those \
             the others' records keep under the limits)\n",
        );
    }
    if plan.quarantined + plan.released > 0 {
        let _ = writeln!(
            out,
            "quarantine under the new rules: {} identifiers {be} taken out of linking as over-shared, {} quarantined ones {be} released",
            plan.quarantined, plan.released
        );
    }
    if plan.removed > 0 {
        let _ = writeln!(
            out,
            "{} quarantined identifiers no stored record carries any more (their records erased) {be} removed from the index",
            plan.removed
        );
    }
    if plan.unindexed > 0 {
        let _ = writeln!(
            out,
            "{} index entries only the old rules make (a kind that stops linking, a match rule's old blocks) {be} removed",
            plan.unindexed
        );
    }
    if plan.marked_shared + plan.unmarked > 0 {
        let _ = writeln!(
            out,
            "cards whose records name clearly different people: {} {be} marked shared (their unnamed receipts count alone on landlines), {} {be} unmarked",
            plan.marked_shared, plan.unmarked
        );
    }
    if !plan.suggestions.is_empty() {
        let _ = writeln!(
            out,
            "{} pairs of people {} queued for review{}",
            plan.suggestions.len(),
            if verb == "would" { "would be" } else { "were" },
            if plan.suggestions.len() > 20 {
                " (the first 20 below; --json for all)"
            } else {
                ""
            }
        );
        for s in plan.suggestions.iter().take(20) {
            let pair = if s.a == s.b {
                format!("two parts of {}", s.a.join("+"))
            } else {
                format!("{} ? {}", s.a.join("+"), s.b.join("+"))
            };
            let _ = writeln!(
                out,
                "  review {pair}: {} v{} [{}], {}",
                s.rule,
                s.rule_version,
                s.kinds.join(","),
                s.reason.as_str()
            );
        }
    }
    if !plan.withdrawn.is_empty() {
        let _ = writeln!(
            out,
            "{} pairs waiting for review {} the queue (the new rules make them one profile, or no longer raise them): {}",
            plan.withdrawn.len(),
            if verb == "would" { "would leave" } else { "left" },
            first_of(
                &plan
                    .withdrawn
                    .iter()
                    .map(|(a, b)| format!("{a} ? {b}"))
                    .collect::<Vec<_>>(),
                ", "
            )
        );
    }
    for g in plan.groups.iter().take(20) {
        let _ = writeln!(
            out,
            "  {} -> {} people: {}",
            g.before.join(" + "),
            g.after.len(),
            g.from
                .iter()
                .map(|f| f.join("+"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    if plan.groups.len() > 20 {
        let _ = writeln!(
            out,
            "  ... {} more groups (--json for all)",
            plan.groups.len() - 20
        );
    }
    out
}

/// Wall-clock time, ms since the epoch (0 before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || format!("{ms}ms"),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use kindred_model::{CanonicalEvent, Identifier};

    use super::*;

    fn receipt(id: &str, ids: &[(IdentifierKind, &str)], name: Option<&str>) -> CanonicalEvent {
        let ids = ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect();
        let mut e = CanonicalEvent::new(id, Channel::Pos, 0, ids);
        e.attributes.full_name = name.map(Into::into);
        e
    }

    /// The profile holding the identifier `(kind, value)`.
    fn held_by(r: &Resolver, (kind, value): (IdentifierKind, &str)) -> String {
        r.profile_of(&Identifier::new(kind, value))
            .expect("lookup")
            .expect("held")
    }

    /// A plaintext store's configuration in `dir`.
    fn test_config(dir: &tempfile::TempDir) -> Config {
        let mut config = Config::default();
        config.resolver.data_dir = dir.path().join("store");
        config.privacy.plaintext_store = true;
        config
    }

    /// A resolver on `config`'s store, with its rules.
    fn resolver_on(config: &Config) -> Resolver {
        Resolver::with_policy(
            crate::privacy::open_store(config).expect("store"),
            config.resolver.linking.clone(),
            config.resolver.survivorship.clone(),
        )
    }

    /// `explain` works out what each record shares under the rules the
    /// store is linked by, not the command's `-c` (another file, or none):
    /// the lineage named a rule the records' lines then did not.
    #[test]
    fn explain_names_the_rules_the_store_is_linked_by() {
        let dir = tempfile::tempdir().expect("temp dir");
        let linked = test_config(&dir);
        let mut other = linked.clone();
        other.resolver.linking.rules.clear();
        let ann = |id: &str, phone: &str| {
            let mut e = receipt(id, &[(IdentifierKind::Phone, phone)], Some("Ann Lee"));
            e.attributes.birthday = Some("1985-03-14".into());
            e.attributes.address = Some(kindred_model::Address {
                postal_code: Some("100020".into()),
                country: Some("CN".into()),
                ..kindred_model::Address::default()
            });
            e
        };
        let mut r = resolver_on(&linked);
        r.apply(
            &[
                ann("pos:1", "+8613910248876"),
                ann("pos:2", "+8613910248877"),
            ],
            &[],
        )
        .expect("applied");
        assert_eq!(
            r.store().stats().expect("stats").profiles,
            1,
            "one by the rule"
        );
        r.record_running_settings().expect("recorded");
        drop(r);
        let out = explain(&other, "phone:+8613910248876", false).expect("explained");
        assert!(out.contains("rule name_birthday_postcode"), "{out}");
    }

    /// A reject by two identifiers of one profile takes back the approval
    /// that made it one only if that parts them: with the two held
    /// together by an e-mail they share, it took back an approval of a
    /// third record they had nothing to do with. Refused now, saying what
    /// to do; a reject by identifiers the approval does part takes it back.
    #[test]
    fn a_reject_by_identifiers_takes_back_only_an_approval_that_parts_them() {
        use IdentifierKind::{Email, MemberId, Phone};
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let mut r = resolver_on(&config);
        let x = (Phone, "+8613900000001");
        let z = (Phone, "+8613900000002");
        let y = (Email, "lin@y.cn");
        let m = (MemberId, "MAIN:1001");
        r.apply(
            &[
                receipt("web:1", &[x, y], None),
                receipt("pos:1", &[m], None),
            ],
            &[],
        )
        .expect("apply");
        let (p1, p2) = (held_by(&r, x), held_by(&r, m));
        assert_ne!(p1, p2);
        drop(r);
        review(&config, &p1, &p2, true, "ann").expect("approve");
        let mut r = resolver_on(&config);
        r.apply(&[receipt("web:2", &[y, z], None)], &[])
            .expect("apply");
        assert_eq!(r.store().stats().expect("stats").profiles, 1);
        drop(r);
        let err = review(
            &config,
            "phone:+8613900000001",
            "phone:+8613900000002",
            false,
            "bo",
        )
        .expect_err("the e-mail holds them together");
        let message = err.to_string();
        assert!(message.contains("kindred split"), "{message}");
        assert!(!message.contains("13900000001"), "masked: {message}");
        let r = resolver_on(&config);
        assert_eq!(
            r.store().stats().expect("stats").profiles,
            1,
            "the approval stands"
        );
        drop(r);
        // A profile id and an identifier of it say nothing of what to part.
        let mixed = review(&config, &p1, "phone:+8613900000002", false, "bo")
            .expect_err("which records to part is not said");
        assert!(mixed.to_string().contains("by an identifier"), "{mixed}");
        review(
            &config,
            "phone:+8613900000001",
            "member_id:MAIN:1001",
            false,
            "bo",
        )
        .expect("the approval parts these two");
        let r = resolver_on(&config);
        assert_eq!(r.store().stats().expect("stats").profiles, 2);
    }

    /// Approve, reject, approve the same pair again: the first approval,
    /// taken back, holds nothing, and a reject by identifiers takes back
    /// the second (it was refused, naming the one pair twice).
    #[test]
    fn a_reject_by_identifiers_counts_only_approvals_in_force() {
        use IdentifierKind::{MemberId, Phone};
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let mut r = resolver_on(&config);
        let x = (Phone, "+8613900000001");
        let m = (MemberId, "MAIN:1001");
        r.apply(
            &[receipt("web:1", &[x], None), receipt("pos:1", &[m], None)],
            &[],
        )
        .expect("apply");
        let (p1, p2) = (held_by(&r, x), held_by(&r, m));
        drop(r);
        review(&config, &p1, &p2, true, "ann").expect("approve");
        review(&config, &p1, &p2, false, "bo").expect("reject");
        let r = resolver_on(&config);
        let (p1, p2) = (held_by(&r, x), held_by(&r, m));
        drop(r);
        review(&config, &p1, &p2, true, "cy").expect("approve again");
        review(
            &config,
            "phone:+8613900000001",
            "member_id:MAIN:1001",
            false,
            "di",
        )
        .expect("the approval in force parts them");
        let r = resolver_on(&config);
        assert_eq!(r.store().stats().expect("stats").profiles, 2);
    }

    /// `republish` settles every profile and `rules apply` rebuilds the ones
    /// it re-partitions, both by the command's survivorship rules: run
    /// without the service's `-c`, they restated profiles under the
    /// defaults, which the running service does not build. Refused, as
    /// `review` and `split` are; with the service's configuration, done.
    #[test]
    fn republish_and_rules_apply_refuse_settings_other_than_the_services() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut service = test_config(&dir);
        service.resolver.survivorship.consents = kindred_model::ConsentMerge::MostRecent;
        {
            let mut r = resolver_on(&service);
            let e = receipt("pos:1", &[(IdentifierKind::Phone, "+8613910248876")], None);
            r.apply(&[e], &[]).expect("applied");
            r.record_running_settings().expect("recorded");
        }
        let forgotten = test_config(&dir);
        for err in [
            republish(&forgotten, "ops").expect_err("other survivorship"),
            rules_apply(&forgotten, &forgotten, "ops").expect_err("other survivorship"),
        ] {
            let message = err.to_string();
            assert!(
                message.contains("[resolver.survivorship]") && message.contains("-c FILE"),
                "{message}"
            );
        }
        republish(&service, "ops").expect("the service's settings");
        rules_apply(&service, &service, "ops").expect("the service's settings");
    }

    /// `explain --json` carries each consent with where it came from, as
    /// the text does: a script auditing why a customer may be contacted
    /// had `may_contact` only.
    #[test]
    fn explain_json_gives_each_consents_provenance() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let mut e = receipt("pos:1", &[(IdentifierKind::Phone, "+8613910248876")], None);
        e.consents.push(kindred_model::Consent {
            purpose: "marketing".into(),
            channel: "sms".into(),
            granted: true,
        });
        let mut resolver = resolver_on(&config);
        resolver.apply(&[e], &[]).expect("apply");
        drop(resolver);
        let out = explain(&config, "phone:+8613910248876", true).expect("explain");
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        let consents = json["consents"].as_object().expect("consents");
        assert_eq!(consents.len(), 1, "{consents:?}");
        let (_, c) = consents.iter().next().expect("one");
        assert_eq!(c["value"], true);
        assert_eq!(c["channel"], "pos");
        assert_eq!(c["event_id"], "pos:1");
    }

    /// An identifier of a kind that does not link has no index entry:
    /// looked up, it says so, not "no profile holds it" (profiles list it).
    #[test]
    fn a_kind_that_does_not_link_is_not_said_to_be_held_by_no_one() {
        use IdentifierKind::{Email, Phone};
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(&dir);
        config.resolver.linking.identifiers.email.link = false;
        let mut resolver = resolver_on(&config);
        let e = receipt(
            "pos:1",
            &[(Phone, "+8613910248876"), (Email, "ann@shop.cn")],
            None,
        );
        resolver.apply(&[e], &[]).expect("apply");
        drop(resolver);
        let err = explain(&config, "email:ann@shop.cn", false).expect_err("no index");
        let message = err.to_string();
        assert!(
            message.contains("linking.identifiers.email.link is off"),
            "{message}"
        );
        assert!(!message.contains("ann@shop.cn"), "masked: {message}");
        assert!(explain(&config, "phone:+8613910248876", false).is_ok());
    }

    /// A store's house card on two clearly different people's receipts is
    /// shared (marked so) and held by two profiles; a counter phone on many
    /// cards is quarantined.
    /// `explain` by identifier says so rather than explaining one holder as
    /// if it were the card's owner.
    #[test]
    fn explain_by_identifier_says_when_it_is_shared_or_quarantined() {
        use IdentifierKind::{MemberId, Phone};
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let card = "MAIN:8800001177";
        let counter = "+8613910248876";
        let mut events = vec![
            receipt("pos:1", &[(MemberId, card)], Some("Emma Pemcombe")),
            receipt("pos:2", &[(MemberId, card)], Some("Christopher Ashwick")),
            receipt("pos:3", &[(MemberId, "MAIN:6216756762")], Some("Ann Lee")),
        ];
        for i in 0..6 {
            let own = format!("MAIN:62167500{i:02}");
            events.push(receipt(
                &format!("pos:c{i}"),
                &[(MemberId, &own), (Phone, counter)],
                None,
            ));
        }
        let mut resolver = resolver_on(&config);
        resolver.apply(&events, &[]).expect("apply");
        drop(resolver);

        let out = explain(&config, "member_id:8800001177", false).expect("explain");
        assert!(
            out.starts_with(
                "member_id:MA****77 is shared: its records name clearly different people"
            ),
            "{out}"
        );
        assert!(
            out.contains("member_id:MA****77 is held by 2 profiles"),
            "{out}"
        );
        let out = explain(&config, "member_id:8800001177", true).expect("explain");
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(
            json["identifier"]["holders"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(json["identifier"]["quarantined"], false);
        assert_eq!(json["identifier"]["names_differ"], true);

        let out = explain(&config, "member_id:6216756762", false).expect("explain");
        assert!(
            out.starts_with("profile kp-"),
            "one holder, no standing line: {out}"
        );
        assert!(
            out.contains("pos:3: nothing (its only record"),
            "each record's links: {out}"
        );

        let out = explain(&config, "phone:13910248876", false).expect("explain");
        assert!(out.contains("is quarantined as over-shared"), "{out}");
        assert!(!out.contains("13910248876"), "masked: {out}");

        // The commands that change the store refuse a shared or
        // quarantined identifier (the oldest holder may be the wrong
        // person) and list what to choose from; nothing is written.
        let err = split(
            &config,
            "member_id:8800001177",
            None,
            Some(Channel::Pos),
            "ops",
        )
        .expect_err("two holders");
        assert!(
            err.to_string().contains("is held by 2 profiles (kp-"),
            "{err}"
        );
        let err = review(
            &config,
            "member_id:8800001177",
            "member_id:6216756762",
            false,
            "ops",
        )
        .expect_err("two holders");
        assert!(err.to_string().contains("give the profile id"), "{err}");
        let err = split(
            &config,
            "phone:13910248876",
            None,
            Some(Channel::Pos),
            "ops",
        )
        .expect_err("quarantined");
        assert!(err.to_string().contains("quarantined"), "{err}");
        assert!(!err.to_string().contains("13910248876"), "masked: {err}");
    }

    /// `review` and `split` refuse to run with other linking or
    /// survivorship settings than the resolve service last started with.
    #[test]
    fn decisions_need_the_services_settings() {
        use IdentifierKind::MemberId;
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let resolver = resolver_on(&config);
        let mut resolver = resolver;
        resolver
            .apply(
                &[
                    receipt("pos:1", &[(MemberId, "MAIN:1001")], Some("Ann Lee")),
                    receipt("pos:2", &[(MemberId, "MAIN:1002")], Some("Bo Chan")),
                    receipt("pos:3", &[(MemberId, "MAIN:1003")], Some("Cy Ng")),
                ],
                &[],
            )
            .expect("apply");
        resolver.record_running_settings().expect("record");
        drop(resolver);

        let mut other = config.clone();
        other.resolver.linking.min_name_similarity = 0.95;
        let err = review(&other, "member_id:1001", "member_id:1002", false, "ops")
            .expect_err("other linking settings");
        assert!(err.to_string().contains("[resolver.linking]"), "{err}");
        assert!(err.to_string().contains("(the service's "), "{err}");
        let err = split(&other, "member_id:1001", None, Some(Channel::Pos), "ops")
            .expect_err("other linking settings");
        assert!(err.to_string().contains("-c FILE"), "{err}");
        // The policy a `rules apply` recorded is the service's too (it is
        // restarted with it): a split by it is taken.
        let mut applied = Resolver::with_policy(
            crate::privacy::open_store(&other).expect("store"),
            other.resolver.linking.clone(),
            other.resolver.survivorship.clone(),
        );
        applied
            .apply_rules(other.resolver.linking.clone(), "ops", 0)
            .expect("rules apply");
        drop(applied);
        let out = review(&other, "member_id:1001", "member_id:1002", false, "ops")
            .expect("the applied policy");
        assert!(!out.is_empty());
        // The settings the service ran with before the apply are no longer
        // the store's: a decision under them would re-partition its
        // profiles by rules the store is not linked by.
        let stale = review(&config, "member_id:1001", "member_id:1003", false, "ops")
            .expect_err("the rules before the apply");
        assert!(stale.to_string().contains("[resolver.linking]"), "{stale}");
        // Blamed on the apply, not on the service's configuration.
        assert!(
            stale
                .to_string()
                .contains("`kindred rules apply` applied last"),
            "{stale}"
        );
        // The applied settings: the decision is taken (another pair: this
        // one is kept apart already, and a second reject is refused).
        let out = review(&other, "member_id:1001", "member_id:1003", false, "ops")
            .expect("the applied settings");
        assert!(!out.is_empty());
        let again = review(&other, "member_id:1001", "member_id:1002", false, "ops")
            .expect_err("already apart");
        assert!(again.to_string().contains("already kept apart"), "{again}");
        // The service restarted since with rules of its own: the applied
        // ones are no longer its either.
        let mut third = config.clone();
        third.resolver.linking.min_name_similarity = 0.9;
        resolver_on(&third)
            .record_running_settings()
            .expect("the service restarted");
        let replaced = review(&other, "member_id:1002", "member_id:1003", false, "ops")
            .expect_err("rules the service no longer runs");
        assert!(
            replaced.to_string().contains("[resolver.linking]"),
            "{replaced}"
        );
    }

    /// A reject given by identifiers takes back the approval that made
    /// their profiles one, though the approval named profile ids.
    #[test]
    fn a_reject_by_identifiers_takes_back_the_approval_of_their_profiles() {
        use IdentifierKind::{MemberId, Phone};
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let mut resolver = resolver_on(&config);
        let shared = "+8613911118888";
        resolver
            .apply(
                &[
                    receipt(
                        "pos:1",
                        &[(MemberId, "MAIN:2001"), (Phone, shared)],
                        Some("Ann Lee"),
                    ),
                    receipt(
                        "pos:2",
                        &[(Phone, shared), (IdentifierKind::Email, "bo@x.cn")],
                        Some("Bo Chan"),
                    ),
                ],
                &[],
            )
            .expect("apply");
        let a = resolver
            .profile_of(&Identifier::new(MemberId, "MAIN:2001"))
            .expect("ok")
            .expect("ann");
        let b = resolver
            .profile_of(&Identifier::new(IdentifierKind::Email, "bo@x.cn"))
            .expect("ok")
            .expect("bo");
        assert_ne!(a, b, "names differ: two profiles");
        drop(resolver);
        review(&config, &a, &b, true, "alice").expect("approve");
        let resolver = open(&config).expect("open");
        let one = resolver
            .profile_of(&Identifier::new(IdentifierKind::Email, "bo@x.cn"))
            .expect("ok");
        assert_eq!(one.as_deref(), Some(a.as_str()), "approved: one profile");
        drop(resolver);

        let out = review(&config, "member_id:2001", "email:bo@x.cn", false, "alice")
            .expect("reject by identifiers");
        assert!(!out.is_empty());
        let resolver = open(&config).expect("open");
        let ann = resolver
            .profile_of(&Identifier::new(MemberId, "MAIN:2001"))
            .expect("ok");
        let bo = resolver
            .profile_of(&Identifier::new(IdentifierKind::Email, "bo@x.cn"))
            .expect("ok");
        assert_ne!(ann, bo, "the approval is taken back");
    }

    /// `kindred split` given an id absorbed into another profile is
    /// refused, naming the survivor to split instead: following the
    /// redirect would split the whole survivor. Nothing is written.
    #[test]
    fn a_split_of_an_absorbed_id_is_refused_and_names_the_survivor() {
        use IdentifierKind::{Email, MemberId, Phone};
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let mut resolver = resolver_on(&config);
        let shared = "+8613911117777";
        let mut bo = receipt(
            "web:2",
            &[(Phone, shared), (Email, "bo@x.cn")],
            Some("Bo Chan"),
        );
        bo.channel = Channel::Web;
        resolver
            .apply(
                &[
                    receipt(
                        "pos:1",
                        &[(MemberId, "MAIN:3001"), (Phone, shared)],
                        Some("Ann Lee"),
                    ),
                    bo,
                ],
                &[],
            )
            .expect("apply");
        let of = |r: &Resolver, i: Identifier| r.profile_of(&i).expect("look up").expect("held");
        let a = of(&resolver, Identifier::new(MemberId, "MAIN:3001"));
        let b = of(&resolver, Identifier::new(Email, "bo@x.cn"));
        assert_ne!(a, b, "names differ: two profiles");
        drop(resolver);
        review(&config, &a, &b, true, "alice").expect("approve");
        let resolver = open(&config).expect("open");
        let survivor = of(&resolver, Identifier::new(Email, "bo@x.cn"));
        let absorbed = if survivor == a { b.clone() } else { a.clone() };
        assert_ne!(survivor, absorbed, "approved: one profile");
        drop(resolver);

        // By source: the survivor would split (its records are from two
        // channels), so only the refusal keeps it whole.
        let err = split(&config, &absorbed, None, Some(Channel::Web), "ops")
            .expect_err("an absorbed id is refused");
        let text = err.to_string();
        assert!(
            text.contains(&format!("merged into {survivor}"))
                && text.contains(&format!("split {survivor} instead")),
            "{text}"
        );
        let err = split(
            &config,
            &absorbed,
            Some("phone:+8613911117777"),
            None,
            "ops",
        )
        .expect_err("an absorbed id is refused");
        assert!(
            err.to_string()
                .contains(&format!("split {survivor} instead")),
            "{err}"
        );
        let resolver = open(&config).expect("open");
        assert_eq!(
            of(&resolver, Identifier::new(MemberId, "MAIN:3001")),
            survivor,
            "nothing was split"
        );
        assert_eq!(resolver.store().decisions().expect("decisions").len(), 1);
        drop(resolver);
        // The survivor by its own id, or by an identifier it holds, splits.
        split(&config, "email:bo@x.cn", None, Some(Channel::Web), "ops")
            .expect("the survivor splits");
    }

    /// `explain` says what a split took out: the identifier masked as
    /// explain shows identifiers elsewhere, or the channel; never the
    /// raw value, in text or JSON.
    #[test]
    fn explain_says_what_a_split_took_out_masked() {
        use IdentifierKind::{Email, MemberId, Phone};
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir);
        let mut resolver = resolver_on(&config);
        let shared = "+8613911115555";
        let mut web = receipt(
            "web:2",
            &[(Phone, shared), (Email, "ann@x.cn")],
            Some("Ann Lee"),
        );
        web.channel = Channel::Web;
        let mut social = receipt("social:3", &[(Phone, shared)], Some("Ann Lee"));
        social.channel = Channel::Social;
        resolver
            .apply(
                &[
                    receipt(
                        "pos:1",
                        &[(MemberId, "MAIN:4001"), (Phone, shared)],
                        Some("Ann Lee"),
                    ),
                    web,
                    social,
                ],
                &[],
            )
            .expect("apply");
        let id = resolver
            .profile_of(&Identifier::new(MemberId, "MAIN:4001"))
            .expect("look up")
            .expect("held");
        drop(resolver);
        let out = split(&config, &id, None, Some(Channel::Social), "ops").expect("split by source");
        assert!(out.contains("(split_source, channel social)"), "{out}");
        let out =
            split(&config, &id, Some("phone:+8613911115555"), None, "ops").expect("split by phone");
        let masked = Identifier::new(Phone, shared).masked();
        assert!(
            out.contains(&format!("(split_identifier, identifier {masked})")),
            "{out}"
        );

        let text = explain(&config, &id, false).expect("explain");
        assert!(
            text.contains(": channel social by ops (decision 1)"),
            "{text}"
        );
        assert!(
            text.contains(&format!(": identifier {masked} by ops (decision 2)")),
            "{text}"
        );
        let json = explain(&config, &id, true).expect("explain --json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        let split_by: Vec<&str> = v["lineage"]
            .as_array()
            .expect("lineage")
            .iter()
            .filter_map(|l| l["split_by"].as_str())
            .collect();
        assert_eq!(
            split_by,
            ["channel social".to_string(), format!("identifier {masked}")],
            "{json}"
        );
        for shown in [&out, &text, &json] {
            assert!(!shown.contains("11115555"), "no raw value: {shown}");
        }
    }

    /// Admin commands open only an existing store, and say why not; the
    /// ones that only read run beside the resolver service.
    #[test]
    fn admin_commands_need_an_existing_store_and_only_readers_run_beside_the_resolver() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.privacy.plaintext_store = true;
        // The parent of a store, or a typo: no store is created there.
        config.resolver.data_dir = dir.path().to_path_buf();
        let err = explain(&config, "kp-000000000001", false).expect_err("no store");
        assert!(err.to_string().contains("no resolver store at"), "{err}");
        assert!(!dir.path().join("CURRENT").exists());

        // A store the resolver service holds: a command that changes it
        // says to stop the service; one that reads sees what it committed.
        config.resolver.data_dir = dir.path().join("store");
        let mut held = resolver_on(&config);
        let card = (IdentifierKind::MemberId, "MAIN:6216756762");
        held.apply(&[receipt("pos:1", &[card], Some("Ann Lee"))], &[])
            .expect("apply");
        let err =
            split(&config, "kp-000000000001", None, Some(Channel::Pos), "ops").expect_err("locked");
        assert!(
            err.to_string().contains("stop the resolver service first")
                && err.to_string().contains("store"),
            "{err}"
        );
        let out = explain(&config, "member_id:6216756762", false).expect("explain beside");
        assert!(out.contains("kp-000000000001"), "{out}");
        assert_eq!(review_list(&config, true).expect("list beside"), "[]");
        let out = rules_diff(&config, &config, false).expect("rules diff beside");
        assert!(out.contains("0 profiles would change"), "{out}");
        // What the service commits after a reader opened, the next one sees.
        held.apply(
            &[receipt(
                "web:1",
                &[card, (IdentifierKind::Email, "ann@lee.cn")],
                None,
            )],
            &[],
        )
        .expect("apply");
        let out = explain(&config, "email:ann@lee.cn", true).expect("explain beside");
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(json["profile_id"], "kp-000000000001", "{out}");
        assert_eq!(json["events"], 2, "{out}");
        drop(held);
    }
}
