//! Diagnostic: what exact-identifier linking can and cannot reach on a
//! generated sample, with an oracle that knows which identifier values are
//! shared by several people. Prints, per identifier kind, how many values are
//! shared across people, and the pairwise recall ceiling when only
//! single-person identifiers link.
//!
//! `cargo run --release -p kindred-pipeline --example linkage_ceiling -- 100000 7`

use std::collections::{BTreeMap, HashMap};

use kindred_gen::{generate, GenOptions};
use kindred_normalize::{normalize, NormalizeOptions};

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn main() {
    let mut args = std::env::args().skip(1);
    let people: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let mess: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let generated = generate(&GenOptions {
        people,
        seed,
        mess: kindred_gen::MessRates::default().scale(mess),
        ..GenOptions::default()
    });
    let opts = NormalizeOptions::default();
    let mut events = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for g in &generated {
        let Ok(e) = normalize(&g.event, &opts) else {
            continue;
        };
        if seen.insert(e.event_id.clone()) {
            events.push((g.person, e));
        }
    }
    // link key -> persons
    let mut owners: HashMap<String, BTreeMap<u32, u32>> = HashMap::new();
    for (p, e) in &events {
        for id in &e.identifiers {
            *owners
                .entry(id.link_key())
                .or_default()
                .entry(*p)
                .or_default() += 1;
        }
    }
    let mut shared: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for (k, ps) in &owners {
        let kind = k.split(':').next().unwrap_or("?").to_string();
        let s = shared.entry(kind).or_default();
        s.0 += 1;
        if ps.len() > 1 {
            s.1 += 1;
            s.2 += ps.len() as u64;
        }
    }
    println!("kind: values, shared values, people on shared values");
    for (k, s) in &shared {
        println!("  {k:10} {:8} {:6} {:8}", s.0, s.1, s.2);
    }
    let mut hist: BTreeMap<usize, u64> = BTreeMap::new();
    for ps in owners.values() {
        if ps.len() > 1 {
            *hist.entry(ps.len().min(20)).or_default() += 1;
        }
    }
    println!("shared values by people count (20 = 20+): {hist:?}");
    // Oracle union-find over single-person keys.
    let n = events.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut keys: Vec<Vec<String>> = Vec::new();
    for (_, e) in &events {
        keys.push(e.identifiers.iter().map(|i| i.link_key()).collect());
    }
    for (i, ks) in keys.iter().enumerate() {
        for k in ks {
            if owners[k].len() > 1 {
                continue;
            }
            match first.get(k.as_str()) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    first.insert(k, i);
                }
            }
        }
    }
    let mut per_person: HashMap<u32, HashMap<usize, u64>> = HashMap::new();
    for (i, (person, _)) in events.iter().enumerate() {
        let r = find(&mut parent, i);
        *per_person.entry(*person).or_default().entry(r).or_default() += 1;
    }
    let (mut total, mut linked) = (0u64, 0u64);
    let mut split_people = 0;
    for comps in per_person.values() {
        let t: u64 = comps.values().sum();
        total += t * (t - 1) / 2;
        linked += comps.values().map(|c| c * (c - 1) / 2).sum::<u64>();
        if comps.len() > 1 {
            split_people += 1;
        }
    }
    println!(
        "oracle exact linking: pairwise recall ceiling {:.4}; {} of {} people split",
        linked as f64 / total as f64,
        split_people,
        per_person.len()
    );
    // What the lone pieces of split people hold.
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    for i in 0..n {
        *sizes.entry(find(&mut parent, i)).or_default() += 1;
    }
    let mut lone: BTreeMap<String, u64> = BTreeMap::new();
    for (i, (p, e)) in events.iter().enumerate() {
        let r = find(&mut parent, i);
        if per_person[p].len() > 1 && sizes[&r] == 1 {
            let mut kinds: Vec<String> = e
                .identifiers
                .iter()
                .map(|id| {
                    let shared = if owners[&id.link_key()].len() > 1 {
                        "*"
                    } else {
                        ""
                    };
                    format!("{}{}", id.kind.as_str(), shared)
                })
                .collect();
            kinds.dedup();
            let name = if e.attributes.full_name.is_some() {
                "+name"
            } else {
                ""
            };
            *lone
                .entry(format!("{} [{}]{}", e.channel, kinds.join(","), name))
                .or_default() += 1;
        }
    }
    let mut lone: Vec<_> = lone.into_iter().collect();
    lone.sort_by_key(|x| std::cmp::Reverse(x.1));
    println!(
        "single-event pieces of split people, by channel [identifier kinds] (* = shared value):"
    );
    for (k, c) in lone.iter().take(25) {
        println!("  {c:7} {k}");
    }
    // Lost pairs by the kinds held by each piece (piece signature = sorted kinds seen in it).
    let mut sig: HashMap<usize, std::collections::BTreeSet<String>> = HashMap::new();
    for (i, (_, e)) in events.iter().enumerate() {
        let r = find(&mut parent, i);
        let s = sig.entry(r).or_default();
        s.insert(e.channel.to_string());
        for id in &e.identifiers {
            s.insert(id.kind.as_str().to_string());
        }
    }
    let mut lost: BTreeMap<String, u64> = BTreeMap::new();
    for comps in per_person.values() {
        if comps.len() < 2 {
            continue;
        }
        let t: u64 = comps.values().sum();
        for (r, c) in comps {
            let s: Vec<String> = sig[r].iter().cloned().collect();
            *lost.entry(s.join(",")).or_default() += c * (t - c);
        }
    }
    let mut lost: Vec<_> = lost.into_iter().collect();
    lost.sort_by_key(|x| std::cmp::Reverse(x.1));
    println!(
        "lost pairs (x2) by piece signature, of {} total pairs:",
        total
    );
    for (k, c) in lost.iter().take(20) {
        println!("  {:10} {k}", c / 2);
    }
}
