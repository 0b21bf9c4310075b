//! Logging in redis-server's format (`pid:role dd Mon yyyy hh:mm:ss.mmm <level> msg`),
//! because tools and people grep for its lines (`Ready to accept connections`).

use parking_lot::Mutex;
use std::io::Write;
use std::sync::OnceLock;

static SINK: OnceLock<Mutex<Option<std::fs::File>>> = OnceLock::new();
static LEVEL: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(2);

/// Log levels, as loglevel's values.
pub const DEBUG: u8 = 0;
pub const VERBOSE: u8 = 1;
pub const NOTICE: u8 = 2;
pub const WARNING: u8 = 3;

/// Sets the log file (empty: standard output) and level.
pub fn init(logfile: &str, level: &str) -> std::io::Result<()> {
    let f = if logfile.is_empty() { None } else { Some(std::fs::OpenOptions::new().create(true).append(true).open(logfile)?) };
    let _ = SINK.set(Mutex::new(f));
    set_level(level);
    Ok(())
}

pub fn set_level(level: &str) {
    let l = match level {
        "debug" => DEBUG,
        "verbose" => VERBOSE,
        "notice" => NOTICE,
        "warning" => WARNING,
        _ => 4,
    };
    LEVEL.store(l, std::sync::atomic::Ordering::Relaxed);
}

fn civil(days: i64) -> (i64, u32, u32) {
    // days since 1970-01-01 -> (year, month, day), Howard Hinnant's algorithm
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Writes one log line at `level` with role char `role` ('M' master, 'C' child/startup).
pub fn log(level: u8, role: char, msg: &str) {
    if level < LEVEL.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let ms = shoal_commands::ctx::unix_ms();
    let secs = (ms / 1000) as i64;
    let (y, mo, d) = civil(secs.div_euclid(86400));
    let sod = secs.rem_euclid(86400);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mark = ['.', '-', '*', '#'][level.min(3) as usize];
    let line = format!(
        "{}:{} {:02} {} {} {:02}:{:02}:{:02}.{:03} {} {}\n",
        std::process::id(),
        role,
        d,
        MONTHS[(mo - 1) as usize],
        y,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms % 1000,
        mark,
        msg
    );
    match SINK.get() {
        Some(m) => {
            let mut g = m.lock();
            match g.as_mut() {
                Some(f) => {
                    let _ = f.write_all(line.as_bytes());
                }
                None => {
                    let _ = std::io::stdout().write_all(line.as_bytes());
                    let _ = std::io::stdout().flush();
                }
            }
        }
        None => {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }
}

#[macro_export]
macro_rules! notice { ($($t:tt)*) => { $crate::log::log($crate::log::NOTICE, 'M', &format!($($t)*)) } }
#[macro_export]
macro_rules! warning { ($($t:tt)*) => { $crate::log::log($crate::log::WARNING, 'M', &format!($($t)*)) } }
#[macro_export]
macro_rules! verbose { ($($t:tt)*) => { $crate::log::log($crate::log::VERBOSE, 'M', &format!($($t)*)) } }
