//! Generates a data set and prints its summary and how long it took:
//! `cargo run --release -p kindred-gen --example gen_summary -- PEOPLE [SEED] [OUT_DIR]`.

use std::time::Instant;

use kindred_gen::{generate_with_stats, write_files, write_manifest, GenOptions};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let people = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(42);
    let out = args.next();
    let opts = GenOptions {
        people,
        seed,
        ..GenOptions::default()
    };
    let started = Instant::now();
    let (events, stats) = generate_with_stats(&opts);
    println!("{} records in {:.2?}", events.len(), started.elapsed());
    print!("{stats}");
    if let Some(dir) = out {
        let dir = std::path::Path::new(&dir);
        let started = Instant::now();
        write_files(&events, dir)?;
        write_manifest(dir, &opts, &stats)?;
        println!("written to {} in {:.2?}", dir.display(), started.elapsed());
    }
    Ok(())
}
