//! The kindred pipeline: its stages and the services that run them.
//!
//! - [`IngestStage`]: raw bytes of one channel in, a canonical event (or the
//!   precise reason it is bad) out. Pure: no Kafka, used by the ingest
//!   service and the demo alike.
//! - [`services::ingest`] and [`services::resolve`]: the Kafka services, each a
//!   poll loop that commits its input offsets only after its outputs are acknowledged.
//! - [`demo`]: the same stages in one process with no broker.
//! - [`topics`]: the topics kindred needs, from configuration.
//! - [`state`]: snapshot, restore and rebuild of the resolver store.
//! - [`erasure`]: erasure requests on the wire (the erasure-request topic).
//! - [`privacy`]: the keyring, and the resolver store opened with it.
//! - [`output_policy`]: personal data on output topics raw, hashed, masked
//!   or omitted, per topic and field (`[privacy.output]`).
//! - [`profile_topic`]: the profile change topic read back, for evaluation.
//! - [`services::publish`]: the resolver's outbox publisher (Kafka
//!   transactions with a progress record).
//! - [`admin`]: the operator commands on a store (review, split, explain,
//!   rules, republish, forget), [`live`]: the same decisions sent to a
//!   running resolver, [`schemas`]: the schema catalog and registry checks.

pub mod admin;
pub mod demo;
pub mod erasure;
mod error;
mod ingest;
pub mod live;
pub mod output_policy;
pub mod privacy;
pub mod profile_topic;
pub mod schemas;
pub mod services;
mod shutdown;
pub mod state;
pub mod topics;

pub use error::PipelineError;
pub use ingest::{encode_raw, encode_raw_as, raw_kind, IngestStage, Rejection};
pub use kindred_model::Channel;
pub use schemas::Schemas;
pub use shutdown::Shutdown;

use kindred_config::Config;
use kindred_normalize::{DateOrder, NormalizeOptions};
use kindred_schema::{SchemaError, WireCodec};

/// Scores the store's clustering against ground truth (event id -> person):
/// each source event counts once, under the profile it now belongs to; an
/// event of the truth the store does not hold counts as a profile of its
/// own (see [`kindred_eval::evaluate_against`]).
pub fn evaluate_store(
    store: &kindred_resolver::Store,
    truth: &std::collections::BTreeMap<String, String>,
    worst: usize,
) -> Result<kindred_eval::Report, PipelineError> {
    Ok(kindred_eval::evaluate_against(
        store.assignments()?,
        truth,
        worst,
    ))
}

/// Normalization settings from configuration.
pub fn normalize_options(config: &Config) -> Result<NormalizeOptions, PipelineError> {
    let n = &config.normalize;
    let region = NormalizeOptions::parse_region(&n.default_region)
        .map_err(|e| PipelineError::Config(format!("normalize.default_region: {e}")))?;
    let mut opts = NormalizeOptions::for_region(region);
    opts.default_loyalty_program = kindred_normalize::normalize_program(&n.default_loyalty_program)
        .ok_or_else(|| {
            PipelineError::Config("normalize.default_loyalty_program is empty".into())
        })?;
    opts.date_order = match n.date_order.as_str() {
        "month_first" => DateOrder::MonthFirst,
        _ => DateOrder::DayFirst,
    };
    opts.email_provider_rules = n.email_provider_rules;
    // Each entry normalized as the same value in an event is (a phone typed
    // `+86 157 6702 7543` or in national form, an e-mail in capitals), and
    // also in the form linking compares (`link_key`): a card listed as
    // `member_id:MAIN:8800-0000-0001` is blocked however a till writes it.
    // An entry that cannot be one is refused, not kept to block nothing.
    let mut blocklist = std::collections::BTreeSet::new();
    for (i, entry) in n.blocklist.iter().enumerate() {
        let entry = entry.trim();
        let refused =
            |why: String| PipelineError::Config(format!("normalize.blocklist[{i}]: {why}"));
        let (kind, value) = entry
            .split_once(':')
            .ok_or_else(|| refused("expected KIND:VALUE, e.g. \"phone:+862155550000\"".into()))?;
        let kind: kindred_model::IdentifierKind = kind.trim().parse().map_err(|e| {
            refused(format!(
                "{e} (kinds: phone, email, member_id, social, account, device)"
            ))
        })?;
        match kindred_normalize::normalize_identifier(kind, value.trim(), &opts) {
            Ok(id) => {
                blocklist.insert(id.key());
                blocklist.insert(id.link_key());
            }
            // A placeholder, a business's number or a role's mailbox
            // links no one anyway.
            Err(
                kindred_normalize::Rejected::Junk
                | kindred_normalize::Rejected::Business
                | kindred_normalize::Rejected::Role,
            ) => {
                blocklist.insert(format!("{}:{}", kind.as_str(), value.trim()));
            }
            Err(r) => {
                return Err(refused(format!(
                    "not a valid {} ({})",
                    kind.as_str(),
                    r.as_str()
                )))
            }
        }
    }
    opts.blocklist = blocklist;
    opts.phone_region_from_event = n.phone_region_from_event;
    opts.date_order_from_event = n.date_order_from_event;
    opts.max_future_secs = n.max_future_secs;
    let stores = n
        .store_regions
        .iter()
        .map(|(prefix, region)| {
            NormalizeOptions::parse_region(region)
                .map(|r| (prefix.trim().to_string(), r))
                .map_err(|e| {
                    PipelineError::Config(format!("normalize.store_regions.{prefix}: {e}"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(opts.with_store_regions(stores))
}

/// The wire codec with the schema ids, producers' own writer schemas and
/// size limit from configuration.
pub fn codec_from_config(config: &Config) -> Result<WireCodec, PipelineError> {
    let s = &config.schemas;
    let mut codec = WireCodec::new(s.ids.clone(), s.max_message_bytes)?;
    for w in &s.writers {
        let file = w.file.display().to_string();
        let text = std::fs::read_to_string(&w.file).map_err(|e| SchemaError::Read {
            file: file.clone(),
            message: e.to_string(),
        })?;
        codec = codec.with_writer(w.id, &w.reads_as, &file, &text)?;
    }
    Ok(codec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store table comes from `normalize.store_regions`; a region that
    /// is not one is refused by its key.
    #[test]
    fn store_regions_are_read_from_config_and_checked() {
        let mut config = Config::default();
        config
            .normalize
            .store_regions
            .insert("FR".into(), "fr".into());
        let opts = normalize_options(&config).expect("valid");
        assert_eq!(
            opts.store_region(" FR005 "),
            NormalizeOptions::parse_region("FR").ok()
        );
        assert_eq!(opts.store_region("DE003"), None);
        config
            .normalize
            .store_regions
            .insert("DE".into(), "Germany".into());
        let err = normalize_options(&config).expect_err("refused");
        assert!(
            err.to_string().contains("normalize.store_regions.DE"),
            "{err}"
        );
    }

    /// A sale at a till with a member card and nothing else.
    fn pos_sale(card: &str) -> kindred_model::raw::PosTransaction {
        kindred_model::raw::PosTransaction {
            transaction_id: "T-1".into(),
            store_id: "S01".into(),
            terminal_id: "1".into(),
            receipt_no: "R-1".into(),
            cashier_id: None,
            loyalty_program: None,
            member_card_no: Some(card.into()),
            phone: None,
            customer_name: None,
            amount_minor: 500,
            currency: "CNY".into(),
            line_items: vec![],
            points_earned: 0,
            points_redeemed: 0,
            payment_type: None,
            event_time: 1_735_689_600_000,
        }
    }

    /// A blocklisted card is blocked in every spelling linking reads as it.
    #[test]
    fn blocklist_entries_block_every_spelling_of_a_card() {
        let mut config = Config::default();
        config.normalize.blocklist = vec!["member_id:MAIN:8800-0000-0001".into()];
        let opts = normalize_options(&config).expect("valid");
        for typed in ["8800-0000-0001", "880000000001", "0 8800 0000 0001"] {
            let raw = pos_sale(typed);
            let e = kindred_normalize::normalize(&kindred_model::raw::RawEvent::Pos(raw), &opts)
                .expect("normalized");
            assert!(
                e.identifiers
                    .iter()
                    .all(|i| i.kind != kindred_model::IdentifierKind::MemberId),
                "{typed}: {:?}",
                e.identifiers
            );
        }
    }

    /// A phone or e-mail listed as a person would type it is blocked as
    /// the normalized value an event carries; an entry that cannot be an
    /// identifier is refused with its place in the list, not kept to block
    /// nothing.
    #[test]
    fn blocklist_entries_are_normalized_and_bad_ones_refused() {
        let mut config = Config::default();
        config.normalize.blocklist = vec![
            "phone:+86 157 6702 7543".into(),
            " phone: 021 5555 0000".into(),
            "email:Counter.Staff@ShopMail.cn".into(),
            "email:info@shop.example".into(),
        ];
        let opts = normalize_options(&config).expect("valid");
        for blocked in [
            "phone:+8615767027543",
            "phone:+862155550000",
            "email:counter.staff@shopmail.cn",
            "email:info@shop.example",
        ] {
            assert!(
                opts.blocklist.contains(blocked),
                "{blocked}: {:?}",
                opts.blocklist
            );
        }
        let mut sale = pos_sale("8800-0000-0001");
        sale.phone = Some("157 6702 7543".into());
        let e = kindred_normalize::normalize(&kindred_model::raw::RawEvent::Pos(sale), &opts)
            .expect("normalized");
        assert!(
            e.identifiers
                .iter()
                .all(|i| i.kind != kindred_model::IdentifierKind::Phone),
            "{:?}",
            e.identifiers
        );
        for (entry, said) in [
            (
                "fone:+8615767027543",
                "normalize.blocklist[1]: unknown identifier kind \"fone\"",
            ),
            ("phone:call me", "normalize.blocklist[1]: not a valid phone"),
            (
                "+8615767027543",
                "normalize.blocklist[1]: expected KIND:VALUE",
            ),
        ] {
            config.normalize.blocklist = vec!["email:a@b.cn".into(), entry.into()];
            let err = normalize_options(&config).expect_err(entry).to_string();
            assert!(err.contains(said), "{entry}: {err}");
        }
    }

    /// A father and his son at one till, on the household's phone, each
    /// typed his own way: the two generations are told apart, and the
    /// son's `2ND` no longer makes his name junk (his profile had no name).
    #[test]
    fn father_and_son_on_one_phone_stay_two_customers() {
        let opts = normalize_options(&Config::default()).expect("valid");
        let sale = |id: &str, card: Option<&str>, name: &str| kindred_model::raw::PosTransaction {
            transaction_id: id.into(),
            receipt_no: id.into(),
            member_card_no: card.map(str::to_string),
            phone: Some("13912345678".into()),
            customer_name: Some(name.into()),
            ..pos_sale("unused")
        };
        let events: Vec<_> = [
            sale("T-1", Some("M-1"), "John Smith Sr."),
            sale("T-2", None, "SMITH, JOHN, 2ND"),
        ]
        .into_iter()
        .map(|raw| {
            kindred_normalize::normalize(&kindred_model::raw::RawEvent::Pos(raw), &opts)
                .expect("normalized")
        })
        .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut resolver = kindred_resolver::Resolver::new(
            kindred_resolver::Store::open(dir.path()).expect("store"),
        );
        resolver.apply(&events, &[]).expect("apply");
        let mut names: Vec<Option<String>> = resolver
            .store()
            .profiles()
            .map(|p| p.expect("profile").full_name.map(|n| n.value))
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                Some("John Smith II".to_string()),
                Some("John Smith Sr".to_string())
            ]
        );
    }

    /// `[[schemas.writers]]` files are read into the codec; one that is
    /// missing is refused by its path (at start and by `config check`).
    #[test]
    fn writer_schemas_are_read_from_their_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("pos-42.avsc");
        let mut config = Config::default();
        config.schemas.writers.push(kindred_config::WriterSchema {
            id: 42,
            reads_as: "pos_transaction".into(),
            file: file.clone(),
        });
        let err = codec_from_config(&config).expect_err("no file yet");
        assert!(err.to_string().contains("pos-42.avsc"), "{err}");
        std::fs::write(
            &file,
            kindred_schema::SchemaKind::PosTransaction.current().text,
        )
        .expect("write");
        let codec = codec_from_config(&config).expect("read");
        let pos = kindred_model::raw::PosTransaction {
            transaction_id: "T-42".into(),
            receipt_no: "R-42".into(),
            amount_minor: 100,
            ..pos_sale("M-42")
        };
        let kind = kindred_schema::SchemaKind::PosTransaction;
        let mut bytes = codec.encode(kind, &pos).expect("encode");
        bytes[1..5].copy_from_slice(&42u32.to_be_bytes());
        let back: kindred_model::raw::PosTransaction = codec
            .decode(kindred_schema::Framing::Confluent, kind, &bytes)
            .expect("id 42 reads as pos_transaction");
        assert_eq!(back, pos);
    }
}
