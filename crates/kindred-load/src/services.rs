//! The pipeline's services as separate operating-system processes, as they
//! run in production: started from the `kindred` binary, watched through
//! their HTTP endpoint and /proc, stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::LoadError;

/// How one service process is started.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Short name, e.g. `ingest-pos`.
    pub name: String,
    /// Arguments after the binary, e.g. `["ingest", "--channel", "pos"]`.
    pub args: Vec<String>,
}

/// A running service.
pub(crate) struct Service {
    pub name: String,
    pub child: Child,
    pub http: String,
    pub log: PathBuf,
}

/// What a service used, read from /proc before it was stopped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceUsage {
    pub name: String,
    /// Peak resident set size (VmHWM), bytes.
    pub peak_rss_bytes: u64,
    /// User plus system CPU time, seconds.
    pub cpu_seconds: f64,
    /// How the process ended after SIGTERM.
    pub exit: String,
    /// Whether that was in order ([`orderly_exit`]).
    pub orderly: bool,
    /// Whether its shutdown watchdog ended it ([`ExitKind::Forced`]).
    pub forced: bool,
}

/// A free loopback port for a service's HTTP endpoint, below the kernel's
/// ephemeral range (`net.ipv4.ip_local_port_range`, 32768-60999 by
/// default): the port is free when chosen and bound by the service a moment
/// later, and a port of that range could be taken in between as the local
/// end of any outgoing connection (a Kafka client's), which stopped a chaos
/// run's restarted service with "Address already in use". Ports this
/// process handed out are not handed out again; another process starts
/// its search elsewhere (by its pid).
pub fn free_port() -> Result<u16, LoadError> {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let (low, high) = service_port_range(ephemeral_low());
    let span = u32::from(high - low);
    let no_room = || LoadError::Io {
        what: "cannot find a free port below the ephemeral range (net.ipv4.ip_local_port_range) on",
        path: PathBuf::from("127.0.0.1"),
        source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
    };
    if span == 0 {
        return Err(no_room());
    }
    let mut given = GIVEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let start = std::process::id().wrapping_mul(2_654_435_761) % span;
    for i in 0..span {
        let port = low + ((start + i) % span) as u16;
        if given.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return Ok(port);
        }
    }
    Err(no_room())
}

/// The first port of the kernel's ephemeral range (Linux's default when it
/// cannot be read).
fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// Where service ports are picked: up to 12,000 ports just below
/// `ephemeral_low`, above the privileged ones (empty when the ephemeral
/// range starts that low).
fn service_port_range(ephemeral_low: u16) -> (u16, u16) {
    let high = ephemeral_low.max(1024);
    (high.saturating_sub(12_000).max(1024), high)
}

/// How a run starts its services: the `kindred` binary, the configuration
/// file and the `--set` overrides the run itself was given (each service
/// gets them all, then the run's own topics, groups, store and HTTP
/// address on top).
#[derive(Debug, Clone)]
pub struct Launch {
    pub exe: PathBuf,
    pub config_file: Option<PathBuf>,
    /// `KEY=VALUE` overrides, as `--set` takes them.
    pub overrides: Vec<String>,
}

/// A run's service's `--set`s: the user's, then the run's own and its
/// HTTP address, which win (the later `--set` does).
pub(crate) fn service_sets(launch: &Launch, run: &crate::RunSettings, http: &str) -> Vec<String> {
    let mut sets = launch.overrides.clone();
    sets.extend(run.sets.iter().cloned());
    sets.push(format!("http.listen={http}"));
    sets
}

/// Starts `spec` as `launch` says with the run's settings (`run`), logging
/// to `dir/<name>.log`.
pub(crate) fn spawn(
    launch: &Launch,
    spec: &ServiceSpec,
    run: &crate::RunSettings,
    dir: &Path,
) -> Result<Service, LoadError> {
    let http = format!("127.0.0.1:{}", free_port()?);
    let log = dir.join(format!("{}.log", spec.name));
    // Appended: a service restarted by `kindred chaos` keeps one log.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|source| LoadError::Io {
            what: "cannot create the service log",
            path: log.clone(),
            source,
        })?;
    let mut command = Command::new(&launch.exe);
    if let Some(f) = &launch.config_file {
        command.arg("--config").arg(f);
    }
    for set in service_sets(launch, run, &http) {
        command.arg("--set").arg(set);
    }
    command
        .args(&spec.args)
        .envs(run.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file);
    let child = command.spawn().map_err(|source| LoadError::Spawn {
        service: spec.name.clone(),
        exe: launch.exe.clone(),
        source,
    })?;
    Ok(Service {
        name: spec.name.clone(),
        child,
        http,
        log,
    })
}

/// The file (in the run's work directory) listing the running services'
/// `/metrics` endpoints for Prometheus' `file_sd_configs`, rewritten
/// whenever a service (re)starts: point a Prometheus at it to watch a run.
pub const SCRAPE_TARGETS_FILE: &str = "prometheus-targets.json";

/// Writes [`SCRAPE_TARGETS_FILE`] for `services` (atomically: Prometheus
/// watches the file and must never read half of it).
pub(crate) fn write_scrape_targets<'a>(
    dir: &Path,
    services: impl IntoIterator<Item = &'a Service>,
) -> Result<(), LoadError> {
    let groups: Vec<serde_json::Value> = services
        .into_iter()
        .map(|s| serde_json::json!({ "targets": [s.http], "labels": { "process": s.name } }))
        .collect();
    let path = dir.join(SCRAPE_TARGETS_FILE);
    let partial = dir.join(format!("{SCRAPE_TARGETS_FILE}.partial"));
    let io = |source| LoadError::Io {
        what: "cannot write the Prometheus targets file",
        path: path.clone(),
        source,
    };
    std::fs::write(&partial, serde_json::Value::Array(groups).to_string()).map_err(io)?;
    std::fs::rename(&partial, &path).map_err(io)
}

impl Drop for Service {
    /// A run that fails half-way must not leave its services running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill9();
        }
    }
}

impl Service {
    /// An error if the process has exited.
    pub fn check_alive(&mut self) -> Result<(), LoadError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(self.died(status.to_string())),
            Err(e) => Err(self.died(e.to_string())),
        }
    }

    fn died(&self, status: String) -> LoadError {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        LoadError::ServiceDied {
            service: self.name.clone(),
            status,
            log: self.log.clone(),
            tail,
        }
    }

    /// Waits until `/readyz` answers 200 (the service holds its partitions).
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<(), LoadError> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            self.check_alive()?;
            if http_status(&self.http, "/readyz").await == Some(200) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(LoadError::NotReady {
            service: self.name.clone(),
            secs: timeout.as_secs(),
            addr: self.http.clone(),
            log: self.log.clone(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: the process gets no chance to finish anything.
    pub fn kill9(&mut self) {
        let target = nix::unistd::Pid::from_raw(self.pid() as i32);
        let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit (killing the process after
    /// `grace`); returns how long the exit took, and how it ended (a
    /// process already gone or one killed after the grace is
    /// [`ExitKind::Failed`]).
    pub fn terminate(&mut self, grace: Duration) -> (Duration, ExitKind) {
        let started = Instant::now();
        let target = nix::unistd::Pid::from_raw(self.pid() as i32);
        let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGTERM);
        loop {
            match self.child.try_wait() {
                Ok(None) if started.elapsed() < grace => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    self.kill9();
                    return (started.elapsed(), ExitKind::Failed);
                }
                Ok(Some(status)) => return (started.elapsed(), exit_kind(&status)),
                Err(_) => return (started.elapsed(), ExitKind::Failed),
            }
        }
    }

    /// Reads what the process used, then stops it with SIGTERM (a graceful
    /// shutdown: the batch in flight finishes), killing it after `grace`.
    pub fn stop(mut self, grace: Duration) -> ServiceUsage {
        let pid = self.pid();
        let mut usage = ServiceUsage {
            name: self.name.clone(),
            peak_rss_bytes: proc_status_kib(pid, "VmHWM:").unwrap_or(0) * 1024,
            cpu_seconds: cpu_seconds(pid).unwrap_or(0.0),
            exit: String::new(),
            orderly: false,
            forced: false,
        };
        let target = nix::unistd::Pid::from_raw(pid as i32);
        let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        usage.exit = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    usage.orderly = orderly_exit(&status);
                    usage.forced = exit_kind(&status) == ExitKind::Forced;
                    break status.to_string();
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break format!("killed after {} s without exiting", grace.as_secs());
                }
                Err(e) => break format!("unknown: {e}"),
            }
        };
        usage
    }
}

/// The exit status of a service whose shutdown watchdog ended it at
/// `[shutdown] timeout_secs` after SIGTERM (kindred's `EXIT_SHUTDOWN_TIMEOUT`).
pub const EXIT_SHUTDOWN_TIMEOUT: i32 = 75;

/// How a service stopped by SIGTERM ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Status 0: its shutdown finished.
    Clean,
    /// Ended by its own shutdown watchdog at the timeout
    /// ([`EXIT_SHUTDOWN_TIMEOUT`]): in order (a Kafka call that blocks,
    /// e.g. a consumer's close right after a broker restart; what was not
    /// committed is redone after the restart), but no clean stop, and
    /// reported as such.
    Forced,
    /// A panic, an error exit or a signal.
    Failed,
}

/// How a process that exited with `status` ended.
pub fn exit_kind(status: &std::process::ExitStatus) -> ExitKind {
    match status.code() {
        Some(0) => ExitKind::Clean,
        Some(EXIT_SHUTDOWN_TIMEOUT) => ExitKind::Forced,
        _ => ExitKind::Failed,
    }
}

/// Whether a service stopped by SIGTERM exited as designed: cleanly, or
/// ended by its own shutdown watchdog ([`ExitKind`]).
pub fn orderly_exit(status: &std::process::ExitStatus) -> bool {
    exit_kind(status) != ExitKind::Failed
}

/// A field of /proc/<pid>/status in KiB (`VmRSS:`, `VmHWM:`).
pub(crate) fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// User + system CPU seconds of a process, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, so split at ')').
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in USER_HZ, 100 on every mainstream platform.
    Some(ticks as f64 / 100.0)
}

/// The status code of `GET path` on `addr`, or None when nothing answers.
async fn http_status(addr: &str, path: &str) -> Option<u16> {
    http_get(addr, path).await.map(|(status, _)| status)
}

/// `GET path` on `addr`: status code and body, or None when nothing answers.
pub(crate) async fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Some((status, body))
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    /// Service ports come from below the kernel's ephemeral range (an
    /// outgoing connection cannot take one between the pick and the
    /// service's bind), and are never handed out twice by one process.
    #[test]
    fn service_ports_are_below_the_ephemeral_range_and_distinct() {
        let (low, high) = service_port_range(ephemeral_low());
        let ports: Vec<u16> = (0..50).map(|_| free_port().expect("a port")).collect();
        assert!(ports.iter().all(|p| (low..high).contains(p)), "{ports:?}");
        assert!(high <= ephemeral_low());
        // A widened ephemeral range leaves what is below it; none, none.
        assert_eq!(service_port_range(32_768), (20_768, 32_768));
        assert_eq!(service_port_range(10_000), (1_024, 10_000));
        assert_eq!(service_port_range(1_024), (1_024, 1_024));
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len());
    }

    use std::os::unix::process::ExitStatusExt;

    use super::*;

    /// A watchdog's exit is in order but no clean stop: chaos lists it
    /// apart (it printed "exited in order" for a service that never shut
    /// down by itself).
    #[test]
    fn a_watchdog_exit_is_in_order_but_not_clean() {
        let status = |code: i32| std::process::ExitStatus::from_raw(code << 8);
        assert_eq!(exit_kind(&status(0)), ExitKind::Clean);
        assert_eq!(exit_kind(&status(EXIT_SHUTDOWN_TIMEOUT)), ExitKind::Forced);
        assert!(orderly_exit(&status(EXIT_SHUTDOWN_TIMEOUT)));
        assert_eq!(exit_kind(&status(1)), ExitKind::Failed);
        assert!(!orderly_exit(&status(101)));
        // Killed by a signal: no exit code at all.
        let killed = std::process::ExitStatus::from_raw(9);
        assert_eq!(exit_kind(&killed), ExitKind::Failed);
    }
}
