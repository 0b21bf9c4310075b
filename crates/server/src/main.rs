//! `shoal-server [config-file] [--directive value ...]`: the Redis-compatible node.

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn allocated_bytes() -> usize {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    stats::allocated::read().unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!("Shoal server v={} (Redis-compatible 7.0.15) bits=64", env!("CARGO_PKG_VERSION"));
        return;
    }
    std::process::exit(shoal_server::run(&args, allocated_bytes));
}
