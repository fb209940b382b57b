//! Event-level tests and the property tests: totality and idempotence.

use kindred_model::raw::{RawAddress, RawConsent};
use proptest::prelude::*;

use super::*;

const T: i64 = 1_735_689_600_000;

fn pos() -> PosTransaction {
    PosTransaction {
        transaction_id: " T-1 ".into(),
        store_id: "S1".into(),
        terminal_id: "2".into(),
        receipt_no: "R9".into(),
        cashier_id: None,
        loyalty_program: None,
        member_card_no: Some(" m-001 ".into()),
        phone: Some("139 1024 8876".into()),
        customer_name: Some("  li   wei ".into()),
        amount_minor: 500,
        currency: "cny".into(),
        line_items: vec![],
        points_earned: 5,
        points_redeemed: 1,
        payment_type: Some("WeChat Pay".into()),
        event_time: T,
    }
}

fn social() -> SocialInteraction {
    SocialInteraction {
        event_id: "s1".into(),
        platform: "line".into(),
        platform_user_id: "U4af4980629".into(),
        union_id: None,
        handle: None,
        display_name: None,
        phone: None,
        email: None,
        interaction_type: "mini_program_order".into(),
        sku: None,
        order: None,
        event_time: T,
    }
}

fn web() -> WebEvent {
    WebEvent {
        event_id: "w1".into(),
        event_type: "Signup".into(),
        user_id: Some("u-77".into()),
        anonymous_id: Some("c0ffee".into()),
        email: Some("Maria <Maria.S+shop@GMAIL.com>".into()),
        phone: Some("12345678901".into()),
        name: None,
        given_name: Some("maria".into()),
        family_name: Some("sentosa".into()),
        birthday: Some("17/05/1990".into()),
        gender: Some("F".into()),
        address: Some(RawAddress {
            city: Some("Jakarta".into()),
            country: Some("Indonesia".into()),
            ..RawAddress::default()
        }),
        sku: None,
        order_amount_minor: None,
        currency: None,
        order: None,
        consents: vec![RawConsent {
            purpose: "Marketing".into(),
            channel: "Email".into(),
            granted: true,
        }],
        event_time: T,
    }
}

/// A till that sends a total or points no shop could mean (a corrupt
/// field, i64 extremes) loses that value, with the reason, and the event
/// still links its customer; kept, it would overflow the profile's totals.
#[test]
fn unbelievable_amounts_and_points_are_dropped_not_summed() {
    let mut raw = pos();
    raw.amount_minor = i64::MAX;
    raw.points_earned = i64::MIN;
    raw.points_redeemed = 2_000_000_000_000;
    let e = normalize(&RawEvent::Pos(raw), &NormalizeOptions::default()).expect("valid");
    assert_eq!(e.activity.order, None);
    assert_eq!(
        (e.activity.points_earned, e.activity.points_redeemed),
        (0, 0)
    );
    let dropped: Vec<(&str, &str)> = e
        .dropped
        .iter()
        .map(|d| (d.field.as_str(), d.reason.as_str()))
        .collect();
    assert_eq!(
        dropped,
        [
            ("points_earned", "invalid"),
            ("points_redeemed", "invalid"),
            ("amount_minor", "invalid")
        ]
    );
    assert_eq!(e.identifiers.len(), 2);
    // A large refund that is believable stays.
    let mut refund = pos();
    refund.amount_minor = -99_999_999_999;
    let e = normalize(&RawEvent::Pos(refund), &NormalizeOptions::default()).expect("valid");
    assert_eq!(
        e.activity.order.map(|o| o.amount_minor),
        Some(-99_999_999_999)
    );
    assert!(e.dropped.is_empty());
}

#[test]
fn pos_event_becomes_canonical() {
    let e = normalize(&RawEvent::Pos(pos()), &NormalizeOptions::default()).expect("valid");
    assert_eq!(e.event_id, "pos:T-1");
    assert_eq!(
        e.identifiers,
        vec![
            Identifier::new(IdentifierKind::MemberId, "MAIN:M-001"),
            Identifier::new(IdentifierKind::Phone, "+8613910248876"),
        ]
    );
    assert_eq!(e.attributes.full_name.as_deref(), Some("Li Wei"));
    let order = e.activity.order.expect("a receipt is an order");
    assert_eq!((order.currency.as_str(), order.amount_minor), ("CNY", 500));
    assert_eq!(order.payment_type.as_deref(), Some("wechat_pay"));
    assert_eq!(e.activity.event_type, "purchase");
    assert!(e.dropped.is_empty());
}

#[test]
fn web_event_keeps_everything_usable_and_drops_the_rest_with_reasons() {
    let e = normalize(&RawEvent::Web(web()), &NormalizeOptions::default()).expect("valid");
    let keys: Vec<String> = e.identifiers.iter().map(Identifier::link_key).collect();
    assert_eq!(
        keys,
        vec![
            "email:marias@gmail.com",
            "account:web:u-77",
            "device:web:c0ffee"
        ]
    );
    let email = &e.identifiers[0];
    assert_eq!(
        email.value, "maria.s+shop@gmail.com",
        "provider rules never touch the stored value"
    );
    assert_eq!(
        e.dropped,
        vec![Dropped {
            field: "phone".into(),
            reason: "invalid".into()
        }]
    );
    assert_eq!(e.attributes.full_name.as_deref(), Some("Maria Sentosa"));
    assert_eq!(e.attributes.birthday.as_deref(), Some("1990-05-17"));
    assert_eq!(e.attributes.gender.as_deref(), Some("female"));
    assert_eq!(
        e.attributes
            .address
            .as_ref()
            .and_then(|a| a.country.as_deref()),
        Some("ID")
    );
    assert_eq!(e.consents[0].purpose, "marketing");
    assert_eq!(e.activity.event_type, "signup");
    assert_eq!(e.activity.order, None);
}

#[test]
fn national_phone_numbers_are_read_where_the_event_happened() {
    let opts = NormalizeOptions::default(); // default region CN
    let phone_of = |raw: RawEvent, opts: &NormalizeOptions| {
        let e = normalize(&raw, opts).expect("valid");
        e.identifiers
            .into_iter()
            .find(|i| i.kind == IdentifierKind::Phone)
            .map(|i| i.value)
    };
    let sale = |currency: &str, phone: &str| {
        let mut p = pos();
        p.currency = currency.into();
        p.phone = Some(phone.into());
        RawEvent::Pos(p)
    };
    // (till currency, as typed, read as)
    let sales = [
        // A Singapore till's receipt: the national number is Singaporean.
        ("SGD", "9085 5835", Some("+6590855835")),
        // A tourist's home number at that till is not valid there: read at home.
        ("sgd", "139 1024 8876", Some("+8613910248876")),
        // A mobile of the default region stays one, though its digits also
        // read as a US or a Brazilian number.
        ("USD", "131 2345 6789", Some("+8613123456789")),
        ("BRL", "139 1024 8876", Some("+8613910248876")),
        // Unless typed as the till's country writes its own numbers: a US
        // number with its trunk 1, a Brazilian mobile with its area code.
        ("USD", "1-312-663-8544", Some("+13126638544")),
        ("USD", "1 (718) 369-2458", Some("+17183692458")),
        ("BRL", "(13) 99123-4567", Some("+5513991234567")),
        // Digits in one run say nothing: home's mobile stands, a toll-free
        // reading there too (186 6234 5678, a China Unicom mobile).
        ("USD", "13126638544", Some("+8613126638544")),
        ("USD", "18662345678", Some("+8618662345678")),
        // A label before the number.
        ("USD", "Tel: (212) 663-8544", Some("+12126638544")),
        // A US number at a US till, not a Shanghai landline.
        ("USD", "(212) 663-8544", Some("+12126638544")),
        // The currency as tills write it.
        ("ＳＧＤ", "9085 5835", Some("+6590855835")),
        // A currency several countries use says nothing.
        ("EUR", "9085 5835", None),
    ];
    for (currency, typed, read) in sales {
        let got = phone_of(sale(currency, typed), &opts);
        assert_eq!(got.as_deref(), read, "{currency} {typed}");
    }
    // A US placeholder at a US till is junk, not read again at home.
    // Nor a US or Singapore toll-free line or a placeholder typed in the
    // till's own groups whose digits also make a Chinese mobile (180 0...,
    // 131 2...): every receipt with the brand's hotline would link.
    for (currency, typed, reason) in [
        ("USD", "(212) 555-0123", "junk"),
        ("USD", "1-800-642-7676", "business_number"),
        ("USD", "1 (888) 642-7676", "business_number"),
        ("USD", "1-312-555-0123", "junk"),
        ("SGD", "1800 622 5545", "business_number"),
        // Without the trunk 1, a Chinese landline's digits at home.
        ("USD", "(888) 642-7676", "business_number"),
        ("USD", "866-234-5678", "business_number"),
    ] {
        let e = normalize(&sale(currency, typed), &opts).expect("valid");
        assert!(
            e.identifiers
                .iter()
                .all(|i| i.kind != IdentifierKind::Phone),
            "{typed}: {:?}",
            e.identifiers
        );
        assert!(
            e.dropped
                .iter()
                .any(|d| d.field == "phone" && d.reason == reason),
            "{typed}: {:?}",
            e.dropped
        );
    }
    // The same digits typed as a Chinese mobile at that till stay one.
    assert_eq!(
        phone_of(sale("USD", "180 0642 7676"), &opts).as_deref(),
        Some("+8618006427676")
    );
    // A home whose mobiles are written with the trunk 0: a French mobile
    // typed nationally at a Swiss till stays French (not the Swiss 077...),
    // a Swiss one typed in Swiss groups is Swiss; a German mobile at an
    // Austrian store stays German.
    let fr = NormalizeOptions::for_region(phonenumber::country::Id::FR);
    assert_eq!(
        phone_of(sale("CHF", "07 78 12 34 56"), &fr).as_deref(),
        Some("+33778123456")
    );
    assert_eq!(
        phone_of(sale("CHF", "077 812 34 56"), &fr).as_deref(),
        Some("+41778123456")
    );
    // Typed as home writes a mobile and as the till's country writes a
    // landline of its own (a Korean mobile, a Beijing line, at a Beijing
    // till): the till's reading.
    let kr = NormalizeOptions::for_region(phonenumber::country::Id::KR);
    assert_eq!(
        phone_of(sale("CNY", "010-6552-9988"), &kr).as_deref(),
        Some("+861065529988")
    );
    let de = NormalizeOptions::for_region(phonenumber::country::Id::DE)
        .with_store_regions(vec![("S01".into(), phonenumber::country::Id::AT)]);
    let mut at_store = pos();
    at_store.store_id = "S01".into();
    at_store.currency = "EUR".into();
    at_store.phone = Some("0151 23984712".into());
    assert_eq!(
        phone_of(RawEvent::Pos(at_store), &de).as_deref(),
        Some("+4915123984712")
    );
    // A web sign-up with a British address.
    let mut w = web();
    w.phone = Some("07878 895983".into());
    w.address = Some(RawAddress {
        city: Some("Leeds".into()),
        country: Some("GB".into()),
        ..RawAddress::default()
    });
    assert_eq!(
        phone_of(RawEvent::Web(w.clone()), &opts).as_deref(),
        Some("+447878895983")
    );
    // The country as people and systems type it sets the region too: `UK`
    // (ISO's reserved code) once made this London number a Guangzhou one.
    for (country, phone, want) in [
        ("UK", "020 7123 4567", "+442071234567"),
        ("twn", "02 2345 6789", "+886223456789"),
        ("Hong Kong, China", "2123 4567", "+85221234567"),
    ] {
        let mut v = w.clone();
        v.phone = Some(phone.into());
        v.address = Some(RawAddress {
            country: Some(country.into()),
            ..RawAddress::default()
        });
        assert_eq!(
            phone_of(RawEvent::Web(v), &opts).as_deref(),
            Some(want),
            "{country}"
        );
    }
    // No address and no order: the e-mail's country-code domain (a
    // Japanese mobile typed nationally; a Korean one), never a country code
    // sold as a generic name, and a mobile of the default region stays one.
    for (email, phone, want) in [
        (
            "minato1987@docomo.ne.jp",
            "090-3816-4729",
            Some("+819038164729"),
        ),
        ("jiwoo@daum.co.kr", "010-2345-6789", Some("+821023456789")),
        ("anna@bt.co.uk", "07878 895983", Some("+447878895983")),
        ("me@startup.io", "020 7123 4567", Some("+862071234567")),
        ("li@example.jp", "139 1024 8876", Some("+8613910248876")),
        // No hint at all: the default region reads (a landline of 0903).
        ("li@example.com", "090-3816-4729", Some("+869038164729")),
        // The address as an input method or a mail client writes it.
        (
            "Taro <taro@docomo.ne.jp>",
            "090-3816-4729",
            Some("+819038164729"),
        ),
        ("taro＠docomo.ne.jp", "090-3816-4729", Some("+819038164729")),
        (
            "taro@ＤＯＣＯＭＯ．ＮＥ．ＪＰ",
            "090-3816-4729",
            Some("+819038164729"),
        ),
        // Not an address: no country.
        ("a@jp", "090-3816-4729", Some("+869038164729")),
        // A landline at home stays one: the e-mail's country is a guess,
        // read only where it makes a mobile of a home landline.
        ("li@ed.ac.uk", "020 8888 6666", Some("+862088886666")),
        ("li@web.de", "021 5555 1234", Some("+862155551234")),
        ("li@libero.it", "010 6552 9988", Some("+861065529988")),
    ] {
        let mut v = web();
        v.address = None;
        v.email = Some(email.into());
        v.phone = Some(phone.into());
        assert_eq!(
            phone_of(RawEvent::Web(v), &opts).as_deref(),
            want,
            "{email} {phone}"
        );
    }
    // International form needs no hint; switched off, the default region reads.
    w.phone = Some("+86 139 1024 8876".into());
    assert_eq!(
        phone_of(RawEvent::Web(w), &opts).as_deref(),
        Some("+8613910248876")
    );
    let off = NormalizeOptions {
        phone_region_from_event: false,
        ..NormalizeOptions::default()
    };
    assert_eq!(phone_of(sale("SGD", "9085 5835"), &off), None);
    assert_eq!(
        region_of_currency("JPY"),
        Some(phonenumber::country::Id::JP)
    );
    assert_eq!(region_of_currency("EUR"), None);
    // A euro till says nothing of its country; the store table does, by the
    // longest prefix, before any currency.
    let stores = NormalizeOptions::default().with_store_regions([
        ("FR".to_string(), phonenumber::country::Id::FR),
        // A prefix of its own (here, made up: a German shop-in-shop).
        ("FR9".to_string(), phonenumber::country::Id::DE),
        ("DE".to_string(), phonenumber::country::Id::DE),
    ]);
    let at = |store: &str, currency: &str, phone: &str| {
        let mut p = pos();
        p.store_id = store.into();
        p.currency = currency.into();
        p.phone = Some(phone.into());
        RawEvent::Pos(p)
    };
    for (store, currency, typed, read) in [
        ("FR005", "EUR", "06 85 36 60 62", Some("+33685366062")),
        ("DE003", "EUR", "0174/66958061", Some("+4917466958061")),
        ("FR901", "EUR", "0174/66958061", Some("+4917466958061")),
        ("FR005", "EUR", "0174/66958061", None),
        ("IT001", "EUR", "06 85 36 60 62", None),
        ("FR005", "EUR", "139 1024 8876", Some("+8613910248876")),
        // German mobiles as Germans write them: their `0` is a trunk
        // prefix, and without it `151 2398 4712` is a Chinese mobile too.
        ("DE003", "EUR", "0151 23984712", Some("+4915123984712")),
        ("DE003", "EUR", "017666958061", Some("+4917666958061")),
        ("DE003", "EUR", "0176 6695 8061", Some("+4917666958061")),
        // A Chinese mobile typed at that till, bare or international.
        ("DE003", "EUR", "151 2398 4712", Some("+8615123984712")),
        ("DE003", "EUR", "+86 151 2398 4712", Some("+8615123984712")),
        ("DE003", "EUR", "0086 151 2398 4712", Some("+8615123984712")),
    ] {
        let got = phone_of(at(store, currency, typed), &stores);
        assert_eq!(got.as_deref(), read, "{store} {typed}");
    }
    assert_eq!(phone_of(at("FR005", "EUR", "06 85 36 60 62"), &opts), None);
    // A prefix set from the environment arrives lowercased: still the
    // store's, and a store id typed in lower case too.
    let lower = NormalizeOptions::default()
        .with_store_regions([("fr".to_string(), phonenumber::country::Id::FR)]);
    for store in ["FR005", "fr005"] {
        assert_eq!(
            phone_of(at(store, "EUR", "06 85 36 60 62"), &lower).as_deref(),
            Some("+33685366062"),
            "{store}"
        );
    }
    // The environment's lowercased prefix beside the file's: the
    // environment's wins (it overrides the file), in whichever order given.
    for both in [
        [
            ("FR", phonenumber::country::Id::FR),
            ("fr", phonenumber::country::Id::BE),
        ],
        [
            ("fr", phonenumber::country::Id::BE),
            ("FR", phonenumber::country::Id::FR),
        ],
    ] {
        let opts =
            NormalizeOptions::default().with_store_regions(both.map(|(p, r)| (p.to_string(), r)));
        assert_eq!(
            opts.store_region("FR001"),
            Some(phonenumber::country::Id::BE)
        );
    }
    // A mini-program or web order's currency says where its national
    // numbers are read, as a till's does; without one, the default region.
    let order = |currency: &str| RawOrder {
        order_id: "o1".into(),
        total_minor: 990,
        currency: currency.into(),
        lines: vec![],
        points_earned: 0,
        points_redeemed: 0,
    };
    // A Japanese mobile as typed in Japan; its digits also read as a
    // Chinese number, which is what the default region makes of it.
    let japanese = "090-3814-2769";
    let misread = Some("+869038142769");
    let mut s = social();
    s.phone = Some(japanese.into());
    assert_eq!(
        phone_of(RawEvent::Social(s.clone()), &opts).as_deref(),
        misread
    );
    s.order = Some(order("JPY"));
    assert_eq!(
        phone_of(RawEvent::Social(s.clone()), &opts).as_deref(),
        Some("+819038142769")
    );
    s.order = Some(order("EUR"));
    assert_eq!(phone_of(RawEvent::Social(s), &opts).as_deref(), misread);
    let mut w = web();
    w.phone = Some(japanese.into());
    w.address = None;
    assert_eq!(
        phone_of(RawEvent::Web(w.clone()), &opts).as_deref(),
        misread
    );
    w.order = Some(order("JPY"));
    assert_eq!(
        phone_of(RawEvent::Web(w.clone()), &opts).as_deref(),
        Some("+819038142769")
    );
    // The address's country comes first.
    w.address = Some(RawAddress {
        country: Some("KR".into()),
        ..RawAddress::default()
    });
    assert_eq!(phone_of(RawEvent::Web(w), &opts).as_deref(), misread);
}

#[test]
fn loyalty_program_namespaces_member_ids() {
    let mut p = pos();
    p.loyalty_program = Some(" vip ".into());
    let e = normalize(&RawEvent::Pos(p), &NormalizeOptions::default()).expect("valid");
    assert_eq!(e.identifiers[0].value, "VIP:M-001");
}

#[test]
fn blocklisted_store_phone_is_dropped_and_the_event_kept() {
    let opts = NormalizeOptions {
        blocklist: ["phone:+8613910248876".to_string()].into(),
        ..NormalizeOptions::default()
    };
    let e = normalize(&RawEvent::Pos(pos()), &opts).expect("valid");
    assert_eq!(e.identifiers.len(), 1);
    assert_eq!(e.dropped[0].reason, "blocklisted");
}

#[test]
fn social_ids_are_namespaced_by_platform_with_union_ids() {
    let e = normalize(
        &RawEvent::Social(SocialInteraction {
            event_id: "s1".into(),
            platform: "微信".into(),
            platform_user_id: "oA_1".into(),
            union_id: Some("uX".into()),
            handle: None,
            display_name: Some("🐱小猫".into()),
            phone: None,
            email: None,
            interaction_type: "Mini Program Order".into(),
            sku: None,
            order: Some(RawOrder {
                order_id: "o1".into(),
                total_minor: 990,
                currency: "RMB".into(),
                lines: vec![],
                points_earned: 9,
                points_redeemed: 0,
            }),
            event_time: T,
        }),
        &NormalizeOptions::default(),
    )
    .expect("valid");
    let values: Vec<&str> = e.identifiers.iter().map(|i| i.value.as_str()).collect();
    assert_eq!(values, vec!["wechat-union:uX", "wechat:oA_1"]);
    assert_eq!(e.attributes.full_name, None, "nicknames are not names");
    assert_eq!(e.activity.event_type, "mini_program_order");
    assert_eq!(e.activity.order.map(|o| o.currency).as_deref(), Some("CNY"));
    assert_eq!(e.activity.points_earned, 9);
}

#[test]
fn a_whatsapp_id_is_also_the_persons_phone() {
    let chat = |platform: &str, id: &str| {
        let e = normalize(
            &RawEvent::Social(SocialInteraction {
                event_id: "wa1".into(),
                platform: platform.into(),
                platform_user_id: id.into(),
                union_id: None,
                handle: None,
                display_name: None,
                phone: None,
                email: None,
                interaction_type: "message".into(),
                sku: None,
                order: None,
                event_time: T,
            }),
            &NormalizeOptions::default(),
        )
        .expect("valid");
        e.identifiers
            .into_iter()
            .map(|i| format!("{}={}", i.kind.as_str(), i.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        chat("WhatsApp", "447980226575"),
        vec!["phone=+447980226575", "social=whatsapp:447980226575"]
    );
    // The id as some feeds write it.
    for id in [
        "+447980226575",
        "whatsapp:447980226575",
        "４４７９８０２２６５７５",
    ] {
        assert!(
            chat("whatsapp", id).contains(&"phone=+447980226575".to_string()),
            "{id}: {:?}",
            chat("whatsapp", id)
        );
    }
    // Not a valid number, or not digits: the social id alone.
    assert_eq!(chat("wa", "999123"), vec!["social=whatsapp:999123"]);
    // A Brazilian account of before the ninth digit keeps its 8-digit id:
    // the phone is the mobile's 9-digit form (a 7 too, not the radio
    // service's range); a landline's id stays as it is.
    assert!(chat("whatsapp", "552164180266").contains(&"phone=+5521964180266".to_string()));
    assert!(chat("whatsapp", "552174180266").contains(&"phone=+5521974180266".to_string()));
    assert!(chat("whatsapp", "5521964180266").contains(&"phone=+5521964180266".to_string()));
    assert!(chat("whatsapp", "552125550123").contains(&"phone=+552125550123".to_string()));
    assert_eq!(
        chat("whatsapp", "wa.me/abc"),
        vec!["social=whatsapp:wa.me/abc"]
    );
    // Other platforms' numeric ids are not phones.
    assert_eq!(
        chat("weibo", "8613910248876"),
        vec!["social=weibo:8613910248876"]
    );
}

#[test]
fn legacy_web_order_fields_still_count() {
    let mut w = web();
    w.event_type = "order".into();
    w.order_amount_minor = Some(1234);
    w.currency = Some("usd".into());
    let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("valid");
    assert_eq!(
        e.activity.order.map(|o| (o.amount_minor, o.currency)),
        Some((1234, "USD".into()))
    );
}

#[test]
fn records_that_cannot_be_events_are_invalid() {
    let mut p = pos();
    p.transaction_id = "  ".into();
    assert_eq!(
        normalize(&RawEvent::Pos(p), &NormalizeOptions::default()),
        Err(InvalidRecord::MissingSourceId)
    );
    let mut p = pos();
    p.event_time = 0;
    assert_eq!(
        normalize(&RawEvent::Pos(p), &NormalizeOptions::default()).map_err(|e| e.kind()),
        Err("event_time_out_of_range")
    );
    // An id is a Kafka and store key: one of 300 bytes is refused, one of
    // 256 (the limit) is kept, and the limit counts bytes, not characters.
    let mut p = pos();
    p.transaction_id = "x".repeat(300);
    assert_eq!(
        normalize(&RawEvent::Pos(p), &NormalizeOptions::default()),
        Err(InvalidRecord::SourceIdTooLong { bytes: 300 })
    );
    let mut p = pos();
    p.transaction_id = "x".repeat(crate::MAX_SOURCE_ID_BYTES);
    assert!(normalize(&RawEvent::Pos(p), &NormalizeOptions::default()).is_ok());
    let mut p = pos();
    p.transaction_id = "票".repeat(100);
    assert_eq!(
        normalize(&RawEvent::Pos(p), &NormalizeOptions::default()).map_err(|e| e.kind()),
        Err("source_id_too_long")
    );
}

/// A value longer than any real one is dropped with `too_long` before any
/// parsing (a name of 40,000 U+FDFA would fold to 1.3 MB; a birthday of a
/// million `T`s took the date parser quadratic time); the event and its
/// other values are kept, and a value at the limit is read as usual.
#[test]
fn values_longer_than_the_field_limit_are_dropped_and_the_event_kept() {
    let long = "\u{FDFA}".repeat(40_000);
    let mut w = web();
    w.name = Some(long.clone());
    w.given_name = None;
    w.family_name = None;
    w.birthday = Some("T".repeat(1_000_000));
    w.user_id = Some("u".repeat(MAX_FIELD_BYTES + 1));
    w.address = Some(RawAddress {
        line1: Some("x".repeat(MAX_FIELD_BYTES + 1)),
        city: Some("Jakarta".into()),
        ..RawAddress::default()
    });
    let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept");
    let dropped: Vec<(&str, &str)> = e
        .dropped
        .iter()
        .map(|d| (d.field.as_str(), d.reason.as_str()))
        .filter(|d| d.1 == "too_long")
        .collect();
    assert_eq!(
        dropped,
        [
            ("account", "too_long"),
            ("address", "too_long"),
            ("full_name", "too_long"),
            ("birthday", "too_long"),
        ]
    );
    assert_eq!(e.attributes.full_name, None);
    assert_eq!(e.attributes.birthday, None);
    assert_eq!(e.attributes.address, None);
    // The e-mail (within the limit) is still read.
    assert!(e
        .identifiers
        .iter()
        .any(|i| i.kind == IdentifierKind::Email));

    let mut p = pos();
    p.customer_name = Some(format!("li {}", "w".repeat(MAX_FIELD_BYTES - 3)));
    let e = normalize(&RawEvent::Pos(p), &NormalizeOptions::default()).expect("kept");
    assert!(e.attributes.full_name.is_some(), "{:?}", e.dropped);
}

/// Strings that look like what sources send: digits, separators, letters,
/// CJK, full-width forms, emoji, controls.
fn messy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[+0-9 ()\\-.]{0,24}",
        "[a-zA-Z0-9.+_\\-]{0,12}@[a-zA-Z0-9.\\-]{0,12}",
        "[ a-zA-Z'\\-]{0,20}",
        "[李王张欧阳 ·]{0,6}",
        "[０-９＋－　]{0,14}",
        "[0-9/\\-.年月日]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn field_normalizers_are_total_and_idempotent(s in messy()) {
        let opts = NormalizeOptions::default();
        if let Ok(p) = normalize_phone(&s, &opts) {
            prop_assert_eq!(normalize_phone(&p, &opts), Ok(p.clone()));
        }
        if let Ok(e) = normalize_email(&s, true) {
            let again = normalize_email(&e.value, true);
            prop_assert_eq!(again.as_ref().map(|x| &x.value), Ok(&e.value));
            prop_assert_eq!(again.map(|x| x.match_key), Ok(e.match_key));
        }
        if let Ok(n) = normalize_name(&s) {
            prop_assert_eq!(normalize_name(&n), Ok(n.clone()));
        }
        if let Ok(m) = normalize_member_card(&s) {
            prop_assert_eq!(normalize_member_card(&m), Ok(m.clone()));
        }
        if let Ok(id) = normalize_namespaced_id("wechat", &s) {
            prop_assert_eq!(normalize_namespaced_id("wechat", &id), Ok(id.clone()));
        }
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        if let Ok(d) = normalize_birthday(&s, DateOrder::DayFirst, today) {
            prop_assert_eq!(normalize_birthday(&d, DateOrder::MonthFirst, today), Ok(d.clone()));
        }
        if let Ok(g) = normalize_gender(&s) {
            prop_assert_eq!(normalize_gender(&g), Ok(g.clone()));
        }
        if let Some(p) = normalize_platform(&s) {
            prop_assert_eq!(normalize_platform(&p), Some(p.clone()));
        }
    }

    #[test]
    fn whole_events_never_panic(
        id in messy(), card in proptest::option::of(messy()), phone in proptest::option::of(messy()),
        name in proptest::option::of(messy()), email in proptest::option::of(messy()),
        birthday in proptest::option::of(messy()), currency in messy(), time in any::<i64>(),
    ) {
        let opts = NormalizeOptions::default();
        let mut p = pos();
        p.transaction_id = id.clone();
        p.member_card_no = card;
        p.phone = phone.clone();
        p.customer_name = name.clone();
        p.currency = currency;
        p.event_time = time;
        let _ = normalize(&RawEvent::Pos(p), &opts);
        let mut w = web();
        w.event_id = id;
        w.email = email;
        w.phone = phone;
        w.name = name;
        w.birthday = birthday;
        w.event_time = time;
        if let Ok(e) = normalize(&RawEvent::Web(w), &opts) {
            // Identifiers come out sorted, one per link key.
            let keys: std::collections::BTreeSet<String> =
                e.identifiers.iter().map(Identifier::link_key).collect();
            prop_assert_eq!(keys.len(), e.identifiers.len());
            prop_assert!(e.identifiers.windows(2).all(|w| w[0] < w[1]));
        }
    }
}

#[test]
fn a_typed_identifier_finds_the_same_key_as_inside_an_event() {
    let opts = NormalizeOptions::default();
    let event = normalize(&RawEvent::Pos(pos()), &opts).expect("valid");
    for id in &event.identifiers {
        let typed = match id.kind {
            IdentifierKind::Phone => "139 1024 8876",
            IdentifierKind::MemberId => " m-001 ",
            _ => continue,
        };
        let found = normalize_identifier(id.kind, typed, &opts).expect("normalizes");
        assert_eq!(found.link_key(), id.link_key());
    }
    let gmail =
        normalize_identifier(IdentifierKind::Email, "J.Doe+shop@Gmail.com", &opts).expect("email");
    let plain =
        normalize_identifier(IdentifierKind::Email, "jdoe@gmail.com", &opts).expect("email");
    assert_eq!(gmail.link_key(), plain.link_key());
    // Social, account and device ids typed with their namespace as people
    // write it find the keys events make.
    let mut s = social();
    s.platform = "WeChat".into();
    s.platform_user_id = "o6_bm".into();
    s.union_id = Some("oU_9".into());
    let event = normalize(&RawEvent::Social(s), &opts).expect("valid");
    let keys: Vec<String> = event.identifiers.iter().map(|i| i.link_key()).collect();
    for typed in [
        "WeChat:o6_bm",
        "weixin:o6_bm",
        "微信:o6_bm",
        "WeChat-union:oU_9",
    ] {
        let found = normalize_identifier(IdentifierKind::Social, typed, &opts).expect(typed);
        assert!(keys.contains(&found.link_key()), "{typed}: {keys:?}");
    }
    let event = normalize(&RawEvent::Web(web()), &opts).expect("valid");
    for (kind, typed) in [
        (IdentifierKind::Account, "WEB:u-77"),
        (IdentifierKind::Device, "Web:c0ffee"),
    ] {
        let found = normalize_identifier(kind, typed, &opts).expect(typed);
        assert!(
            event
                .identifiers
                .iter()
                .any(|i| i.link_key() == found.link_key()),
            "{typed}"
        );
    }
    assert!(normalize_identifier(IdentifierKind::Social, "no-namespace", &opts).is_err());
    assert!(normalize_identifier(IdentifierKind::Phone, "12", &opts).is_err());
}

/// A till with its clock years ahead: refused against the reading clock,
/// so one event cannot move every profile's recency ahead for good; a day
/// of skew passes, and 0 turns the check off. Without a clock
/// ([`normalize`]), only the fixed 2000..2100 range applies.
#[test]
fn an_event_time_far_ahead_of_the_clock_is_refused() {
    let now = T;
    let at = |t: i64| {
        let mut p = pos();
        p.event_time = t;
        RawEvent::Pos(p)
    };
    let opts = NormalizeOptions::default();
    let year = 365 * 86_400_000;
    assert!(normalize_at(&at(now + 3_600_000), &opts, now).is_ok());
    let err = normalize_at(&at(now + 30 * year), &opts, now).expect_err("decades ahead");
    assert_eq!(err.kind(), "event_time_in_future");
    assert!(normalize(&at(now + 30 * year), &opts).is_ok());
    let off = NormalizeOptions {
        max_future_secs: 0,
        ..NormalizeOptions::default()
    };
    assert!(normalize_at(&at(now + 30 * year), &off, now).is_ok());
    // Late events are not this check's business.
    assert!(normalize_at(&at(now - 5 * year), &opts, now).is_ok());
}

#[test]
fn name_letters_lose_their_accents() {
    let folded = |s: &str| {
        let mut out = String::new();
        s.chars()
            .for_each(|c| crate::text::push_name_letter(c, &mut out));
        out
    };
    for (typed, want) in [
        ("José", "jose"),
        ("Lê Văn Đặng", "le van dang"),
        ("Søren Łukasz", "soren lukasz"),
        ("Straße", "strasse"),
        ("Zoë Ørsted", "zoe orsted"),
        ("MÜLLER", "muller"),
        ("김민수", "김민수"),
        ("Андрей", "андрей"),
        ("ΠΑΠΑΔΟΠΟΥΛΟΣ", "παπαδοπουλοσ"),
        ("Παπαδόπουλος", "παπαδοπουλοσ"),
        ("Γιώργος ΓΙΩΡΓΟΣ", "γιωργοσ γιωργοσ"),
        ("Фёдор ФЕДОР", "федор федор"),
        ("Йорданов", "йорданов"),
        ("أحمد إبراهيم", "احمد ابراهيم"),
        ("مُحَمَّد مصطفى", "محمد مصطفي"),
        ("محـــمد", "محمد"),
        ("فاطمة علی", "فاطمه علي"),
        ("יִצְחָק", "יצחק"),
    ] {
        assert_eq!(folded(typed), want, "{typed}");
    }
}

/// Fields with no parser of their own are bounded too: a platform name
/// (the social identifier's namespace), an order id, the consents' labels
/// and their number. The event and its other values are kept.
#[test]
fn namespaces_order_ids_and_consents_are_bounded() {
    let long = "p".repeat(MAX_FIELD_BYTES + 1);
    let mut s = social();
    s.platform = long.clone();
    s.email = Some("li.wei@qq.com".into());
    s.order = Some(kindred_model::raw::RawOrder {
        order_id: long.clone(),
        total_minor: 100,
        currency: "CNY".into(),
        lines: vec![],
        points_earned: 0,
        points_redeemed: 0,
    });
    let e = normalize(&RawEvent::Social(s), &NormalizeOptions::default()).expect("kept");
    let dropped: Vec<(&str, &str)> = e
        .dropped
        .iter()
        .map(|d| (d.field.as_str(), d.reason.as_str()))
        .collect();
    assert!(dropped.contains(&("social", "too_long")), "{dropped:?}");
    assert!(dropped.contains(&("order_id", "too_long")), "{dropped:?}");
    assert!(e.activity.order.is_none());
    assert!(e
        .identifiers
        .iter()
        .all(|i| i.kind != IdentifierKind::Social));
    assert!(e
        .identifiers
        .iter()
        .any(|i| i.kind == IdentifierKind::Email));

    let mut w = web();
    w.consents = (0..MAX_CONSENTS + 10)
        .map(|i| kindred_model::raw::RawConsent {
            purpose: format!("purpose_{i}"),
            channel: "email".into(),
            granted: true,
        })
        .chain(std::iter::once(kindred_model::raw::RawConsent {
            purpose: long,
            channel: "sms".into(),
            granted: true,
        }))
        .collect();
    let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept");
    assert_eq!(e.consents.len(), MAX_CONSENTS);
    let too_long = e
        .dropped
        .iter()
        .filter(|d| d.field == "consent" && d.reason == "too_long")
        .count();
    // Eleven consents dropped, said once.
    assert_eq!(too_long, 1);

    // A withdrawal after the cap's worth of grants (a consent platform's
    // snapshot) is kept, and the grants make way; one with a label too
    // long to keep withdraws every purpose on its channel.
    let mut w = web();
    w.consents = (0..MAX_CONSENTS)
        .map(|i| kindred_model::raw::RawConsent {
            purpose: format!("purpose_{i}"),
            channel: "email".into(),
            granted: true,
        })
        .chain([
            kindred_model::raw::RawConsent {
                purpose: "marketing".into(),
                channel: "email".into(),
                granted: false,
            },
            kindred_model::raw::RawConsent {
                purpose: "x".repeat(600),
                channel: "sms".into(),
                granted: false,
            },
        ])
        .collect();
    let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept");
    let withdrawn: Vec<String> = e
        .consents
        .iter()
        .filter(|c| !c.granted)
        .map(|c| format!("{}:{}", c.purpose, c.channel))
        .collect();
    assert!(
        withdrawn.contains(&"marketing:email".to_string()),
        "{withdrawn:?}"
    );
    assert!(withdrawn.contains(&"all:sms".to_string()), "{withdrawn:?}");
    // Two grants made way: the cap holds.
    assert_eq!(
        e.consents.iter().filter(|c| c.granted).count(),
        MAX_CONSENTS - 2
    );
}

/// A clerk's `李先生` (Mr Li) says the customer is a man; a gender the
/// event states itself takes the title's place.
#[test]
fn a_gendered_title_gives_the_gender_the_event_does_not_state() {
    let mut p = pos();
    p.customer_name = Some("李先生".into());
    let e = normalize(&RawEvent::Pos(p), &NormalizeOptions::default()).expect("valid");
    assert_eq!(e.attributes.family_name.as_deref(), Some("李"));
    assert_eq!(e.attributes.gender.as_deref(), Some("male"));
    let mut w = web();
    w.name = Some("Mrs Sentosa".into());
    w.given_name = None;
    w.family_name = None;
    w.gender = Some("M".into());
    let e = normalize(&RawEvent::Web(w.clone()), &NormalizeOptions::default()).expect("valid");
    assert_eq!(e.attributes.gender.as_deref(), Some("male"), "stated");
    w.gender = None;
    let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("valid");
    assert_eq!(
        e.attributes.gender.as_deref(),
        Some("female"),
        "from the title"
    );
}

/// What normalization makes keeps its bounds; a canonical event written by
/// someone else is checked against the same bounds, each named.
#[test]
fn canonical_events_are_checked_against_normalizations_bounds() {
    let opts = NormalizeOptions::default();
    let mut p = pos();
    p.points_earned = MAX_POINTS;
    p.points_redeemed = -MAX_POINTS;
    p.amount_minor = MAX_AMOUNT_MINOR;
    p.transaction_id = "x".repeat(MAX_SOURCE_ID_BYTES);
    let e = normalize(&RawEvent::Pos(p), &opts).expect("normalizes");
    assert_eq!(check_canonical(&e), Ok(()));
    assert_eq!(
        check_canonical(&normalize(&RawEvent::Web(web()), &opts).expect("web")),
        Ok(())
    );
    let bad = |f: &dyn Fn(&mut CanonicalEvent)| {
        let mut bad = e.clone();
        f(&mut bad);
        check_canonical(&bad).map_err(|e| e.kind())
    };
    assert_eq!(
        bad(&|b| b.activity.points_earned = MAX_POINTS + 1),
        Err("value_out_of_range")
    );
    assert_eq!(
        bad(&|b| b.activity.points_redeemed = i64::MIN),
        Err("value_out_of_range")
    );
    assert_eq!(
        bad(&|b| b.activity.order.as_mut().expect("an order").amount_minor = -MAX_AMOUNT_MINOR - 1),
        Err("value_out_of_range")
    );
    assert_eq!(
        bad(&|b| b.event_time_ms = 0),
        Err("event_time_out_of_range")
    );
    assert_eq!(
        bad(&|b| b.event_id = "pos:".into()),
        Err("missing_source_id")
    );
    assert_eq!(
        bad(&|b| b.event_id = format!("pos:{}", "x".repeat(MAX_SOURCE_ID_BYTES + 1))),
        Err("source_id_too_long")
    );
    // Another producer's id without the channel's prefix is its source id.
    assert_eq!(bad(&|b| b.event_id = "T-1001".into()), Ok(()));
    // Identifiers no more, nor longer, than normalization makes them:
    // 40,000 phones on one event stalled the resolver.
    let long = "x".repeat(MAX_CANONICAL_TEXT_BYTES + 1);
    assert_eq!(
        bad(&|b| b.identifiers[0].value = long.clone()),
        Err("too_large")
    );
    assert_eq!(
        bad(&|b| {
            let first = b.identifiers[0].clone();
            b.identifiers = vec![first; MAX_IDENTIFIERS + 1];
        }),
        Err("too_large")
    );
    // Texts and other lists are cut to the bounds instead (a 400 KB name
    // stalled the resolver; an older release's 600-line receipt must
    // replay): the cut event passes.
    let mut big = e.clone();
    big.attributes.full_name = Some(format!("{}é", "x".repeat(MAX_CANONICAL_TEXT_BYTES - 1)));
    big.consents = vec![
        kindred_model::Consent {
            purpose: "marketing".into(),
            channel: "email".into(),
            granted: true,
        };
        MAX_CONSENT_STATEMENTS + 1
    ];
    if let Some(order) = &mut big.activity.order {
        let line = kindred_model::raw::LineItem {
            sku: "SKU-1".into(),
            quantity: 1,
            unit_price_minor: 1,
        };
        order.lines = vec![line; MAX_ORDER_LINES + 100];
    }
    let cut = bound_canonical(&mut big);
    assert_eq!(cut, ["full_name", "order_lines", "consents"]);
    let name = big.attributes.full_name.as_deref().unwrap_or_default();
    assert_eq!(name.len(), MAX_CANONICAL_TEXT_BYTES - 1, "cut before the é");
    assert_eq!(big.consents.len(), MAX_CONSENT_STATEMENTS);
    assert_eq!(
        big.activity.order.as_ref().map(|o| o.lines.len()),
        Some(MAX_ORDER_LINES)
    );
    assert_eq!(check_canonical(&big), Ok(()));
    let mut fits = e.clone();
    assert!(bound_canonical(&mut fits).is_empty());
    assert_eq!(fits, e);
    let mut huge = e.clone();
    huge.activity.points_earned = i64::MAX;
    assert_eq!(
        check_canonical(&huge).map_err(|e| e.to_string()),
        Err(format!(
            "points_earned {} is beyond the ±{MAX_POINTS} normalization keeps",
            i64::MAX
        ))
    );
}

/// `03/04/1990` is 3 April in London and 4 March in Chicago: an ambiguous
/// numeric birthday reads as the address's country writes dates; where the
/// region writes the year first (or none is named), as `date_order` says.
#[test]
fn an_ambiguous_birthday_reads_as_the_events_region_writes_dates() {
    let read = |country: Option<&str>, opts: &NormalizeOptions| {
        let mut w = web();
        w.birthday = Some("03/04/1990".into());
        w.address = country.map(|c| RawAddress {
            country: Some(c.into()),
            ..RawAddress::default()
        });
        let e = normalize(&RawEvent::Web(w), opts).expect("valid");
        e.attributes.birthday
    };
    let day_first = NormalizeOptions::default();
    let month_first = NormalizeOptions {
        date_order: DateOrder::MonthFirst,
        ..NormalizeOptions::default()
    };
    for opts in [&day_first, &month_first] {
        assert_eq!(read(Some("US"), opts).as_deref(), Some("1990-03-04"));
        assert_eq!(
            read(Some("Philippines"), opts).as_deref(),
            Some("1990-03-04")
        );
        assert_eq!(read(Some("GB"), opts).as_deref(), Some("1990-04-03"));
        assert_eq!(read(Some("Germany"), opts).as_deref(), Some("1990-04-03"));
    }
    // China and Japan write the year first: the configured order decides.
    assert_eq!(read(Some("CN"), &day_first).as_deref(), Some("1990-04-03"));
    assert_eq!(
        read(Some("JP"), &month_first).as_deref(),
        Some("1990-03-04")
    );
    assert_eq!(read(None, &month_first).as_deref(), Some("1990-03-04"));
    // A currency says nothing of it: a US-dollar order from an address
    // with no country reads as configured.
    let mut w = web();
    w.birthday = Some("03/04/1990".into());
    w.address = None;
    w.currency = Some("USD".into());
    w.order_amount_minor = Some(1000);
    w.event_type = "order".into();
    let e = normalize(&RawEvent::Web(w), &day_first).expect("valid");
    assert_eq!(e.attributes.birthday.as_deref(), Some("1990-04-03"));
    // Unambiguous dates read the same everywhere.
    let mut w = web();
    w.birthday = Some("17/05/1990".into());
    w.address = Some(RawAddress {
        country: Some("US".into()),
        ..RawAddress::default()
    });
    let e = normalize(&RawEvent::Web(w), &day_first).expect("valid");
    assert_eq!(e.attributes.birthday.as_deref(), Some("1990-05-17"));
    // Switched off, the configured order applies to every region.
    let fixed = NormalizeOptions {
        date_order_from_event: false,
        ..NormalizeOptions::default()
    };
    assert_eq!(read(Some("US"), &fixed).as_deref(), Some("1990-04-03"));
}

/// Markets whose convention is well known read as they write dates.
#[test]
fn date_orders_of_regions() {
    use phonenumber::country::Id;
    assert_eq!(DateOrder::of_region(Id::US), Some(DateOrder::MonthFirst));
    assert_eq!(DateOrder::of_region(Id::PR), Some(DateOrder::MonthFirst));
    for r in [
        Id::GB,
        Id::FR,
        Id::DE,
        Id::AU,
        Id::IN,
        Id::BR,
        Id::SG,
        Id::MX,
    ] {
        assert_eq!(DateOrder::of_region(r), Some(DateOrder::DayFirst), "{r:?}");
    }
    // Regions whose likely language CLDR lacks write the day first.
    for r in [Id::PY, Id::HT, Id::RW, Id::WS, Id::VU] {
        assert_eq!(DateOrder::of_region(r), Some(DateOrder::DayFirst), "{r:?}");
    }
    for r in [Id::CN, Id::JP, Id::KR, Id::TW, Id::CA, Id::SE, Id::HU] {
        assert_eq!(DateOrder::of_region(r), None, "{r:?}");
    }
}

/// A country named in its own language (CLDR's names of each region in its
/// official languages) reads as its code, as typed, in capitals, or with
/// the letters folded; none reads as another country.
#[test]
fn countries_named_in_their_own_languages() {
    let read = |text: &str| {
        normalize_address(&RawAddress {
            country: Some(text.into()),
            city: Some("x".into()),
            ..RawAddress::default()
        })
        .and_then(|a| a.country)
    };
    let wrong: Vec<String> = crate::endonyms::ENDONYMS
        .iter()
        .filter(|(name, code)| read(name).as_deref() != Some(*code))
        .map(|(name, code)| format!("{name:?} -> {:?}, not {code}", read(name)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for (text, code) in [
        ("España", "ES"),
        ("Espana", "ES"),
        ("SCHWEIZ", "CH"),
        ("Suisse", "CH"),
        ("Svizzera", "CH"),
        ("Österreich", "AT"),
        ("Osterreich", "AT"),
        ("Italia", "IT"),
        ("Nederland", "NL"),
        ("Norge", "NO"),
        ("Polska", "PL"),
        ("Türkiye", "TR"),
        ("Éire", "IE"),
        ("Ελλάδα", "GR"),
        ("Россия", "RU"),
        ("대한민국", "KR"),
    ] {
        assert_eq!(read(text).as_deref(), Some(code), "{text}");
    }
}

/// A withdrawal spelled the way other consent systems spell it reads as
/// the statement `may_contact` acts on: kept as typed, `营销` / `手机短信`
/// would leave an older `marketing:sms` grant standing, and the person
/// contactable. A withdrawal naming no channel withdraws every channel.
#[test]
fn withdrawals_in_other_systems_words_reach_the_contact_statements() {
    let mut w = web();
    w.consents = [
        ("营销", "手机短信"),
        ("Marketing Communications", "E-Mail Newsletter"),
        ("direct_marketing", "Email & SMS"),
        ("marketing", ""),
    ]
    .into_iter()
    .map(|(purpose, channel)| RawConsent {
        purpose: purpose.into(),
        channel: channel.into(),
        granted: false,
    })
    .collect();
    let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept");
    let got: Vec<String> = e
        .consents
        .iter()
        .map(|c| format!("{}:{}:{}", c.purpose, c.channel, c.granted))
        .collect();
    assert_eq!(
        got,
        [
            "marketing:all:false",
            "marketing:email:false",
            "marketing:sms:false"
        ]
    );
    assert!(
        e.dropped.iter().all(|d| d.field != "consent"),
        "{:?}",
        e.dropped
    );
}

/// A field within 512 bytes as sent that NFKC expands past twice that
/// (170 × U+FDFA is 510 bytes and 5,610 folded) is dropped as too long:
/// kept, a review made 30 such street lines in one block take 26 s of
/// comparisons. Ordinary text that expands a little (full-width digits,
/// ㍿) is read. An event type, the skus and the number of an order's lines
/// are bounded too.
#[test]
fn fields_that_unicode_expands_past_the_bound_are_dropped() {
    assert!(too_long(&"\u{FDFA}".repeat(170)));
    assert!(!too_long(&"㍿".repeat(40)));
    assert!(!too_long("北京市朝阳区建国路８８号"));
    let mut w = web();
    w.address = Some(RawAddress {
        line1: Some("\u{FDFA}".repeat(170)),
        postal_code: Some("100000".into()),
        ..RawAddress::default()
    });
    w.event_type = "x".repeat(1_000_000);
    w.order = Some(kindred_model::raw::RawOrder {
        order_id: "o-1".into(),
        total_minor: 100,
        currency: "CNY".into(),
        lines: (0..MAX_ORDER_LINES + 3)
            .map(|i| kindred_model::raw::LineItem {
                sku: if i == 0 {
                    "s".repeat(600)
                } else {
                    format!("SKU-{i}")
                },
                quantity: 1,
                unit_price_minor: 1,
            })
            .collect(),
        points_earned: 0,
        points_redeemed: 0,
    });
    let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept");
    assert_eq!(e.attributes.address, None);
    assert_eq!(e.activity.event_type, "unknown");
    let lines = e.activity.order.as_ref().map(|o| o.lines.len());
    assert_eq!(lines, Some(MAX_ORDER_LINES));
    let too_long_fields: Vec<&str> = e
        .dropped
        .iter()
        .filter(|d| d.reason == "too_long")
        .map(|d| d.field.as_str())
        .collect();
    // The long sku's line and the ones past the limit: said once.
    assert_eq!(too_long_fields, ["address", "event_type", "order_line"]);
}

/// An order on a web event counts as the event's type says: a sale, a
/// sale taken back (refund, cancellation: total subtracted whatever its
/// sign), or no sale (a cart, a checkout begun, an update restating an
/// order already counted: dropped, its skus browsed). Every type was a
/// sale: an order, its cancellation and its refund counted three orders.
#[test]
fn a_web_orders_type_says_whether_it_is_a_sale() {
    let order_of = |event_type: &str, total_minor: i64| {
        let mut w = web();
        w.event_type = event_type.into();
        w.order = Some(kindred_model::raw::RawOrder {
            order_id: "A100".into(),
            total_minor,
            currency: "CNY".into(),
            lines: vec![kindred_model::raw::LineItem {
                sku: " SKU-9 ".into(),
                quantity: 1,
                unit_price_minor: total_minor,
            }],
            points_earned: 0,
            points_redeemed: 0,
        });
        normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept")
    };
    for sale in [
        "order",
        "purchase",
        "Order Completed",
        "checkout_completed",
        "mini_program_order",
    ] {
        let e = order_of(sale, 10_000);
        assert_eq!(
            e.activity.order.map(|o| o.amount_minor),
            Some(10_000),
            "{sale}"
        );
    }
    for reversal in [
        "Order Refunded",
        "refund",
        "order_cancelled",
        "Order Canceled",
        "return",
        // helper-195: Shopify's topics, joined-up names, Chinese types.
        "refunds/create",
        "OrderRefunded",
        "orderCancelled",
        "returns",
        "退款",
        "退款成功",
        "取消订单",
    ] {
        for total in [10_000, -10_000] {
            let e = order_of(reversal, total);
            assert_eq!(
                e.activity.order.map(|o| o.amount_minor),
                Some(-10_000),
                "{reversal} {total}"
            );
        }
    }
    // A reversal of nothing is no order (not a free sale).
    for reversal in ["order_cancelled", "refund"] {
        let e = order_of(reversal, 0);
        assert!(e.activity.order.is_none(), "{reversal}");
        assert!(
            e.dropped.iter().any(|d| d.field == "order"),
            "{reversal}: {:?}",
            e.dropped
        );
    }
    // A sale or a reversal that did not happen: no order, nothing browsed.
    for not_done in [
        "order_failed",
        "Payment Declined",
        "purchase_failed",
        "return_requested",
        "Refund Initiated",
        "refund_failed",
        "refund_pending",
        "cancellation_requested",
        // A return's steps before its refund move goods, not money.
        "return_created",
        "return_received",
        "returns/approve",
        "returns/update",
        "returns/close",
        "returns/decline",
        "return_closed",
        // A refund requested, failed or closed, joined up or in Chinese.
        "RefundRequested",
        "refundFailed",
        "RefundPending",
        "申请退款",
        "退款失败",
        "退款关闭",
        "退货申请",
    ] {
        let e = order_of(not_done, 10_000);
        assert!(e.activity.order.is_none(), "{not_done}");
        assert!(e.activity.browsed_skus.is_empty(), "{not_done}");
        assert!(
            e.dropped
                .iter()
                .any(|d| d.field == "order" && d.reason == "not_a_purchase"),
            "{not_done}: {:?}",
            e.dropped
        );
    }
    // An order placed before, shipped or delivered: no second sale, and
    // its products were bought, not browsed.
    for follow_up in [
        "order_shipped",
        "Order Fulfilled",
        "orders/fulfilled",
        "order_delivered",
        "order_dispatched",
    ] {
        let e = order_of(follow_up, 10_000);
        assert!(e.activity.order.is_none(), "{follow_up}");
        assert!(e.activity.browsed_skus.is_empty(), "{follow_up}");
        assert!(
            e.dropped
                .iter()
                .any(|d| d.field == "order" && d.reason == "not_a_purchase"),
            "{follow_up}: {:?}",
            e.dropped
        );
    }
    // Paid or completed, whatever is still pending after it: a sale.
    for sale in [
        "order_paid_pending_shipment",
        "Order Completed (pending fulfillment)",
    ] {
        let e = order_of(sale, 10_000);
        assert_eq!(
            e.activity.order.map(|o| o.amount_minor),
            Some(10_000),
            "{sale}"
        );
    }
    // A reversal requested, whatever its request's state, is none done.
    for requested in ["return_request_completed", "refund_initiated_success"] {
        let e = order_of(requested, 10_000);
        assert!(e.activity.order.is_none(), "{requested}");
    }
    // An abandoned checkout, a cart, an edit or a deletion is no sale; a
    // returning customer's order is one.
    for not_a_sale in [
        "checkouts/create",
        "carts/create",
        "orders/edited",
        "orders/delete",
    ] {
        let e = order_of(not_a_sale, 10_000);
        assert!(e.activity.order.is_none(), "{not_a_sale}");
    }
    // A sign several currencies use is read where the sale was made: a web
    // shop's market (the brand's home), not the customer's address.
    let priced = |opts: &NormalizeOptions, country: &str, sign: &str| {
        let mut w = web();
        w.event_type = "order".into();
        w.address = Some(RawAddress {
            country: Some(country.into()),
            ..RawAddress::default()
        });
        w.order = Some(kindred_model::raw::RawOrder {
            order_id: "A200".into(),
            total_minor: 12_800,
            currency: sign.into(),
            lines: vec![],
            points_earned: 0,
            points_redeemed: 0,
        });
        normalize(&RawEvent::Web(w), opts)
            .expect("kept")
            .activity
            .order
            .map(|o| o.currency)
    };
    assert_eq!(
        priced(&NormalizeOptions::default(), "JP", "¥").as_deref(),
        Some("CNY")
    );
    // A sign the home market cannot read: the customer's country's.
    assert_eq!(
        priced(&NormalizeOptions::default(), "US", "$").as_deref(),
        Some("USD")
    );
    assert_eq!(
        priced(
            &NormalizeOptions::for_region(phonenumber::country::Id::US),
            "CA",
            "$"
        )
        .as_deref(),
        Some("USD")
    );
    assert_eq!(
        order_of("returning_customer_order", 10_000)
            .activity
            .order
            .map(|o| o.amount_minor),
        Some(10_000)
    );
    // A request event without an order still browses its product, unless
    // it asks to take a sale back.
    let browsed = |event_type: &str| {
        let mut w = web();
        w.event_type = event_type.into();
        w.sku = Some("SKU-3".into());
        let e = normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept");
        e.activity.browsed_skus
    };
    assert_eq!(
        browsed("back_in_stock_requested"),
        vec!["SKU-3".to_string()]
    );
    assert!(browsed("return_requested").is_empty());
    for no_sale in [
        "add_to_cart",
        "begin_checkout",
        "Checkout Started",
        "order_updated",
        "Payment Info Entered",
        "add_shipping_info",
        "add_payment_info",
        "delivery_option_selected",
    ] {
        let e = order_of(no_sale, 10_000);
        assert!(e.activity.order.is_none(), "{no_sale}");
        assert_eq!(
            e.activity.browsed_skus,
            vec!["SKU-9".to_string()],
            "{no_sale}"
        );
        assert!(
            e.dropped
                .iter()
                .any(|d| d.field == "order" && d.reason == "not_a_purchase"),
            "{no_sale}: {:?}",
            e.dropped
        );
    }
}

/// A reversal takes back the points its order earned and gives back those
/// redeemed on it, whichever sign the feed sends them with (a feed copying
/// the sale sends them positive); a purchase and its refund leave the
/// balance where it was. The product returned is not browsed.
#[test]
fn a_refund_takes_its_orders_points_back() {
    let event = |event_type: &str, earned: i64, redeemed: i64| {
        let mut w = web();
        w.event_type = event_type.into();
        w.sku = Some("SKU-7".into());
        w.order = Some(kindred_model::raw::RawOrder {
            order_id: "A7".into(),
            total_minor: 10_000,
            currency: "CNY".into(),
            lines: vec![],
            points_earned: earned,
            points_redeemed: redeemed,
        });
        normalize(&RawEvent::Web(w), &NormalizeOptions::default()).expect("kept")
    };
    let sale = event("purchase", 50, 200);
    assert_eq!(
        (sale.activity.points_earned, sale.activity.points_redeemed),
        (50, 200)
    );
    assert_eq!(sale.activity.browsed_skus, vec!["SKU-7".to_string()]);
    for (earned, redeemed) in [(50, 200), (-50, -200)] {
        let refund = event("Order Refunded", earned, redeemed);
        assert_eq!(
            (
                refund.activity.points_earned,
                refund.activity.points_redeemed
            ),
            (-50, -200),
            "{earned} {redeemed}"
        );
        assert!(refund.activity.browsed_skus.is_empty());
        let mut record = kindred_model::GoldenRecord::new("kp-1".into(), &sale);
        record.absorb_event(&refund);
        assert_eq!(record.points_balance, 0);
        assert_eq!(record.points_earned, 0);
        assert_eq!(record.order_count, 1);
        assert_eq!(record.spend_minor.get("CNY"), Some(&0));
    }
}

/// A till's refund (a negative amount) takes its sale's points back as a
/// web refund does, whichever sign the till gives them: copied from the
/// sale, the earned points were added again and the redeemed ones
/// redeemed twice (the balance went from -150 to -300).
#[test]
fn a_till_refund_takes_its_sales_points_back() {
    let event = |id: &str, amount: i64, earned: i64, redeemed: i64| {
        let mut p = pos();
        p.transaction_id = id.into();
        p.amount_minor = amount;
        p.points_earned = earned;
        p.points_redeemed = redeemed;
        normalize(&RawEvent::Pos(p), &NormalizeOptions::default()).expect("kept")
    };
    let sale = event("T-1", 10_000, 50, 200);
    for (earned, redeemed) in [(50, 200), (-50, -200)] {
        let refund = event("T-2", -10_000, earned, redeemed);
        assert_eq!(
            (
                refund.activity.points_earned,
                refund.activity.points_redeemed
            ),
            (-50, -200),
            "{earned} {redeemed}"
        );
        let mut record = kindred_model::GoldenRecord::new("kp-1".into(), &sale);
        record.absorb_event(&refund);
        assert_eq!(record.points_balance, 0);
        assert_eq!(record.points_earned, 0);
        assert_eq!(record.spend_minor.get("CNY"), Some(&0));
    }
    // A sale's redeemed points sent as a debit (negative) are points
    // redeemed all the same: the balance goes down.
    for redeemed in [200, -200] {
        let sale = event("T-3", 10_000, 50, redeemed);
        assert_eq!(
            (sale.activity.points_earned, sale.activity.points_redeemed),
            (50, 200),
            "{redeemed}"
        );
        let record = kindred_model::GoldenRecord::new("kp-1".into(), &sale);
        assert_eq!(record.points_balance, -150, "{redeemed}");
    }
}
