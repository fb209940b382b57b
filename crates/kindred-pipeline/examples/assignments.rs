//! Diagnostic: which profile each applied source event belongs to, as CSV
//! (`event_id,profile_id`), for accuracy analyses outside `kindred eval`
//! (e.g. which true pairs a rule set misses, and what their records share).
//! Prints raw source event ids: run it on a demo or test store.
//!
//! A store sealed with a keyring opens with it in `KINDRED_KEYRING`.
//!
//! `cargo run -p kindred-pipeline --example assignments -- STORE_DIR > assign.csv`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: assignments STORE_DIR")?;
    let store = kindred_pipeline::privacy::open_reader_at(
        &kindred_config::Config::default(),
        std::path::Path::new(&dir),
    )?;
    println!("event_id,profile_id");
    for (event, profile) in store.assignments()? {
        println!("{event},{profile}");
    }
    Ok(())
}
