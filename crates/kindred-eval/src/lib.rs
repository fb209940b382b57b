//! How right are the profiles? Compares the resolver's clustering of source
//! records (record -> profile) with the ground truth (record -> true person).
//!
//! - Pairwise precision/recall/F1: over all pairs of records, does "same
//!   profile" agree with "same person"? Computed from the contingency table
//!   (profile x person counts), never by enumerating pairs.
//! - B-cubed precision/recall/F1: per record, the share of its profile that
//!   is truly its person (precision) and the share of its person found in its
//!   profile (recall), averaged over records.
//! - Over-merged profiles hold records of more than one person; under-merged
//!   persons are split over more than one profile. The worst of each are listed.
//!
//! Pure but for [`write_assignments`], which writes a CSV file: no store,
//! no Kafka. Callers feed it pairs, from the resolver's store or from the
//! profile change stream ([`ChangeLog`]).

mod changelog;
pub use changelog::ChangeLog;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

/// Precision, recall and their harmonic mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Self {
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// A cluster that mixes or splits people: its id and how many records each
/// of its members contributed, largest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub id: String,
    pub parts: Vec<(String, u64)>,
}

/// The evaluation of one clustering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Records scored: every record the truth knows.
    pub records: u64,
    /// Records the truth knows that the clustering does not hold (never
    /// ingested, dead-lettered, erased): each is scored as a profile of its
    /// own, so a lost record costs recall instead of leaving the count.
    pub missing_records: u64,
    /// Distinct records the clustering holds that the truth does not know
    /// (not scored).
    pub unknown_records: u64,
    /// Records the clustering lists more than once (an event in two
    /// profiles breaks the store's partition): the first placement is
    /// scored.
    pub duplicate_records: u64,
    /// Read from the profile topic: changes that could not be read, whose
    /// placements the clustering lacks (0 for a store).
    pub unreadable_changes: u64,
    /// Read from the profile topic: changes whose lists of moved or
    /// absorbed ids were cut to fit a record, whose events may stay in
    /// their old profile in the clustering (0 for a store).
    pub cut_changes: u64,
    /// Profiles holding a scored record (a missing record's stand-in is
    /// none).
    pub profiles: u64,
    pub persons: u64,
    pub pairwise: Prf,
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
    pub bcubed: Prf,
    /// Profiles holding records of more than one person.
    pub over_merged_profiles: u64,
    /// Persons whose records are spread over more than one profile.
    pub under_merged_persons: u64,
    pub worst_over_merged: Vec<Example>,
    pub worst_under_merged: Vec<Example>,
}

fn pairs(n: u64) -> u64 {
    // In u128: n (n - 1) overflows u64 past 2^32 records in one cell.
    let n = u128::from(n);
    u64::try_from(n * n.saturating_sub(1) / 2).unwrap_or(u64::MAX)
}

/// Evaluates a clustering (`(record, profile)` pairs) against the truth
/// (record -> person): every record the truth knows is scored, one the
/// clustering lacks as a profile of its own (counted in
/// [`Report::missing_records`]); records the truth does not know are only
/// counted ([`Report::unknown_records`]).
pub fn evaluate_against<'a, R, P>(
    clustering: impl IntoIterator<Item = (R, P)>,
    truth: &'a BTreeMap<String, String>,
    worst: usize,
) -> Report
where
    R: AsRef<str>,
    P: Into<String>,
{
    let mut placed: HashMap<&'a str, String> = HashMap::new();
    let mut unknown = std::collections::HashSet::new();
    let mut duplicates = 0u64;
    for (record, profile) in clustering {
        match truth.get_key_value(record.as_ref()) {
            Some((key, _)) => match placed.entry(key.as_str()) {
                std::collections::hash_map::Entry::Occupied(_) => duplicates += 1,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(profile.into());
                }
            },
            None => {
                if !unknown.insert(record.as_ref().to_string()) {
                    duplicates += 1;
                }
            }
        }
    }
    let mut missing = 0u64;
    let scored = truth.iter().map(|(record, person)| {
        let profile = match placed.remove(record.as_str()) {
            Some(profile) => profile,
            None => {
                missing += 1;
                // Not a profile id any resolver makes (`kp-` and digits).
                format!("missing:{record}")
            }
        };
        (profile, person.as_str())
    });
    let mut report = evaluate(scored.collect::<Vec<_>>(), worst);
    report.profiles -= missing;
    report.missing_records = missing;
    report.unknown_records = unknown.len() as u64;
    report.duplicate_records = duplicates;
    report
}

/// Writes a clustering to `path` as `event_id,profile_id` lines under that
/// header, the form of `kindred gen`'s truth.csv, sorted by event id: RFC
/// 4180 CSV, so an event id holding a comma or a quote is quoted, as CSV
/// readers (and `kindred eval --truth`) read it.
pub fn write_assignments(
    path: &std::path::Path,
    clustering: &[(String, String)],
) -> std::io::Result<()> {
    let mut sorted: Vec<&(String, String)> = clustering.iter().collect();
    sorted.sort_unstable();
    let mut out = csv::Writer::from_path(path)?;
    out.write_record(["event_id", "profile_id"])?;
    for (event, profile) in sorted {
        out.write_record([event, profile])?;
    }
    let file = out
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // A file is made durable; a pipe, a terminal or `/dev/stdout` cannot be
    // synced (EINVAL) and needs not be.
    if file.metadata()?.is_file() {
        file.sync_all()?;
    }
    Ok(())
}

/// Evaluates `(predicted profile, true person)` pairs, one per source record.
/// `worst` is how many examples of each failure to keep.
pub fn evaluate<P, T>(records: impl IntoIterator<Item = (P, T)>, worst: usize) -> Report
where
    P: Into<String>,
    T: Into<String>,
{
    let mut cells: HashMap<(String, String), u64> = HashMap::new();
    for (p, t) in records {
        *cells.entry((p.into(), t.into())).or_default() += 1;
    }
    let mut by_profile: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    let mut by_person: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for ((p, t), n) in &cells {
        by_profile.entry(p).or_default().push((t, *n));
        by_person.entry(t).or_default().push((p, *n));
    }
    let size = |parts: &Vec<(&str, u64)>| parts.iter().map(|(_, n)| n).sum::<u64>();
    let records: u64 = cells.values().sum();

    let correct_pairs: u64 = cells.values().map(|n| pairs(*n)).sum();
    let predicted_pairs: u64 = by_profile.values().map(|v| pairs(size(v))).sum();
    let true_pairs: u64 = by_person.values().map(|v| pairs(size(v))).sum();
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            1.0
        } else {
            num as f64 / den as f64
        }
    };
    let pairwise = Prf::new(
        ratio(correct_pairs, predicted_pairs),
        ratio(correct_pairs, true_pairs),
    );

    // Per group, the sum of its cells' squares over its size; summed in the
    // groups' sorted order with integer sums inside each group, so the same
    // records give the same figures to the last bit on every run (a float
    // sum in a hash map's order differs in its last digits).
    let bcubed_sum = |groups: &BTreeMap<&str, Vec<(&str, u64)>>| -> f64 {
        groups
            .values()
            .map(|parts| {
                let squares: u128 = parts.iter().map(|(_, n)| u128::from(*n).pow(2)).sum();
                squares as f64 / size(parts) as f64
            })
            .sum()
    };
    let (bp, br) = (bcubed_sum(&by_profile), bcubed_sum(&by_person));
    let bcubed = if records == 0 {
        Prf::new(1.0, 1.0)
    } else {
        Prf::new(bp / records as f64, br / records as f64)
    };

    let examples = |groups: &BTreeMap<&str, Vec<(&str, u64)>>| -> (u64, Vec<Example>) {
        let mut bad: Vec<Example> = groups
            .iter()
            .filter(|(_, parts)| parts.len() > 1)
            .map(|(id, parts)| {
                let mut parts: Vec<(String, u64)> =
                    parts.iter().map(|(k, n)| (k.to_string(), *n)).collect();
                parts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Example {
                    id: id.to_string(),
                    parts,
                }
            })
            .collect();
        let count = bad.len() as u64;
        // Worst first: most members, then most records, then id for determinism.
        bad.sort_by(|a, b| {
            let total = |e: &Example| e.parts.iter().map(|(_, n)| n).sum::<u64>();
            b.parts
                .len()
                .cmp(&a.parts.len())
                .then(total(b).cmp(&total(a)))
                .then_with(|| a.id.cmp(&b.id))
        });
        bad.truncate(worst);
        (count, bad)
    };
    let (over_merged_profiles, worst_over_merged) = examples(&by_profile);
    let (under_merged_persons, worst_under_merged) = examples(&by_person);
    Report {
        records,
        missing_records: 0,
        unknown_records: 0,
        duplicate_records: 0,
        unreadable_changes: 0,
        cut_changes: 0,
        profiles: by_profile.len() as u64,
        persons: by_person.len() as u64,
        pairwise,
        true_pairs,
        predicted_pairs,
        correct_pairs,
        bcubed,
        over_merged_profiles,
        under_merged_persons,
        worst_over_merged,
        worst_under_merged,
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  records {}   profiles {}   true persons {}",
            self.records, self.profiles, self.persons
        )?;
        if self.missing_records + self.unknown_records > 0 {
            writeln!(
                f,
                "  not in the clustering {} (scored as profiles of their own)   unknown to the truth {} (not scored)",
                self.missing_records, self.unknown_records
            )?;
        }
        if self.duplicate_records > 0 {
            writeln!(
                f,
                "  listed more than once {} (an event in two profiles: the first listing is scored)",
                self.duplicate_records
            )?;
        }
        if self.unreadable_changes + self.cut_changes > 0 {
            writeln!(
                f,
                "  WARNING: the profile topic's clustering is incomplete: {} changes unreadable, {} with cut id lists (the figures below are of what was read)",
                self.unreadable_changes, self.cut_changes
            )?;
        }
        writeln!(
            f,
            "  {:<10} {:>9} {:>9} {:>9}",
            "", "precision", "recall", "F1"
        )?;
        for (name, m) in [("pairwise", self.pairwise), ("B-cubed", self.bcubed)] {
            writeln!(
                f,
                "  {:<10} {:>9.4} {:>9.4} {:>9.4}",
                name, m.precision, m.recall, m.f1
            )?;
        }
        writeln!(
            f,
            "  over-merged profiles {}   under-merged persons {}",
            self.over_merged_profiles, self.under_merged_persons
        )?;
        for (label, list) in [
            ("over-merged", &self.worst_over_merged),
            ("under-merged", &self.worst_under_merged),
        ] {
            for e in list {
                // The table shows the largest parts; JSON output has them all.
                const SHOWN: usize = 6;
                let mut parts: Vec<String> = e
                    .parts
                    .iter()
                    .take(SHOWN)
                    .map(|(k, n)| format!("{k} x{n}"))
                    .collect();
                if e.parts.len() > SHOWN {
                    let rest = &e.parts[SHOWN..];
                    parts.push(format!(
                        "... {} more ({} records)",
                        rest.len(),
                        rest.iter().map(|(_, n)| n).sum::<u64>()
                    ));
                }
                writeln!(
                    f,
                    "    {label} {} ({} parts): {}",
                    e.id,
                    e.parts.len(),
                    parts.join(", ")
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clustering read from the profile topic with changes unreadable or
    /// cut says so, in the JSON a checker reads and in the text.
    #[test]
    fn an_incomplete_topic_read_is_in_the_report() {
        let truth: BTreeMap<String, String> = [("e1", "p1"), ("e2", "p1")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let clustering = vec![("e1".to_string(), "kp-1".to_string())];
        let mut report = evaluate_against(clustering, &truth, 0);
        assert!(!report.to_string().contains("incomplete"));
        (report.unreadable_changes, report.cut_changes) = (2, 1);
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("JSON");
        assert_eq!(json["unreadable_changes"], 2);
        assert_eq!(json["cut_changes"], 1);
        assert!(
            report
                .to_string()
                .contains("2 changes unreadable, 1 with cut id lists"),
            "{report}"
        );
    }

    /// B-cubed sums a term per profile and per person: the same records
    /// give the same figures to the last bit, whatever order a hash map
    /// keeps them in (a float sum in hash order differs in its last digits
    /// from run to run, so two reports of one store differed).
    #[test]
    fn bcubed_is_the_same_to_the_last_bit_on_every_run() {
        let records: Vec<(String, String)> = (0..20_000u64)
            .map(|i| {
                let person = i / 3;
                // Profiles of mixed sizes, some holding several people.
                let profile = (i * 7919 % 20_000) / (1 + i % 5);
                (format!("kp-{profile}"), format!("person-{person}"))
            })
            .collect();
        let first = evaluate(records.clone(), 0);
        for _ in 0..8 {
            let again = evaluate(records.iter().rev().cloned(), 0);
            assert_eq!(
                again.bcubed.precision.to_bits(),
                first.bcubed.precision.to_bits()
            );
            assert_eq!(again.bcubed.recall.to_bits(), first.bcubed.recall.to_bits());
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Assignments can go to a stream (`--assignments /dev/stdout`), which
    /// cannot be synced as a file is.
    #[test]
    fn assignments_can_be_written_to_a_device() {
        let clustering = vec![("web:a".to_string(), "kp-1".to_string())];
        write_assignments(std::path::Path::new("/dev/null"), &clustering)
            .expect("writing to /dev/null");
    }

    /// Assignments are CSV that CSV readers read back as written: an event
    /// id holding a comma or a quote is quoted; others are as they were.
    #[test]
    fn assignments_are_csv() {
        let dir = std::env::temp_dir().join(format!("kindred-assign-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("assignments.csv");
        let clustering: Vec<(String, String)> = [
            ("web:plain", "kp-1"),
            ("pos:T-1,2", "kp-2"),
            ("web:say \"hi\"", "kp-1"),
        ]
        .into_iter()
        .map(|(e, p)| (e.to_string(), p.to_string()))
        .collect();
        write_assignments(&path, &clustering).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "event_id,profile_id\n\"pos:T-1,2\",kp-2\nweb:plain,kp-1\n\"web:say \"\"hi\"\"\",kp-1\n"
        );
        let mut reader = csv::Reader::from_path(&path).expect("open");
        let mut read: Vec<(String, String)> = reader
            .records()
            .map(|r| {
                let r = r.expect("record");
                (r[0].to_string(), r[1].to_string())
            })
            .collect();
        let mut want = clustering.clone();
        want.sort();
        read.sort();
        assert_eq!(read, want);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Ten records of four people, resolved into four profiles with one
    /// over-merge and one under-merge, counted by hand:
    ///
    /// | profile | records (person) |
    /// |---|---|
    /// | P1 | a a a b |   <- over-merged: a and b
    /// | P2 | b |
    /// | P3 | c c |
    /// | P4 | d d d |
    /// | P5 | c |       <- c under-merged over P3 and P5 (b too: P1 and P2)
    #[test]
    fn hand_made_case_with_an_over_merge_and_an_under_merge() {
        let records = [
            ("P1", "a"),
            ("P1", "a"),
            ("P1", "a"),
            ("P1", "b"),
            ("P2", "b"),
            ("P3", "c"),
            ("P3", "c"),
            ("P4", "d"),
            ("P4", "d"),
            ("P4", "d"),
            ("P5", "c"),
        ];
        let r = evaluate(records, 5);
        assert_eq!((r.records, r.profiles, r.persons), (11, 5, 4));
        // Pairs: correct = C(3,2) + C(2,2) + C(3,2) = 3 + 1 + 3 = 7
        // predicted = C(4,2) + C(1,2) + C(2,2) + C(3,2) + C(1,2) = 6 + 0 + 1 + 3 + 0 = 10
        // true = a C(3,2) + b C(2,2) + c C(3,2) + d C(3,2) = 3 + 1 + 3 + 3 = 10
        assert_eq!(
            (r.correct_pairs, r.predicted_pairs, r.true_pairs),
            (7, 10, 10)
        );
        assert!(
            close(r.pairwise.precision, 0.7)
                && close(r.pairwise.recall, 0.7)
                && close(r.pairwise.f1, 0.7)
        );
        // B-cubed precision: P1 a: 3 * 3/4, P1 b: 1 * 1/4, P2: 1, P3: 2, P4: 3, P5: 1
        //   = (2.25 + 0.25 + 1 + 2 + 3 + 1) / 11 = 9.5 / 11
        // B-cubed recall: a 3*3/3=3, b in P1 1*1/2, b in P2 1*1/2, c in P3 2*2/3, c in P5 1*1/3, d 3
        //   = (3 + 0.5 + 0.5 + 4/3 + 1/3 + 3) / 11 = (7 + 5/3) / 11
        assert!(close(r.bcubed.precision, 9.5 / 11.0));
        assert!(close(r.bcubed.recall, (7.0 + 5.0 / 3.0) / 11.0));
        // b is split too (P1 and P2), so two people are under-merged.
        assert_eq!((r.over_merged_profiles, r.under_merged_persons), (1, 2));
        assert_eq!(
            r.worst_over_merged,
            vec![Example {
                id: "P1".into(),
                parts: vec![("a".into(), 3), ("b".into(), 1)]
            }]
        );
        assert_eq!(r.worst_under_merged[0].id, "c");
        assert_eq!(
            r.worst_under_merged[0].parts,
            vec![("P3".into(), 2), ("P5".into(), 1)]
        );
    }

    #[test]
    fn perfect_and_degenerate_clusterings() {
        let perfect = evaluate([("x", "1"), ("x", "1"), ("y", "2")], 3);
        assert_eq!((perfect.pairwise.f1, perfect.bcubed.f1), (1.0, 1.0));
        assert_eq!(
            (perfect.over_merged_profiles, perfect.under_merged_persons),
            (0, 0)
        );
        // Everything in one profile: recall is perfect, precision is not.
        let blob = evaluate([("x", "1"), ("x", "1"), ("x", "2"), ("x", "2")], 3);
        assert!(close(blob.pairwise.recall, 1.0));
        assert!(close(blob.pairwise.precision, 2.0 / 6.0));
        // Every record alone: precision is perfect, recall is not.
        let dust = evaluate([("x", "1"), ("y", "1"), ("z", "1")], 3);
        assert!(close(dust.pairwise.precision, 1.0) && close(dust.pairwise.recall, 0.0));
        assert_eq!(dust.pairwise.f1, 0.0);
        let empty = evaluate(Vec::<(String, String)>::new(), 3);
        assert_eq!(empty.records, 0);
        assert!(empty.to_json().contains("\"pairwise\""));
    }

    /// A record the clustering lost costs recall (its pairs are missed),
    /// instead of leaving the count; one the truth does not know is not
    /// scored. A clustering of none of the truth's records scores nothing.
    #[test]
    fn lost_records_cost_recall_and_unknown_ones_are_not_scored() {
        let truth: BTreeMap<String, String> = [("e1", "a"), ("e2", "a"), ("e3", "a"), ("e4", "b")]
            .into_iter()
            .map(|(e, p)| (e.to_string(), p.to_string()))
            .collect();
        let r = evaluate_against(
            [("e1", "P1"), ("e2", "P1"), ("e4", "P2"), ("x", "P3")],
            &truth,
            3,
        );
        assert_eq!((r.records, r.missing_records, r.unknown_records), (4, 1, 1));
        // Two real profiles: the lost record's stand-in is none.
        assert_eq!(r.profiles, 2);
        // a's pairs: e1-e2 found; e1-e3 and e2-e3 missed.
        assert_eq!((r.correct_pairs, r.true_pairs), (1, 3));
        assert!(close(r.pairwise.precision, 1.0) && close(r.pairwise.recall, 1.0 / 3.0));
        assert_eq!(r.under_merged_persons, 1);
        assert!(r.to_string().contains("not in the clustering 1"), "{r}");
        // Nothing in common: recall is nil, not a perfect score.
        let none = evaluate_against([("y", "P1")], &truth, 3);
        assert_eq!((none.missing_records, none.unknown_records), (4, 1));
        assert_eq!(none.pairwise.recall, 0.0);
        assert_eq!(none.pairwise.f1, 0.0);
        assert_eq!(none.profiles, 0);
    }

    /// An event listed in two profiles (a broken partition) was placed by
    /// its last listing, silently; it is counted now, and an unknown record
    /// listed twice is one unknown record.
    #[test]
    fn a_record_listed_twice_is_counted_not_hidden() {
        let truth: BTreeMap<String, String> = [("e1", "a"), ("e2", "a")]
            .into_iter()
            .map(|(e, p)| (e.to_string(), p.to_string()))
            .collect();
        let r = evaluate_against(
            [
                ("e1", "P1"),
                ("e1", "P2"),
                ("e2", "P2"),
                ("x", "P1"),
                ("x", "P1"),
            ],
            &truth,
            3,
        );
        assert_eq!((r.duplicate_records, r.unknown_records), (2, 1));
        assert!(r.to_string().contains("listed more than once 2"), "{r}");
        // The first listing is scored: e1 in P1, e2 in P2.
        assert_eq!(r.correct_pairs, 0);
    }
}
