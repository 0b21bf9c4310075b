//! The deterministic cluster simulator over a fixed set of seeds (see src/sim.rs for what each run does
//! and checks). More seeds: `cargo run --release -p shoal-cluster --example sim_many -- --seeds 5000`.

#[test]
fn fixed_seeds_converge() {
    // Debug builds are ~10x slower than release; keep this well under 20 s.
    let seeds: &[u64] = &[0, 1, 2, 12, 16, 49, 52, 87];
    for &seed in seeds {
        if let Err(e) = shoal_cluster::sim::run_seed(seed) {
            panic!("{e}\nreplay: cargo run --release -p shoal-cluster --example sim_many -- --start {seed} --seeds 1 --verbose");
        }
    }
}

#[test]
fn replay_is_deterministic() {
    let a = shoal_cluster::sim::run_seed(7);
    let b = shoal_cluster::sim::run_seed(7);
    assert_eq!(a, b);
}
