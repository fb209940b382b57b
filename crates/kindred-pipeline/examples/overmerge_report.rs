//! Diagnostic: which identifiers and rules join different true people in a
//! resolved store. For every profile holding events of several people, counts
//! the link keys (by kind) whose events in that profile belong to more than one
//! person, and the merge rules recorded in its lineage.
//!
//! A store sealed with a keyring opens with it in `KINDRED_KEYRING`.
//!
//! `cargo run --release -p kindred-pipeline --example overmerge_report -- STORE_DIR TRUTH_CSV`
//!
//! `OVERMERGE_KEYS=1` also prints each key shared across people (raw: run it
//! on a plaintext demo store only); `OVERMERGE_SIDES=1` prints, per
//! over-merged profile, what each true person's records hold.

use std::collections::{BTreeMap, BTreeSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(store), Some(truth)) = (args.next(), args.next()) else {
        return Err("usage: overmerge_report STORE_DIR TRUTH_CSV".into());
    };
    let truth = kindred_gen::read_truth(std::path::Path::new(&truth))?;
    let store = kindred_pipeline::privacy::open_reader_at(
        &kindred_config::Config::default(),
        std::path::Path::new(&store),
    )?;
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut sizes: BTreeMap<usize, u64> = BTreeMap::new();
    let mut no_shared_key = 0u64;
    let mut rules: BTreeMap<String, u64> = BTreeMap::new();
    for p in store.stored_profiles() {
        let p = p?;
        let persons: BTreeSet<&String> = p.members.iter().filter_map(|e| truth.get(e)).collect();
        if persons.len() < 2 {
            continue;
        }
        *sizes.entry(persons.len().min(10)).or_default() += 1;
        let mut holders: BTreeMap<String, BTreeSet<&String>> = BTreeMap::new();
        for e in &p.members {
            let Some(event) = store.contribution(e)? else {
                continue;
            };
            let Some(person) = truth.get(e) else { continue };
            for id in &event.identifiers {
                holders.entry(id.link_key()).or_default().insert(person);
            }
        }
        if std::env::var_os("OVERMERGE_SIDES").is_some() {
            let mut sides: BTreeMap<&String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
            for e in &p.members {
                let (Some(event), Some(person)) = (store.contribution(e)?, truth.get(e)) else {
                    continue;
                };
                let side = sides.entry(person).or_default();
                for id in &event.identifiers {
                    side.entry(id.kind.as_str().to_string())
                        .or_default()
                        .insert(id.value.clone());
                }
                if let Some(n) = &event.attributes.full_name {
                    side.entry("name".into()).or_default().insert(n.clone());
                }
                side.entry(format!("ch:{}", event.channel.as_str()))
                    .or_default()
                    .insert(String::new());
            }
            println!("{}", p.record.profile_id);
            for (person, side) in sides {
                let parts: Vec<String> = side
                    .iter()
                    .map(|(k, v)| {
                        if k == "name" || k.starts_with("ch:") {
                            format!("{k}={v:?}")
                        } else {
                            format!("{k}x{}", v.len())
                        }
                    })
                    .collect();
                println!("   {person}: {}", parts.join(" "));
            }
        }
        let mut any = false;
        for (key, ps) in &holders {
            if ps.len() > 1 {
                any = true;
                if std::env::var_os("OVERMERGE_KEYS").is_some() {
                    println!(
                        "{} {} people={} members={}",
                        p.record.profile_id,
                        key,
                        ps.len(),
                        p.members.len()
                    );
                }
                let kind = key.split(':').next().unwrap_or("?");
                *by_kind.entry(kind.to_string()).or_default() += 1;
            }
        }
        if !any {
            no_shared_key += 1;
        }
        for l in store.lineage(&p.record.profile_id)? {
            for (rule, _, kinds) in l.links {
                *rules.entry(format!("{rule} {kinds:?}")).or_default() += 1;
            }
        }
    }
    println!("over-merged profiles by people (10 = 10+): {sizes:?}");
    println!("keys shared by several people inside them, by kind: {by_kind:?}");
    println!("over-merged profiles with no key shared across people: {no_shared_key}");
    println!("links recorded in their lineage:");
    for (r, n) in rules {
        println!("  {n:6} {r}");
    }
    Ok(())
}
