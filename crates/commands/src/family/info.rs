//! INFO: the sections of redis-server 7.0.15's INFO reply, with its field names and
//! order, filled from Shoal's state.
//!
//! Section selection follows `genInfoSectionDict`: no argument means the default
//! sections; `default`, `all` and `everything` are keywords; any other argument names a
//! section (case-insensitively); unknown names select nothing. Sections always come out
//! in Redis's fixed order, separated by an empty line.

use crate::ctx::{rss_bytes, unix_ms, unix_us, Ctx};
use parking_lot::Mutex;
use std::collections::HashSet;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sections in output order (`module_list` is the name the default set uses for
/// `modules`).
pub const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

const DEFAULT_SECTIONS: &[&str] =
    &["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "module_list", "errorstats", "cluster", "keyspace"];

/// Which sections an INFO call asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Selection {
    pub all: bool,
    pub everything: bool,
    pub names: HashSet<String>,
}

impl Selection {
    /// Parses INFO's arguments (without the command name).
    pub fn parse<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Selection {
        let mut sel = Selection::default();
        let mut any = false;
        for a in args {
            any = true;
            let s = String::from_utf8_lossy(a).to_ascii_lowercase();
            match s.as_str() {
                "default" => sel.names.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
                "all" => sel.all = true,
                "everything" => {
                    sel.all = true;
                    sel.everything = true;
                }
                _ => {
                    sel.names.insert(s);
                }
            }
        }
        if !any {
            sel.names.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
        }
        sel
    }

    /// True when section `name` (one of [`SECTIONS`]) is to be printed.
    pub fn wants(&self, name: &str) -> bool {
        if self.all || self.names.contains(name) {
            return true;
        }
        name == "modules" && self.names.contains("module_list")
    }

    /// The selected sections, in output order.
    pub fn sections(&self) -> Vec<&'static str> {
        SECTIONS.iter().copied().filter(|s| self.wants(s)).collect()
    }
}

/// Redis's `bytesToHuman`.
pub fn bytes_to_human(n: u64) -> String {
    let d = n as f64;
    const K: u64 = 1024;
    if n < K {
        format!("{n}B")
    } else if n < K * K {
        format!("{:.2}K", d / K as f64)
    } else if n < K * K * K {
        format!("{:.2}M", d / (K * K) as f64)
    } else if n < K * K * K * K {
        format!("{:.2}G", d / (K * K * K) as f64)
    } else if n < K * K * K * K * K {
        format!("{:.2}T", d / (K * K * K * K) as f64)
    } else if n < K * K * K * K * K * K {
        format!("{:.2}P", d / (K * K * K * K * K) as f64)
    } else {
        format!("{n}B")
    }
}

/// Highest `used_memory` seen (INFO used_memory_peak).
static PEAK_MEMORY: AtomicU64 = AtomicU64::new(0);
/// `used_memory` at the first INFO call (stands in for used_memory_startup).
static STARTUP_MEMORY: AtomicU64 = AtomicU64::new(0);

/// Samples for the `instantaneous_*` fields: Redis samples every 100 ms in its cron
/// and averages the last 16 samples.
struct InstSamples {
    last_ms: u64,
    last: [u64; 3],
    /// Rates per second for ops, input bytes, output bytes.
    ring: [[f64; 16]; 3],
    idx: usize,
}

static INST: Mutex<InstSamples> = Mutex::new(InstSamples { last_ms: 0, last: [0; 3], ring: [[0.0; 16]; 3], idx: 0 });

/// Takes one sample of the counters behind `instantaneous_ops_per_sec` and the
/// `instantaneous_*_kbps` fields. The server's cron should call it every 100 ms (INFO
/// also calls it, so the fields move even without a cron).
pub fn sample_instantaneous(shared: &crate::ctx::Shared) {
    let now = unix_ms();
    let cur = [
        shared.stats.total_commands_processed.load(Ordering::Relaxed),
        shared.stats.total_net_input_bytes.load(Ordering::Relaxed),
        shared.stats.total_net_output_bytes.load(Ordering::Relaxed),
    ];
    let mut s = INST.lock();
    if s.last_ms == 0 {
        s.last_ms = now;
        s.last = cur;
        return;
    }
    let dt = now.saturating_sub(s.last_ms);
    if dt < 100 {
        return;
    }
    let idx = s.idx;
    for (k, c) in cur.iter().enumerate() {
        let rate = c.saturating_sub(s.last[k]) as f64 * 1000.0 / dt as f64;
        s.ring[k][idx] = rate;
    }
    s.idx = (idx + 1) % 16;
    s.last_ms = now;
    s.last = cur;
}

fn inst_avg(k: usize) -> f64 {
    let s = INST.lock();
    s.ring[k].iter().sum::<f64>() / 16.0
}

/// (user, system) CPU seconds of this process, its children and the calling thread,
/// from /proc (clock ticks of 1/100 s).
fn cpu_times() -> ([f64; 2], [f64; 2], [f64; 2]) {
    fn parse(path: &str) -> Option<[f64; 4]> {
        let s = std::fs::read_to_string(path).ok()?;
        let rest = &s[s.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Fields after the command name start at field 3 (state): utime is field 14.
        let get = |n: usize| f.get(n - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
        Some([get(14), get(15), get(16), get(17)])
    }
    let p = parse("/proc/self/stat").unwrap_or([0.0; 4]);
    let t = parse("/proc/thread-self/stat").unwrap_or([0.0; 4]);
    ([p[0], p[1]], [p[2], p[3]], [t[0], t[1]])
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn os_name() -> String {
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string()).unwrap_or_default();
    let arch = std::env::consts::ARCH;
    format!("{} {} {}", read("/proc/sys/kernel/ostype"), read("/proc/sys/kernel/osrelease"), arch)
}

/// The replication ID this node reports (random per process, like Redis's).
fn master_replid() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        (0..40).map(|_| format!("{:x}", rng.gen_range(0..16u8))).collect()
    })
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Builds the INFO text for `sel`.
pub fn gen_info(ctx: &Ctx<'_>, sel: &Selection) -> String {
    sample_instantaneous(ctx.shared);
    let mut out = String::with_capacity(4096);
    for (i, sec) in sel.sections().into_iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        section(ctx, sec, &mut out);
    }
    out
}

macro_rules! line {
    ($o:expr, $($arg:tt)*) => {{
        let _ = write!($o, $($arg)*);
        $o.push_str("\r\n");
    }};
}

fn cfg_str(ctx: &Ctx<'_>, name: &str, default: &str) -> String {
    ctx.shared.config.read().get(name).map(|s| s.to_string()).unwrap_or_else(|| default.to_string())
}

fn cfg_i64(ctx: &Ctx<'_>, name: &str, default: i64) -> i64 {
    ctx.shared.config.read().get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn section(ctx: &Ctx<'_>, sec: &str, o: &mut String) {
    let shared = ctx.shared;
    let stats = &shared.stats;
    let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
    match sec {
        "server" => {
            o.push_str("# Server\r\n");
            let up_s = shared.start_instant.elapsed().as_secs();
            let cluster = cfg_str(ctx, "cluster-enabled", "no") == "yes";
            line!(o, "redis_version:{}", crate::family::connection::REDIS_VERSION);
            line!(o, "redis_git_sha1:00000000");
            line!(o, "redis_git_dirty:0");
            line!(o, "redis_build_id:{}", build_id());
            line!(o, "redis_mode:{}", if cluster { "cluster" } else { "standalone" });
            line!(o, "os:{}", os_name());
            line!(o, "arch_bits:{}", usize::BITS);
            line!(o, "monotonic_clock:POSIX clock_gettime");
            line!(o, "multiplexing_api:epoll");
            line!(o, "atomicvar_api:c11-builtin");
            line!(o, "gcc_version:0.0.0");
            line!(o, "process_id:{}", std::process::id());
            line!(o, "process_supervised:no");
            line!(o, "run_id:{}", shared.run_id);
            line!(o, "tcp_port:{}", shared.tcp_port.load(Ordering::Relaxed));
            line!(o, "server_time_usec:{}", unix_us());
            line!(o, "uptime_in_seconds:{}", up_s);
            line!(o, "uptime_in_days:{}", up_s / 86400);
            let hz = cfg_i64(ctx, "hz", 10);
            line!(o, "hz:{}", hz);
            line!(o, "configured_hz:{}", hz);
            line!(o, "lru_clock:{}", (unix_ms() / 1000) & ((1 << 24) - 1));
            line!(o, "executable:{}", shared.executable);
            line!(o, "config_file:{}", shared.config_file.as_ref().map(|p| absolute(p)).unwrap_or_default());
            line!(o, "io_threads_active:0");
            line!(o, "shoal_version:{}", env!("CARGO_PKG_VERSION"));
        }
        "clients" => {
            o.push_str("# Clients\r\n");
            let clients = shared.clients.lock();
            let monitors = clients.values().filter(|c| c.is_monitor.load(Ordering::Relaxed)).count();
            let max_in = clients.values().map(|c| c.qbuf.load(Ordering::Relaxed)).max().unwrap_or(0);
            let max_out = clients.values().map(|c| c.omem.load(Ordering::Relaxed)).max().unwrap_or(0);
            line!(o, "connected_clients:{}", clients.len() - monitors);
            drop(clients);
            line!(o, "cluster_connections:0");
            line!(o, "maxclients:{}", cfg_i64(ctx, "maxclients", 10000));
            line!(o, "client_recent_max_input_buffer:{}", max_in);
            line!(o, "client_recent_max_output_buffer:{}", max_out);
            line!(o, "blocked_clients:{}", shared.blocked_clients.load(Ordering::Relaxed));
            line!(o, "tracking_clients:0");
            line!(o, "clients_in_timeout_table:0");
        }
        "memory" => memory(ctx, o),
        "persistence" => {
            o.push_str("# Persistence\r\n");
            let aof = cfg_str(ctx, "appendonly", "no") == "yes";
            line!(o, "loading:0");
            line!(o, "async_loading:0");
            line!(o, "current_cow_peak:0");
            line!(o, "current_cow_size:0");
            line!(o, "current_cow_size_age:0");
            line!(o, "current_fork_perc:0.00");
            line!(o, "current_save_keys_processed:0");
            line!(o, "current_save_keys_total:0");
            line!(o, "rdb_changes_since_last_save:{}", ctx.st.ks.dirty);
            line!(o, "rdb_bgsave_in_progress:0");
            line!(o, "rdb_last_save_time:{}", ctx.st.last_save_s);
            line!(o, "rdb_last_bgsave_status:ok");
            line!(o, "rdb_last_bgsave_time_sec:-1");
            line!(o, "rdb_current_bgsave_time_sec:-1");
            line!(o, "rdb_saves:0");
            line!(o, "rdb_last_cow_size:0");
            line!(o, "rdb_last_load_keys_expired:0");
            line!(o, "rdb_last_load_keys_loaded:0");
            line!(o, "aof_enabled:{}", aof as u8);
            line!(o, "aof_rewrite_in_progress:0");
            line!(o, "aof_rewrite_scheduled:0");
            line!(o, "aof_last_rewrite_time_sec:-1");
            line!(o, "aof_current_rewrite_time_sec:-1");
            line!(o, "aof_last_bgrewrite_status:ok");
            line!(o, "aof_rewrites:0");
            line!(o, "aof_rewrites_consecutive_failures:0");
            line!(o, "aof_last_write_status:ok");
            line!(o, "aof_last_cow_size:0");
            line!(o, "module_fork_in_progress:0");
            line!(o, "module_fork_last_cow_size:0");
        }
        "stats" => {
            o.push_str("# Stats\r\n");
            line!(o, "total_connections_received:{}", ld(&stats.total_connections_received));
            line!(o, "total_commands_processed:{}", ld(&stats.total_commands_processed));
            line!(o, "instantaneous_ops_per_sec:{}", inst_avg(0) as u64);
            line!(o, "total_net_input_bytes:{}", ld(&stats.total_net_input_bytes));
            line!(o, "total_net_output_bytes:{}", ld(&stats.total_net_output_bytes));
            line!(o, "total_net_repl_input_bytes:0");
            line!(o, "total_net_repl_output_bytes:0");
            line!(o, "instantaneous_input_kbps:{:.2}", inst_avg(1) / 1024.0);
            line!(o, "instantaneous_output_kbps:{:.2}", inst_avg(2) / 1024.0);
            line!(o, "instantaneous_input_repl_kbps:0.00");
            line!(o, "instantaneous_output_repl_kbps:0.00");
            line!(o, "rejected_connections:{}", ld(&stats.rejected_connections));
            line!(o, "sync_full:0");
            line!(o, "sync_partial_ok:0");
            line!(o, "sync_partial_err:0");
            line!(o, "expired_keys:{}", ld(&stats.expired_keys));
            line!(o, "expired_stale_perc:0.00");
            line!(o, "expired_time_cap_reached_count:0");
            line!(o, "expire_cycle_cpu_milliseconds:{}", ld(&stats.expire_cycle_cpu_ms));
            line!(o, "evicted_keys:{}", ld(&stats.evicted_keys));
            line!(o, "evicted_clients:0");
            line!(o, "total_eviction_exceeded_time:0");
            line!(o, "current_eviction_exceeded_time:0");
            line!(o, "keyspace_hits:{}", ld(&stats.keyspace_hits));
            line!(o, "keyspace_misses:{}", ld(&stats.keyspace_misses));
            line!(o, "pubsub_channels:{}", ctx.st.pubsub.num_channels());
            line!(o, "pubsub_patterns:{}", ctx.st.pubsub.num_patterns());
            line!(o, "pubsubshard_channels:{}", ctx.st.pubsub.num_shard_channels());
            line!(o, "latest_fork_usec:0");
            line!(o, "total_forks:0");
            line!(o, "migrate_cached_sockets:0");
            line!(o, "slave_expires_tracked_keys:0");
            line!(o, "active_defrag_hits:0");
            line!(o, "active_defrag_misses:0");
            line!(o, "active_defrag_key_hits:0");
            line!(o, "active_defrag_key_misses:0");
            line!(o, "total_active_defrag_time:0");
            line!(o, "current_active_defrag_time:0");
            line!(o, "tracking_total_keys:0");
            line!(o, "tracking_total_items:0");
            line!(o, "tracking_total_prefixes:0");
            line!(o, "unexpected_error_replies:0");
            line!(o, "total_error_replies:{}", ld(&stats.total_error_replies));
            line!(o, "dump_payload_sanitizations:0");
            line!(o, "total_reads_processed:{}", ld(&stats.total_commands_processed));
            line!(o, "total_writes_processed:{}", ld(&stats.total_commands_processed));
            line!(o, "io_threaded_reads_processed:0");
            line!(o, "io_threaded_writes_processed:0");
            line!(o, "reply_buffer_shrinks:0");
            line!(o, "reply_buffer_expands:0");
        }
        "replication" => {
            o.push_str("# Replication\r\n");
            line!(o, "role:master");
            line!(o, "connected_slaves:0");
            line!(o, "master_failover_state:no-failover");
            line!(o, "master_replid:{}", master_replid());
            line!(o, "master_replid2:0000000000000000000000000000000000000000");
            line!(o, "master_repl_offset:0");
            line!(o, "second_repl_offset:-1");
            line!(o, "repl_backlog_active:0");
            line!(o, "repl_backlog_size:{}", cfg_i64(ctx, "repl-backlog-size", 1048576));
            line!(o, "repl_backlog_first_byte_offset:0");
            line!(o, "repl_backlog_histlen:0");
        }
        "cpu" => {
            o.push_str("# CPU\r\n");
            let (p, c, t) = cpu_times();
            line!(o, "used_cpu_sys:{:.6}", p[1]);
            line!(o, "used_cpu_user:{:.6}", p[0]);
            line!(o, "used_cpu_sys_children:{:.6}", c[1]);
            line!(o, "used_cpu_user_children:{:.6}", c[0]);
            line!(o, "used_cpu_sys_main_thread:{:.6}", t[1]);
            line!(o, "used_cpu_user_main_thread:{:.6}", t[0]);
        }
        "modules" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            let mut v: Vec<_> =
                ctx.st.cmd_stats.iter().filter(|(_, s)| s.calls > 0 || s.failed_calls > 0 || s.rejected_calls > 0).collect();
            v.sort_by(|a, b| a.0.cmp(b.0));
            for (name, s) in v {
                let per = if s.calls == 0 { 0.0 } else { s.usec as f64 / s.calls as f64 };
                line!(
                    o,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
                    name,
                    s.calls,
                    s.usec,
                    per,
                    s.rejected_calls,
                    s.failed_calls
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            for (prefix, n) in ctx.st.error_stats.iter() {
                line!(o, "errorstat_{}:count={}", prefix, n);
            }
        }
        "latencystats" => {
            o.push_str("# Latencystats\r\n");
            // Shoal keeps no per-command histogram: the percentiles are the mean.
            let mut v: Vec<_> = ctx.st.cmd_stats.iter().filter(|(_, s)| s.calls > 0).collect();
            v.sort_by(|a, b| a.0.cmp(b.0));
            for (name, s) in v {
                let per = s.usec as f64 / s.calls as f64;
                line!(o, "latency_percentiles_usec_{}:p50={:.3},p99={:.3},p99.9={:.3}", name, per, per, per);
            }
        }
        "cluster" => {
            o.push_str("# Cluster\r\n");
            let cluster = cfg_str(ctx, "cluster-enabled", "no") == "yes";
            line!(o, "cluster_enabled:{}", cluster as u8);
        }
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for (i, db) in ctx.st.ks.dbs.iter().enumerate() {
                if !db.is_empty() {
                    line!(o, "db{}:keys={},expires={},avg_ttl=0", i, db.len(), db.expires_len());
                }
            }
        }
        _ => {}
    }
}

fn memory(ctx: &Ctx<'_>, o: &mut String) {
    o.push_str("# Memory\r\n");
    let used = (ctx.shared.allocated_bytes)() as u64;
    let rss = rss_bytes() as u64;
    let peak = PEAK_MEMORY.fetch_max(used, Ordering::Relaxed).max(used);
    let _ = STARTUP_MEMORY.compare_exchange(0, used, Ordering::Relaxed, Ordering::Relaxed);
    let startup = STARTUP_MEMORY.load(Ordering::Relaxed).min(used);
    let clients_mem: u64 =
        ctx.shared.clients.lock().values().map(|c| (c.qbuf.load(Ordering::Relaxed) + c.omem.load(Ordering::Relaxed)) as u64 + 1024).sum();
    let overhead = (startup + clients_mem).min(used);
    let dataset = used - overhead;
    let net = used.saturating_sub(startup);
    let sysmem = total_system_memory();
    let maxmemory = ctx.shared.config.read().get("maxmemory").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let policy = cfg_str(ctx, "maxmemory-policy", "noeviction");
    line!(o, "used_memory:{}", used);
    line!(o, "used_memory_human:{}", bytes_to_human(used));
    line!(o, "used_memory_rss:{}", rss);
    line!(o, "used_memory_rss_human:{}", bytes_to_human(rss));
    line!(o, "used_memory_peak:{}", peak);
    line!(o, "used_memory_peak_human:{}", bytes_to_human(peak));
    line!(o, "used_memory_peak_perc:{:.2}%", ratio(used * 100, peak));
    line!(o, "used_memory_overhead:{}", overhead);
    line!(o, "used_memory_startup:{}", startup);
    line!(o, "used_memory_dataset:{}", dataset);
    line!(o, "used_memory_dataset_perc:{:.2}%", ratio(dataset * 100, net));
    line!(o, "allocator_allocated:{}", used);
    line!(o, "allocator_active:{}", used);
    line!(o, "allocator_resident:{}", rss);
    line!(o, "total_system_memory:{}", sysmem);
    line!(o, "total_system_memory_human:{}", bytes_to_human(sysmem));
    line!(o, "used_memory_lua:32768");
    line!(o, "used_memory_vm_eval:32768");
    line!(o, "used_memory_lua_human:32.00K");
    line!(o, "used_memory_scripts_eval:0");
    line!(o, "number_of_cached_scripts:0");
    line!(o, "number_of_functions:0");
    line!(o, "number_of_libraries:0");
    line!(o, "used_memory_vm_functions:33792");
    line!(o, "used_memory_vm_total:66560");
    line!(o, "used_memory_vm_total_human:65.00K");
    line!(o, "used_memory_functions:200");
    line!(o, "used_memory_scripts:200");
    line!(o, "used_memory_scripts_human:200B");
    line!(o, "maxmemory:{}", maxmemory);
    line!(o, "maxmemory_human:{}", bytes_to_human(maxmemory));
    line!(o, "maxmemory_policy:{}", policy);
    line!(o, "allocator_frag_ratio:1.00");
    line!(o, "allocator_frag_bytes:0");
    line!(o, "allocator_rss_ratio:{:.2}", ratio(rss, used));
    line!(o, "allocator_rss_bytes:{}", rss as i64 - used as i64);
    line!(o, "rss_overhead_ratio:1.00");
    line!(o, "rss_overhead_bytes:0");
    line!(o, "mem_fragmentation_ratio:{:.2}", ratio(rss, used));
    line!(o, "mem_fragmentation_bytes:{}", rss as i64 - used as i64);
    line!(o, "mem_not_counted_for_evict:0");
    line!(o, "mem_replication_backlog:0");
    line!(o, "mem_total_replication_buffers:0");
    line!(o, "mem_clients_slaves:0");
    line!(o, "mem_clients_normal:{}", clients_mem);
    line!(o, "mem_cluster_links:0");
    line!(o, "mem_aof_buffer:0");
    line!(o, "mem_allocator:jemalloc-5.3.0");
    line!(o, "active_defrag_running:0");
    line!(o, "lazyfree_pending_objects:0");
    line!(o, "lazyfreed_objects:0");
}

/// A stable build id (Redis hashes its build environment; Shoal its version).
fn build_id() -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in concat!("shoal-", env!("CARGO_PKG_VERSION")).bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:x}", h >> 4)
}

fn absolute(p: &str) -> String {
    let path = std::path::Path::new(p);
    if path.is_absolute() {
        p.to_string()
    } else {
        std::env::current_dir().map(|d| d.join(path).display().to_string()).unwrap_or_else(|_| p.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(args: &[&str]) -> Vec<&'static str> {
        Selection::parse(args.iter().map(|s| s.as_bytes())).sections()
    }

    #[test]
    fn default_sections() {
        let d = vec![
            "server",
            "clients",
            "memory",
            "persistence",
            "stats",
            "replication",
            "cpu",
            "modules",
            "errorstats",
            "cluster",
            "keyspace",
        ];
        assert_eq!(sel(&[]), d);
        assert_eq!(sel(&["default"]), d);
        assert_eq!(sel(&["DEFAULT"]), d);
    }

    #[test]
    fn all_and_everything() {
        assert_eq!(sel(&["all"]), SECTIONS.to_vec());
        assert_eq!(sel(&["everything"]), SECTIONS.to_vec());
        assert_eq!(sel(&["all", "commandstats"]), SECTIONS.to_vec());
    }

    #[test]
    fn named_sections_in_fixed_order() {
        assert_eq!(sel(&["keyspace", "Server"]), vec!["server", "keyspace"]);
        assert_eq!(sel(&["commandstats"]), vec!["commandstats"]);
        assert_eq!(sel(&["default", "commandstats"]).len(), 12);
        assert_eq!(sel(&["module_list"]), vec!["modules"]);
        assert!(sel(&["bogus"]).is_empty());
        assert!(sel(&["a", "b", "c"]).is_empty());
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(916248), "894.77K");
        assert_eq!(bytes_to_human(12103680), "11.54M");
        assert_eq!(bytes_to_human(25274793984), "23.54G");
    }
}
