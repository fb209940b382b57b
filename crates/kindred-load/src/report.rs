//! The result of a load run: printed as a summary, written as JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::services::ServiceUsage;

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Consumer lag and memory at one moment of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds since the first event was produced.
    pub t_seconds: f64,
    /// Consumer group -> messages behind the end of its topic.
    pub lag: BTreeMap<String, i64>,
    /// Service -> resident set size, bytes.
    pub rss_bytes: BTreeMap<String, u64>,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub kindred_version: &'static str,
    /// Unix seconds at the start of the run.
    pub started_unix: u64,
    /// The suffix of the run's topics and consumer groups.
    pub run_id: String,
    /// The run's topics by their `topics` key (`profiles`, `pos`, ...).
    pub topics: BTreeMap<String, String>,
    /// The topics were left on the broker (`--keep-topics`).
    pub topics_kept: bool,
    /// The run's ground truth (`event_id,person`), when its work directory
    /// is kept (`--work-dir`).
    pub truth_file: Option<std::path::PathBuf>,
    /// The configuration file the run was given (`--config`).
    pub config_file: Option<std::path::PathBuf>,
    /// The `--set` overrides the run was given (and handed its services).
    pub overrides: Vec<String>,
    pub cores: usize,
    pub brokers: String,
    pub partitions: i32,
    pub seed: u64,
    /// The generator's number of people (with `seed`, what regenerates the
    /// stream; raised until it yields `--events` records, then cut).
    pub people: u32,
    /// Distinct persons in the stream as cut to `--events`.
    pub persons: u64,
    /// Target produce rate in events per second; 0 = as fast as possible.
    pub target_rate: u64,
    /// Records produced, duplicate deliveries included.
    pub produced: u64,
    /// Distinct source events among them.
    pub distinct_events: u64,
    pub produce_seconds: f64,
    /// Distinct events that reached a profile (a change event was seen).
    pub landed: u64,
    pub dead_letters: u64,
    /// Distinct events neither landed nor dead-lettered when the run ended.
    pub missing: u64,
    /// Profile changes the observer could not decode: the change log the
    /// accuracy and latency figures come from lacks them.
    pub unreadable_changes: u64,
    /// First produce to the last event landed or dead-lettered, seconds.
    pub pipeline_seconds: f64,
    /// (landed + dead letters) / pipeline_seconds.
    pub events_per_second: f64,
    /// Produce to the first profile change caused by the event, as seen by a
    /// downstream consumer of the profile topic.
    pub latency: Latency,
    /// Highest lag of each consumer group during the run.
    pub max_lag: BTreeMap<String, i64>,
    pub services: Vec<ServiceUsage>,
    pub profile_changes: BTreeMap<String, u64>,
    /// Accuracy of the profiles (read back from the profile topic) against
    /// the generator's ground truth.
    pub accuracy: kindred_eval::Report,
    /// Lag and memory over time, one sample a second.
    pub samples: Vec<Sample>,
}

impl LoadReport {
    /// Why the run does not stand as a measurement, if it does not: events
    /// that never landed (their latency is not in the figures, and the
    /// rate counts only what landed), more than a few dead-lettered (the
    /// rate counts refusals, far cheaper than resolving), a service that
    /// did not stop in order, or a paced producer that could not keep its
    /// rate (the run did not offer the load it names).
    pub fn invalid(&self) -> Option<String> {
        let mut why = lost(self.missing, self.unreadable_changes);
        why.extend(refused(self.dead_letters, self.distinct_events));
        why.extend(fell_behind(
            self.target_rate,
            self.produced,
            self.produce_seconds,
        ));
        for s in &self.services {
            if !s.orderly {
                why.push(format!("{} stopped with {}", s.name, s.exit));
            }
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// What a run lost from its figures: events that never landed, profile
/// changes that could not be read (the change log is short of them).
fn lost(missing: u64, unreadable_changes: u64) -> Vec<String> {
    let mut why = Vec::new();
    if missing > 0 {
        why.push(format!("{missing} events never landed"));
    }
    if unreadable_changes > 0 {
        why.push(format!(
            "{unreadable_changes} profile changes could not be decoded (the figures lack them)"
        ));
    }
    why
}

/// Why a run's rate is not the pipeline's, if it is not: more than one
/// in a thousand of its distinct events dead-lettered (the generator's
/// events are well-formed: an ingest refusing a channel, a normalizer or
/// size check gone wrong, would pass for a fast run).
fn refused(dead_letters: u64, distinct_events: u64) -> Option<String> {
    (dead_letters.saturating_mul(1_000) > distinct_events).then(|| {
        format!("{dead_letters} of {distinct_events} events were dead-lettered (over 0.1%): the rate counts refusals")
    })
}

/// Why a paced run did not offer its load, if it did not: sending took
/// over 10% (and a second) longer than the rate allows.
fn fell_behind(rate: u64, produced: u64, produce_seconds: f64) -> Option<String> {
    if rate == 0 {
        return None;
    }
    let due = produced as f64 / rate as f64;
    (produce_seconds > due * 1.1 + 1.0).then(|| {
        format!("the producer fell behind its rate: {produce_seconds:.1} s to send {due:.1} s of events")
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = if self.target_rate == 0 {
            "as fast as possible".to_string()
        } else {
            format!("{} events/s", self.target_rate)
        };
        writeln!(
            f,
            "kindred load: {} events ({} distinct) of {} persons, produced {rate} in {:.1} s",
            self.produced, self.distinct_events, self.persons, self.produce_seconds
        )?;
        writeln!(
            f,
            "  through the pipeline: {} landed in profiles, {} dead letters, {} missing, in {:.1} s = {:.0} events/s",
            self.landed, self.dead_letters, self.missing, self.pipeline_seconds, self.events_per_second
        )?;
        let l = &self.latency;
        if l.samples == 0 {
            writeln!(
                f,
                "  end-to-end latency (produce -> profile change): n/a, no event landed"
            )?;
        } else {
            writeln!(
                f,
                "  end-to-end latency (produce -> profile change), {} events that landed: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms{}",
                l.samples,
                l.p50_ms,
                l.p95_ms,
                l.p99_ms,
                l.max_ms,
                if self.missing > 0 {
                    " (events still missing are not in these figures)"
                } else {
                    ""
                }
            )?;
        }
        writeln!(f, "  max consumer lag:")?;
        for (group, lag) in &self.max_lag {
            writeln!(f, "    {group:<40} {lag:>10}")?;
        }
        writeln!(f, "  services (peak RSS, CPU time, exit):")?;
        for s in &self.services {
            writeln!(
                f,
                "    {:<14} {:>8.1} MiB {:>8.1} s  {}",
                s.name,
                mib(s.peak_rss_bytes),
                s.cpu_seconds,
                s.exit
            )?;
        }
        let changes: Vec<String> = self
            .profile_changes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            f,
            "  profile changes: {}; {} unreadable",
            changes.join(", "),
            self.unreadable_changes
        )?;
        let a = &self.accuracy;
        writeln!(
            f,
            "  accuracy: pairwise P {:.4} R {:.4} F1 {:.4}; B-cubed F1 {:.4}; {} over-merged profiles, {} split persons",
            a.pairwise.precision,
            a.pairwise.recall,
            a.pairwise.f1,
            a.bcubed.f1,
            a.over_merged_profiles,
            a.under_merged_persons
        )?;
        if self.topics_kept {
            let profiles = self.topics.get("profiles").map_or("?", String::as_str);
            writeln!(
                f,
                "  topics kept on the broker (run {}), the profiles on {profiles}; read them again with:",
                self.run_id
            )?;
            let path = |path: &std::path::Path| shell_quoted(&path.display().to_string());
            let config = match &self.config_file {
                Some(file) => format!(" -c {}", path(file)),
                None => String::new(),
            };
            let sets: String = self
                .overrides
                .iter()
                .map(|s| format!(" --set {}", shell_quoted(s)))
                .collect();
            let truth = match &self.truth_file {
                Some(file) => format!(" --truth {}", path(file)),
                None => String::new(),
            };
            writeln!(
                f,
                "    kindred{config}{sets} --brokers {} --set topics.profiles={profiles} eval --profile-topic{truth} --assignments FILE",
                self.brokers
            )?;
        }
        Ok(())
    }
}

/// `text` in single quotes for a POSIX shell (a quote inside closes,
/// escapes and reopens).
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::{fell_behind, lost, refused, shell_quoted};

    /// A profile change the observer could not decode is missing from the
    /// change log the figures come from: the run does not stand.
    #[test]
    fn a_run_with_unreadable_changes_does_not_stand() {
        assert!(lost(0, 0).is_empty());
        let why = lost(0, 3);
        assert_eq!(why.len(), 1);
        assert!(why[0].contains("3 profile changes could not be decoded"));
        assert_eq!(lost(2, 3).len(), 2);
    }

    #[test]
    fn a_run_whose_events_were_refused_does_not_stand() {
        assert_eq!(refused(0, 294_124), None);
        assert_eq!(refused(294, 294_124), None, "under one in a thousand");
        let why = refused(294_124, 294_124).expect("all refused");
        assert!(why.contains("294124 of 294124"), "{why}");
        assert!(refused(300, 294_124).is_some());
    }

    #[test]
    fn shell_quoting_survives_quotes_inside() {
        assert_eq!(shell_quoted("a b"), "'a b'");
        assert_eq!(shell_quoted("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_paced_run_that_could_not_keep_its_rate_does_not_stand() {
        assert_eq!(fell_behind(0, 150_000, 99.0), None, "unpaced");
        assert_eq!(fell_behind(5_000, 150_000, 30.2), None, "on time");
        let why = fell_behind(5_000, 150_000, 45.0).expect("behind");
        assert!(why.contains("45.0 s") && why.contains("30.0 s"), "{why}");
    }
}
