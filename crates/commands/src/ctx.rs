//! Execution context: what a command handler can see and change.
//!
//! - [`State`]: everything behind the server's one command lock (the keyspace,
//!   command statistics, slowlog, latency samples).
//! - [`Shared`]: server-wide state readable without that lock (configuration, client
//!   registry, counters as atomics).
//! - [`Client`]: the calling connection's own state, owned by its task.
//! - [`Ctx`]: the three above plus the reply buffer, handed to every handler.
//!
//! Handlers never touch sockets: effects the server must carry out (close after the
//! reply, shut down, enter MONITOR mode) are returned in [`Ctx::action`].

use crate::config::Config;
use parking_lot::{Mutex, RwLock};
use shoal_keyspace::{Db, Keyspace, Value};
use shoal_resp::{OwnedArgs, ReplyBuf};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Unix time in microseconds.
pub fn unix_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Per-command counters (INFO commandstats).
#[derive(Default, Clone, Debug)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// One SLOWLOG entry.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    pub id: u64,
    pub time_s: u64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    pub peer: String,
    pub name: String,
}

/// One latency event's samples (LATENCY LATEST/HISTORY).
#[derive(Clone, Debug, Default)]
pub struct LatencyEvent {
    /// (unix seconds, latency ms), at most 160 like Redis.
    pub samples: VecDeque<(u64, u64)>,
    pub max_ms: u64,
}

/// Everything guarded by the command lock.
pub struct State {
    pub ks: Keyspace,
    /// Keyed by full command name ("get", "config|get").
    /// foldhash rather than SipHash: updated for every command.
    pub cmd_stats: HashMap<String, CmdStat, foldhash::fast::FixedState>,
    /// Keyed by error prefix ("ERR", "WRONGTYPE").
    pub error_stats: BTreeMap<String, u64>,
    pub slowlog: VecDeque<SlowEntry>,
    pub slowlog_next_id: u64,
    pub latency: BTreeMap<String, LatencyEvent>,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub last_save_s: u64,
    /// Clients blocked on keys.
    pub blocking: crate::blocking::Blocking,
}

impl State {
    pub fn new(databases: usize) -> State {
        State {
            ks: Keyspace::new(databases),
            cmd_stats: HashMap::default(),
            error_stats: BTreeMap::new(),
            slowlog: VecDeque::new(),
            slowlog_next_id: 0,
            latency: BTreeMap::new(),
            last_save_s: unix_ms() / 1000,
            blocking: Default::default(),
        }
    }
}

/// Server-wide counters readable without the command lock (INFO stats).
#[derive(Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_net_input_bytes: AtomicU64,
    pub total_net_output_bytes: AtomicU64,
    pub expired_keys: AtomicU64,
    pub evicted_keys: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub expire_cycle_cpu_ms: AtomicU64,
    pub client_query_buffer_limit_disconnections: AtomicU64,
    pub client_output_buffer_limit_disconnections: AtomicU64,
}

/// A connection as other connections see it (CLIENT LIST, CLIENT KILL, INFO clients).
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub created_ms: u64,
    pub last_interaction_ms: AtomicU64,
    pub name: Mutex<Option<Vec<u8>>>,
    pub lib_name: Mutex<Option<Vec<u8>>>,
    pub lib_ver: Mutex<Option<Vec<u8>>>,
    pub db: AtomicUsize,
    pub resp: AtomicU32,
    /// Last command's full name ("client|list"), for CLIENT LIST `cmd=`.
    pub last_cmd: Mutex<&'static str>,
    /// Queued MULTI commands, or -1 outside MULTI.
    pub multi: AtomicI64,
    pub qbuf: AtomicUsize,
    pub omem: AtomicUsize,
    pub is_monitor: AtomicBool,
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    pub watching: AtomicUsize,
    /// Set by CLIENT KILL; the connection closes at its next step.
    pub killed: AtomicBool,
    /// Wakes the connection task so it notices `killed` (set by the server).
    pub waker: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
    /// Subscribed channels / patterns / shard channels (CLIENT LIST sub= psub= ssub=,
    /// the `P` flag and CLIENT KILL TYPE PUBSUB); kept by the pub/sub commands.
    pub sub_count: AtomicUsize,
    pub psub_count: AtomicUsize,
    pub ssub_count: AtomicUsize,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, fd: i32) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created_ms: unix_ms(),
            last_interaction_ms: AtomicU64::new(unix_ms()),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            db: AtomicUsize::new(0),
            resp: AtomicU32::new(2),
            last_cmd: Mutex::new("NULL"),
            multi: AtomicI64::new(-1),
            qbuf: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
            is_monitor: AtomicBool::new(false),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            watching: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            waker: Mutex::new(None),
            sub_count: AtomicUsize::new(0),
            psub_count: AtomicUsize::new(0),
            ssub_count: AtomicUsize::new(0),
        }
    }

    /// Asks the connection to close.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        if let Some(w) = self.waker.lock().as_ref() {
            w();
        }
    }
}

/// CLIENT PAUSE state.
#[derive(Default, Clone, Copy, Debug)]
pub struct Pause {
    /// Unix ms until which clients are paused (0 = not paused).
    pub until_ms: u64,
    /// True for `ALL`, false for `WRITE`.
    pub all: bool,
}

/// A MONITOR subscriber: receives one formatted line per executed command.
pub type MonitorSink = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// State shared by all connections, readable without the command lock.
pub struct Shared {
    pub config: RwLock<Config>,
    pub stats: Stats,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    pub next_client_id: AtomicU64,
    pub start_ms: u64,
    pub start_instant: std::time::Instant,
    pub run_id: String,
    pub pause: Mutex<Pause>,
    /// Fast-path copy of `pause.until_ms` (0 = not paused), read before every batch.
    pub pause_until_ms: AtomicU64,
    pub monitors: Mutex<Vec<(u64, MonitorSink)>>,
    pub has_monitors: AtomicBool,
    /// Set when SHUTDOWN was accepted; the server stops accepting and exits.
    pub shutdown: AtomicBool,
    /// Path of the config file given at start-up (CONFIG REWRITE target).
    pub config_file: Option<String>,
    pub executable: String,
    pub tcp_port: AtomicU32,
    pub blocked_clients: AtomicUsize,
    /// Hot copies of config values read on every command (kept in sync by CONFIG SET).
    pub slowlog_slower_than_us: AtomicI64,
    pub slowlog_max_len: AtomicU64,
    /// Bytes allocated by the process's allocator (INFO used_memory); set by the server,
    /// which owns the allocator choice.
    pub allocated_bytes: fn() -> usize,
    /// DEBUG SET-ACTIVE-EXPIRE: false stops the cron's active expire cycle.
    pub active_expire_enabled: AtomicBool,
    /// `latency-monitor-threshold` in ms (0 = off), hot copy.
    pub latency_threshold_ms: AtomicU64,
    /// CLIENT PAUSE mode of the current pause: true = ALL, false = WRITE (hot copy).
    pub pause_all: AtomicBool,
    /// `hash-max-listpack-entries` / `hash-max-listpack-value`, hot copies read by every
    /// hash write (kept in sync by `config::apply_hot`).
    pub hash_max_listpack_entries: AtomicI64,
    pub hash_max_listpack_value: AtomicI64,
    /// True once `config::apply_hot` maintains the two hash copies above; until then the
    /// hash commands read the configuration itself.
    pub hash_limits_hot: AtomicBool,
}

/// Resident set size in bytes, from /proc (0 where unavailable).
pub fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()))
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

impl Shared {
    pub fn new(config: Config, config_file: Option<String>) -> Shared {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let run_id: String = (0..40).map(|_| format!("{:x}", rng.gen_range(0..16u8))).collect();
        let port = config.port() as u32;
        let hash_entries = config.get_i64("hash-max-listpack-entries");
        let hash_value = config.get_i64("hash-max-listpack-value");
        Shared {
            config: RwLock::new(config),
            stats: Stats::default(),
            clients: Mutex::new(BTreeMap::new()),
            // Redis 7.0 gives ids 1 and 2 to internal clients (scripting), so the first
            // connection is id 3; matching it keeps HELLO and CLIENT ID replies identical.
            next_client_id: AtomicU64::new(3),
            start_ms: unix_ms(),
            start_instant: std::time::Instant::now(),
            run_id,
            pause: Mutex::new(Pause::default()),
            pause_until_ms: AtomicU64::new(0),
            monitors: Mutex::new(Vec::new()),
            has_monitors: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            config_file,
            executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            tcp_port: AtomicU32::new(port),
            blocked_clients: AtomicUsize::new(0),
            slowlog_slower_than_us: AtomicI64::new(10000),
            slowlog_max_len: AtomicU64::new(128),
            allocated_bytes: rss_bytes,
            active_expire_enabled: AtomicBool::new(true),
            latency_threshold_ms: AtomicU64::new(0),
            pause_all: AtomicBool::new(true),
            hash_max_listpack_entries: AtomicI64::new(hash_entries),
            hash_max_listpack_value: AtomicI64::new(hash_value),
            hash_limits_hot: AtomicBool::new(false),
        }
    }
}

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Internal: the command after SKIP is running.
    SkipThis,
}

/// A MULTI block being queued.
#[derive(Default)]
pub struct MultiState {
    pub queued: Vec<(&'static crate::table::CommandDef, OwnedArgs)>,
    /// A command failed to queue: EXEC answers EXECABORT.
    pub error: bool,
}

/// A connection's own state.
pub struct Client {
    pub id: u64,
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    pub multi: Option<MultiState>,
    /// (db, key) pairs this client WATCHes.
    pub watching: Vec<(usize, Vec<u8>)>,
    pub reply_mode: ReplyMode,
    pub info: Arc<ClientInfo>,
    /// True while EXEC runs its queued commands.
    pub in_exec: bool,
}

impl Client {
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Client {
        Client {
            id: info.id,
            db: 0,
            resp3: false,
            authenticated,
            multi: None,
            watching: Vec::new(),
            reply_mode: ReplyMode::On,
            info,
            in_exec: false,
        }
    }
}

/// Effects the server carries out after the reply is written.
#[derive(Debug, Clone)]
pub enum Action {
    /// Close the connection once the reply is sent (QUIT, protocol errors).
    Close,
    /// Shut the server down (SHUTDOWN); `save` = Some(true) SAVE, Some(false) NOSAVE.
    Shutdown { save: Option<bool>, now: bool, force: bool },
    /// Enter MONITOR mode.
    Monitor,
    /// Block the client until one of `keys` is served (see `blocking.rs`) or the
    /// deadline passes (unix ms, 0 = never); then reply with `timeout_reply`.
    Block { keys: Vec<Vec<u8>>, deadline_ms: u64, timeout_reply: fn(&mut ReplyBuf) },
}

/// What a handler gets.
pub struct Ctx<'a> {
    pub st: &'a mut State,
    pub client: &'a mut Client,
    pub shared: &'a Shared,
    pub out: &'a mut ReplyBuf,
    pub action: Option<Action>,
}

impl<'a> Ctx<'a> {
    /// The client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.st.ks.dbs[self.client.db]
    }
    /// The command clock (unix ms).
    #[inline]
    pub fn now(&self) -> u64 {
        self.st.ks.now_ms
    }
    /// Counts `n` changes to the dataset (drives save points and, later, propagation).
    #[inline]
    pub fn dirty(&mut self, n: u64) {
        self.st.ks.dirty += n;
    }
    /// Counts a read hit or miss (INFO keyspace_hits / keyspace_misses).
    #[inline]
    pub fn hit(&self, hit: bool) {
        let s = &self.shared.stats;
        if hit {
            s.keyspace_hits.fetch_add(1, Ordering::Relaxed);
        } else {
            s.keyspace_misses.fetch_add(1, Ordering::Relaxed);
        }
    }
    /// A read lookup as Redis's `lookupKeyRead`: lazy expiry, and a keyspace hit or miss
    /// counted. Returns the value with the reply buffer (disjoint borrows), so a family's
    /// typed `read` only has to check the type.
    pub fn read_value(&mut self, key: &[u8]) -> (Option<&Value>, &mut ReplyBuf) {
        let now = self.st.ks.now_ms;
        let v = self.st.ks.dbs[self.client.db].get(key, now);
        let stats = &self.shared.stats;
        if v.is_some() {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
        } else {
            stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
        }
        (v, &mut *self.out)
    }

    /// Notes that `key` (in the client's database) may serve blocked clients.
    #[inline]
    pub fn signal_ready(&mut self, key: &[u8]) {
        crate::blocking::signal_ready(self.st, self.client.db, key);
    }
    /// Keyspace notification hook (`notify-keyspace-events`, implemented with pub/sub).
    pub fn notify(&mut self, _class: u8, _event: &str, _key: &[u8]) {}
}
