fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage")?;
    let store = kindred_resolver::Store::open(&dir)?;
    for (e, p) in store.assignments()? {
        println!("{e},{p}");
    }
    Ok(())
}
