//! Any text in any field: every normalizer is total and idempotent.
#![no_main]

use kindred_normalize::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let opts = NormalizeOptions::default();
    if let Ok(p) = normalize_phone(s, &opts) {
        assert_eq!(normalize_phone(&p, &opts), Ok(p.clone()));
    }
    if let Ok(e) = normalize_email(s, true) {
        assert_eq!(normalize_email(&e.value, true), Ok(e));
    }
    if let Ok(n) = normalize_name(s) {
        assert_eq!(normalize_name(&n), Ok(n.clone()));
    }
    if let Ok(m) = normalize_member_card(s) {
        assert_eq!(normalize_member_card(&m), Ok(m.clone()));
    }
    let today = chrono_today();
    if let Ok(d) = normalize_birthday(s, DateOrder::DayFirst, today) {
        assert_eq!(normalize_birthday(&d, DateOrder::DayFirst, today), Ok(d.clone()));
    }
    let _ = normalize_gender(s);
    let _ = normalize_platform(s);
    let _ = normalize_namespaced_id("wechat", s);
});

fn chrono_today() -> kindred_normalize::NaiveDate {
    kindred_normalize::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
}
