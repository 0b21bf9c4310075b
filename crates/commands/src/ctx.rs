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

/// Monotonic microseconds since the process's clock origin (one vDSO clock read).
/// Command timing and the command clock derive from it, so a command costs one clock
/// read (its end, which is the next command's start) instead of four.
#[inline]
pub fn mono_us() -> u64 {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed().as_micros() as u64
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
    /// [`mono_us`] at the end of the last command, or at the start of the current batch:
    /// the start time of the next command.
    pub clock_us: u64,
    /// Cluster mode: the routing view (None when `cluster-enabled no`).
    pub cluster: Option<Box<crate::cluster::Routing>>,
    /// Pub/sub subscriptions (channels, patterns, shard channels).
    pub pubsub: crate::family::pubsub::Registry,
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
            clock_us: mono_us(),
            cluster: None,
            pubsub: Default::default(),
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
    /// `notify-keyspace-events` flags (Redis's NOTIFY_* bits), hot copy: 0 = disabled.
    pub notify_flags: AtomicU32,
    /// `client-output-buffer-limit` pubsub class (hard bytes, soft bytes, soft seconds), hot copies.
    pub pubsub_obuf_hard: AtomicU64,
    pub pubsub_obuf_soft: AtomicU64,
    pub pubsub_obuf_soft_s: AtomicU64,
    /// Encoding thresholds and limits read by every write of their type (hot copies kept
    /// by `config::apply_hot`, initialised from the configuration).
    pub hot: HotConfig,
    /// Unix µs minus [`mono_us`]: converts the monotonic clock to wall-clock time; the
    /// server cron refreshes it (`sync_clock`) so wall-clock adjustments are followed.
    pub unix_offset_us: AtomicU64,
    /// Cluster mode (`cluster-enabled yes`): the cluster state and bus handle; None otherwise.
    pub cluster: Option<Arc<crate::family::cluster::ClusterNode>>,
}

/// Hot copies of configuration values read on command paths (a config lookup parses a
/// string; these are one relaxed load).
pub struct HotConfig {
    pub zset_max_listpack_entries: AtomicI64,
    pub zset_max_listpack_value: AtomicI64,
    pub set_max_intset_entries: AtomicI64,
    pub list_max_listpack_size: AtomicI64,
    pub proto_max_bulk_len: AtomicI64,
}

impl HotConfig {
    pub fn from_config(c: &Config) -> HotConfig {
        HotConfig {
            zset_max_listpack_entries: AtomicI64::new(c.get_i64("zset-max-listpack-entries")),
            zset_max_listpack_value: AtomicI64::new(c.get_i64("zset-max-listpack-value")),
            set_max_intset_entries: AtomicI64::new(c.get_i64("set-max-intset-entries")),
            list_max_listpack_size: AtomicI64::new(c.get_i64("list-max-listpack-size")),
            proto_max_bulk_len: AtomicI64::new(c.get_i64("proto-max-bulk-len")),
        }
    }
    /// Refreshes every copy from `c`.
    pub fn store(&self, c: &Config) {
        let r = Ordering::Relaxed;
        self.zset_max_listpack_entries.store(c.get_i64("zset-max-listpack-entries"), r);
        self.zset_max_listpack_value.store(c.get_i64("zset-max-listpack-value"), r);
        self.set_max_intset_entries.store(c.get_i64("set-max-intset-entries"), r);
        self.list_max_listpack_size.store(c.get_i64("list-max-listpack-size"), r);
        self.proto_max_bulk_len.store(c.get_i64("proto-max-bulk-len"), r);
    }
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
    /// Unix milliseconds at monotonic time `mono` (a [`mono_us`] reading).
    #[inline]
    pub fn unix_ms_at(&self, mono: u64) -> u64 {
        (self.unix_offset_us.load(Ordering::Relaxed) + mono) / 1000
    }
    /// Re-reads the wall clock (server cron).
    pub fn sync_clock(&self) {
        self.unix_offset_us.store(unix_us().saturating_sub(mono_us()), Ordering::Relaxed);
    }

    pub fn new(config: Config, config_file: Option<String>) -> Shared {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let run_id: String = (0..40).map(|_| format!("{:x}", rng.gen_range(0..16u8))).collect();
        let port = config.port() as u32;
        let hash_entries = config.get_i64("hash-max-listpack-entries");
        let hash_value = config.get_i64("hash-max-listpack-value");
        let hot = HotConfig::from_config(&config);
        Shared {
            hot,
            unix_offset_us: AtomicU64::new(unix_us().saturating_sub(mono_us())),
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
            notify_flags: AtomicU32::new(0),
            pubsub_obuf_hard: AtomicU64::new(32 << 20),
            pubsub_obuf_soft: AtomicU64::new(8 << 20),
            pubsub_obuf_soft_s: AtomicU64::new(60),
            cluster: None,
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
    /// Queue of messages pushed by other clients (set by the server for each connection).
    pub outbox: Option<Arc<crate::family::pubsub::Outbox>>,
    /// Pub/sub mode (Redis's CLIENT_PUBSUB): has any channel, pattern or shard channel.
    pub pubsub: bool,
    /// Pushes (pub/sub replies and messages) written while CLIENT REPLY OFF/SKIP hides the
    /// command's reply: delivered anyway, as Redis's CLIENT_PUSHING (see `push_sink`).
    pub push_buf: ReplyBuf,
    /// Cluster: ASKING was sent (served once by an importing slot).
    pub asking: bool,
    /// Cluster: READONLY (reads served by a replica).
    pub readonly: bool,
    /// This connection is our replication master (never redirected).
    pub is_master: bool,
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
            outbox: None,
            pubsub: false,
            push_buf: ReplyBuf::default(),
            asking: false,
            readonly: false,
            is_master: false,
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

/// Where pushes for the calling client go (its id and a buffer): the reply buffer, or
/// while CLIENT REPLY OFF/SKIP hides the reply, `Client::push_buf`, which the pipeline
/// appends after dropping the reply (Redis delivers pushes whatever the reply mode).
pub fn push_sink<'b>(client: &'b mut Client, out: &'b mut ReplyBuf) -> (u64, &'b mut ReplyBuf) {
    if matches!(client.reply_mode, ReplyMode::Off | ReplyMode::SkipThis) {
        client.push_buf.resp3 = out.resp3;
        (client.id, &mut client.push_buf)
    } else {
        (client.id, out)
    }
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
    /// A read miss on `key` (Redis's `lookupKeyRead` finding nothing): counts it, and
    /// emits "keymiss" (class m) when that class is enabled.
    pub fn miss(&mut self, key: &[u8]) {
        self.hit(false);
        if self.shared.notify_flags.load(Ordering::Relaxed) & (1 << 11) != 0 {
            self.notify(b'm', "keymiss", key);
        }
    }
    /// [`Ctx::hit`] or [`Ctx::miss`].
    pub fn hit_or_miss(&mut self, found: bool, key: &[u8]) {
        if found {
            self.hit(true);
        } else {
            self.miss(key);
        }
    }
    /// A read lookup as Redis's `lookupKeyRead`: lazy expiry, and a keyspace hit or miss
    /// counted. Returns the value with the reply buffer (disjoint borrows), so a family's
    /// typed `read` only has to check the type.
    pub fn read_value(&mut self, key: &[u8]) -> (Option<&Value>, &mut ReplyBuf) {
        let now = self.st.ks.now_ms;
        if self.shared.notify_flags.load(Ordering::Relaxed) & (1 << 11) != 0 && !self.st.ks.dbs[self.client.db].contains(key, now) {
            // "keymiss" (class m), emitted by Redis's lookupKeyRead on a miss; only
            // looked for when that class is enabled.
            self.notify(b'm', "keymiss", key);
        }
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
    /// Registers `args` (instead of the command's own) for the client if the command
    /// returns `Action::Block`; the registry re-runs those when a key is signalled
    /// (XREAD BLOCK resolves `$` to the stream's last ID this way).
    pub fn set_block_args(&mut self, args: OwnedArgs) {
        self.st.blocking.rewrite = Some(args);
    }
    /// True while the registry re-runs this client's blocked command.
    pub fn is_rerun_of_blocked(&self) -> bool {
        self.st.blocking.is_blocked(self.client.id)
    }
    /// Keyspace notification (`notify-keyspace-events`): publishes
    /// `__keyspace@<db>__:<key>` -> event and `__keyevent@<db>__:<event>` -> key. `class`
    /// is Redis's class character (b'g' generic, b'$' string, b'l' list, b's' set, b'h'
    /// hash, b'z' zset, b'x' expired, b'e' evicted, b't' stream, b'd' module, b'n' new key,
    /// b'm' key miss). Disabled: one atomic load.
    #[inline]
    pub fn notify(&mut self, class: u8, event: &str, key: &[u8]) {
        if self.shared.notify_flags.load(Ordering::Relaxed) == 0 {
            return;
        }
        self.flush_key_events();
        let db = self.client.db;
        let me = Some(push_sink(self.client, self.out));
        crate::family::pubsub::notify_with(self.st, self.shared, me, db, class, event, key);
    }
    /// Emits the keyspace events the keyspace left pending ("expired" for keys a lookup
    /// found past their deadline, "new" for keys created), so that, as in Redis, they
    /// precede the command's own events (see `exec::drain_key_events`).
    pub fn flush_key_events(&mut self) {
        crate::exec::drain_key_events(self.st, self.shared, Some((self.client.id, &mut *self.out)));
    }
}
