//! Configuration: redis.conf and command-line directives, CONFIG GET/SET values.
//!
//! Every directive redis-server 7.0 knows is in [`DIRECTIVES`] with its type, default
//! and mutability; values are validated by type and kept as the canonical strings that
//! CONFIG GET prints. Directives Shoal does not act on yet are accepted and a warning is
//! logged at start-up (`implemented: false`). Unknown directives and invalid values stop
//! start-up with redis-server's message and exit status 1.

use std::collections::BTreeMap;

/// A directive's value type.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Bool,
    /// Integer within [min, max].
    Int(i64, i64),
    /// Memory size (accepts 1k, 1kb, 1m, 1mb, 1g, 1gb), within [min, max] bytes.
    Memory(i64, i64),
    Enum(&'static [&'static str]),
    Str,
    /// Several space-separated values (bind, save, client-output-buffer-limit ...).
    List,
}

/// One directive.
pub struct Directive {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub default: &'static str,
    /// Can be changed with CONFIG SET.
    pub mutable: bool,
    /// Shoal acts on it (false: accepted, logged as not yet implemented).
    pub implemented: bool,
}

const fn d(name: &'static str, kind: Kind, default: &'static str, mutable: bool, implemented: bool) -> Directive {
    Directive { name, aliases: &[], kind, default, mutable, implemented }
}

const YES: bool = true;
const NO: bool = false;
const I32: i64 = i32::MAX as i64;

/// Every directive, sorted by name.
pub static DIRECTIVES: &[Directive] = &[
    d("appendonly", Kind::Bool, "no", YES, NO),
    d("bind", Kind::List, "* -::*", YES, YES),
    d("client-query-buffer-limit", Kind::Memory(1024 * 1024, i64::MAX), "1073741824", YES, YES),
    d("daemonize", Kind::Bool, "no", NO, YES),
    d("databases", Kind::Int(1, I32), "16", NO, YES),
    d("dir", Kind::Str, "", YES, YES),
    d("hash-max-listpack-entries", Kind::Int(0, i64::MAX), "128", YES, YES),
    d("hash-max-listpack-value", Kind::Int(0, i64::MAX), "64", YES, YES),
    d("logfile", Kind::Str, "", NO, YES),
    d("loglevel", Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]), "notice", YES, YES),
    d("maxclients", Kind::Int(1, I32), "10000", YES, YES),
    d("pidfile", Kind::Str, "", NO, YES),
    d("port", Kind::Int(0, 65535), "6379", YES, YES),
    d("protected-mode", Kind::Bool, "yes", YES, YES),
    d("proto-max-bulk-len", Kind::Memory(1024 * 1024, i64::MAX), "536870912", YES, YES),
    d("requirepass", Kind::Str, "", YES, YES),
    d("save", Kind::List, "3600 1 300 100 60 10000", YES, NO),
    d("tcp-backlog", Kind::Int(0, I32), "511", NO, YES),
    d("tcp-keepalive", Kind::Int(0, I32), "300", YES, YES),
    d("timeout", Kind::Int(0, I32), "0", YES, YES),
];

/// Finds a directive by name or alias (case-insensitive).
pub fn directive(name: &str) -> Option<&'static Directive> {
    let n = name.to_ascii_lowercase();
    DIRECTIVES.iter().find(|d| d.name == n || d.aliases.contains(&n.as_str()))
}

/// Parses a memory size as Redis's `memtoull`: a number with optional k/kb/m/mb/g/gb.
pub fn parse_memory(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul) = if let Some(n) = l.strip_suffix("gb") {
        (n, 1024 * 1024 * 1024)
    } else if let Some(n) = l.strip_suffix("mb") {
        (n, 1024 * 1024)
    } else if let Some(n) = l.strip_suffix("kb") {
        (n, 1024)
    } else if let Some(n) = l.strip_suffix('g') {
        (n, 1000 * 1000 * 1000)
    } else if let Some(n) = l.strip_suffix('m') {
        (n, 1000 * 1000)
    } else if let Some(n) = l.strip_suffix('k') {
        (n, 1000)
    } else if let Some(n) = l.strip_suffix('b') {
        (n, 1)
    } else {
        (l.as_str(), 1)
    };
    let v: i64 = num.parse().ok()?;
    v.checked_mul(mul)
}

/// The current configuration.
#[derive(Clone, Debug)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config { values: DIRECTIVES.iter().map(|d| (d.name, d.default.to_string())).collect() }
    }
}

impl Config {
    /// Validates `value` for directive `name` and stores its canonical form.
    /// The error is the text after `ERR`-less reason, e.g. "argument must be 'yes' or 'no'".
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let d = directive(name).ok_or_else(|| format!("Bad directive or wrong number of arguments"))?;
        let canon = match d.kind {
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => "yes".to_string(),
                "no" => "no".to_string(),
                _ => return Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int(min, max) => {
                let v: i64 = value.parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
                if v < min || v > max {
                    return Err(format!("argument must be between {min} and {max} inclusive"));
                }
                v.to_string()
            }
            Kind::Memory(min, max) => {
                let v = parse_memory(value).ok_or_else(|| "argument must be a memory value".to_string())?;
                if v < min || v > max {
                    return Err(format!("argument must be between {min} and {max} inclusive"));
                }
                v.to_string()
            }
            Kind::Enum(opts) => {
                let l = value.to_ascii_lowercase();
                if !opts.contains(&l.as_str()) {
                    return Err(format!("argument(s) must be one of the following: {}", opts.join(", ")));
                }
                l
            }
            Kind::Str | Kind::List => value.to_string(),
        };
        self.values.insert(d.name, canon);
        Ok(())
    }

    /// The canonical value of a directive.
    pub fn get(&self, name: &str) -> Option<&str> {
        let d = directive(name)?;
        self.values.get(d.name).map(|s| s.as_str())
    }

    /// All (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }

    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == Some("yes")
    }
    pub fn port(&self) -> u16 {
        self.get_i64("port") as u16
    }
    pub fn databases(&self) -> usize {
        self.get_i64("databases") as usize
    }
    pub fn requirepass(&self) -> Option<String> {
        self.get("requirepass").filter(|s| !s.is_empty()).map(|s| s.to_string())
    }
    pub fn bind(&self) -> Vec<String> {
        self.get("bind").unwrap_or("").split_whitespace().map(|s| s.to_string()).collect()
    }
}

/// Loads the configuration from redis-server style arguments:
/// `[config-file] [--directive value ...]`. Returns the config, the config file path,
/// and warnings to log (directives accepted but not yet implemented).
pub fn load(argv: &[String]) -> Result<(Config, Option<String>, Vec<String>), String> {
    let mut cfg = Config::default();
    let mut warnings = Vec::new();
    let mut i = 0;
    let mut file = None;
    let mut lines: Vec<(Option<usize>, Vec<String>)> = Vec::new();
    if let Some(first) = argv.first() {
        if !first.starts_with("--") {
            let text = std::fs::read_to_string(first).map_err(|e| format!("Fatal error, can't open config file '{first}': {e}"))?;
            for (n, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                let parts = split_config_line(t).ok_or_else(|| config_error(Some(n + 1), t, "Unbalanced quotes in configuration line"))?;
                lines.push((Some(n + 1), parts));
            }
            file = Some(first.clone());
            i = 1;
        }
    }
    // command-line: "--name v1 v2 --name2 v" -> lines after the file, overriding it
    let mut cur: Vec<String> = Vec::new();
    while i < argv.len() {
        let a = &argv[i];
        if let Some(name) = a.strip_prefix("--") {
            if !cur.is_empty() {
                lines.push((None, std::mem::take(&mut cur)));
            }
            cur.push(name.to_string());
        } else if cur.is_empty() {
            return Err(config_error(None, a, "Bad directive or wrong number of arguments"));
        } else {
            cur.push(a.clone());
        }
        i += 1;
    }
    if !cur.is_empty() {
        lines.push((None, cur));
    }
    for (lineno, parts) in lines {
        let name = parts[0].to_ascii_lowercase();
        let text = parts.join(" ");
        let Some(d) = directive(&name) else {
            return Err(config_error(lineno, &text, "Bad directive or wrong number of arguments"));
        };
        let value = parts[1..].join(" ");
        if parts.len() < 2 && !matches!(d.kind, Kind::List | Kind::Str) {
            return Err(config_error(lineno, &text, "wrong number of arguments"));
        }
        cfg.set(d.name, &value).map_err(|e| config_error(lineno, &text, &e))?;
        if !d.implemented {
            warnings.push(format!("Directive '{}' is accepted but not implemented yet by Shoal; ignoring its value", d.name));
        }
    }
    Ok((cfg, file, warnings))
}

fn config_error(line: Option<usize>, text: &str, reason: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
        line.unwrap_or(2),
        text,
        reason
    )
}

/// Splits a config line into arguments (quotes as in redis.conf).
fn split_config_line(line: &str) -> Option<Vec<String>> {
    shoal_resp::split_args(line.as_bytes()).map(|v| v.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_overrides_and_errors() {
        let args: Vec<String> = ["--port", "7000", "--bind", "127.0.0.1", "::1"].iter().map(|s| s.to_string()).collect();
        let (c, f, _) = load(&args).unwrap();
        assert_eq!(c.port(), 7000);
        assert_eq!(c.bind(), vec!["127.0.0.1", "::1"]);
        assert!(f.is_none());
        assert!(load(&["--nosuch".into(), "1".into()]).unwrap_err().contains("Bad directive"));
        assert!(load(&["--port".into(), "x".into()]).unwrap_err().contains("argument couldn't be parsed into an integer"));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("1k"), Some(1000));
    }
}
