//! Runs the cluster simulator over many seeds and prints the failing ones for replay.
//!
//! `cargo run --release -p shoal-cluster --example sim_many -- --seeds 5000 [--start N] [--verbose]`
//! Replay one: `cargo run --release -p shoal-cluster --example sim_many -- --start 1234 --seeds 1 --verbose`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut seeds = 1000u64;
    let mut start = 0u64;
    let mut verbose = false;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--seeds" => {
                i += 1;
                seeds = args.get(i).and_then(|s| s.parse().ok()).unwrap_or(seeds);
            }
            "--start" => {
                i += 1;
                start = args.get(i).and_then(|s| s.parse().ok()).unwrap_or(start);
            }
            "--verbose" => verbose = true,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 1;
    }
    let t0 = std::time::Instant::now();
    let mut failed = Vec::new();
    let mut msgs = 0u64;
    for seed in start..start + seeds {
        match shoal_cluster::sim::run_seed(seed) {
            Ok(m) => msgs += m,
            Err(e) => {
                if verbose {
                    println!("{e}");
                } else {
                    println!("FAIL seed {seed}: {}", e.lines().next().unwrap_or(""));
                }
                failed.push(seed);
            }
        }
    }
    println!("{} seeds, {} failed, {} messages, {:.1}s", seeds, failed.len(), msgs, t0.elapsed().as_secs_f64());
    if !failed.is_empty() {
        println!("failing seeds: {failed:?}");
        std::process::exit(1);
    }
}
