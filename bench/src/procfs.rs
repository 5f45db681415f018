//! Readings from `/proc`: a process's CPU time and RSS, the machine's CPU
//! time and load average.

use std::time::Instant;

/// Clock ticks per second (`_SC_CLK_TCK`, normally 100).
pub fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// utime + stime of a process (all its threads), in microseconds, from
/// `/proc/<pid>/stat` (`pid` `None`: this process).
pub fn cpu_us(pid: Option<u32>) -> Option<u64> {
    cpu_split_us(pid).map(|(user, sys)| user + sys)
}

/// (utime, stime) of a process (all its threads), in microseconds. stime is
/// the kernel's share: on loopback it includes the receiving socket's TCP
/// input, which the sender's write runs.
pub fn cpu_split_us(pid: Option<u32>) -> Option<(u64, u64)> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may contain spaces: fields
    // are counted after the last ')'. utime and stime are fields 14 and 15,
    // i.e. the 12th and 13th after the state (field 3).
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let tck = clk_tck();
    Some((utime * 1_000_000 / tck, stime * 1_000_000 / tck))
}

/// VmRSS of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// `/proc/loadavg`'s 1-minute figure.
pub fn loadavg1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Busy CPU time of the whole machine (every CPU: all but idle and iowait),
/// in microseconds, from `/proc/stat`.
pub fn machine_busy_us() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total - idle) * 1_000_000 / clk_tck())
}

/// CPU readings at one instant.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// When.
    pub at: Instant,
    /// The server's CPU time (µs), if its PID is known and readable.
    pub server_us: Option<u64>,
    /// The kernel's share of `server_us` (stime, µs).
    pub server_sys_us: Option<u64>,
    /// The generator's own CPU time (µs).
    pub own_us: Option<u64>,
    /// The machine's busy time (µs, all CPUs).
    pub machine_us: Option<u64>,
}

impl Sample {
    /// Reads them all now.
    pub fn take(server_pid: Option<u32>) -> Self {
        let server = server_pid.and_then(|p| cpu_split_us(Some(p)));
        Sample {
            at: Instant::now(),
            server_us: server.map(|(u, s)| u + s),
            server_sys_us: server.map(|(_, s)| s),
            own_us: cpu_us(None),
            machine_us: machine_busy_us(),
        }
    }
}

/// CPU use between two samples.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuDelta {
    /// Wall seconds.
    pub secs: f64,
    /// The server's CPU time, µs.
    pub server_us: Option<f64>,
    /// The kernel's share of `server_us`, µs.
    pub server_sys_us: Option<f64>,
    /// The generator's CPU time, µs.
    pub own_us: Option<f64>,
    /// Busy time of everything else on the machine, µs (interference).
    pub other_us: Option<f64>,
}

impl CpuDelta {
    /// From `a` to `b`.
    pub fn between(a: &Sample, b: &Sample) -> Self {
        let d = |x: Option<u64>, y: Option<u64>| match (x, y) {
            (Some(x), Some(y)) => Some(y.saturating_sub(x) as f64),
            _ => None,
        };
        let server = d(a.server_us, b.server_us);
        let own = d(a.own_us, b.own_us);
        let machine = d(a.machine_us, b.machine_us);
        let other = machine.map(|m| (m - server.unwrap_or(0.0) - own.unwrap_or(0.0)).max(0.0));
        CpuDelta {
            secs: b.at.duration_since(a.at).as_secs_f64(),
            server_us: server,
            server_sys_us: d(a.server_sys_us, b.server_sys_us),
            own_us: own,
            other_us: other,
        }
    }

    /// A CPU time as a percentage of one core over the window.
    pub fn pct(&self, us: Option<f64>) -> Option<f64> {
        us.map(|u| 100.0 * u / (self.secs * 1e6))
    }
}

/// Open descriptors of a process (`pid` `None`: this process), from
/// `/proc/<pid>/fd`.
pub fn open_fds(pid: Option<u32>) -> Option<usize> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/fd"),
        None => "/proc/self/fd".to_string(),
    };
    Some(std::fs::read_dir(path).ok()?.count())
}

/// This process's limit on open descriptors (the soft `RLIMIT_NOFILE`).
pub fn fd_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct passed.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0).then_some(lim.rlim_cur)
}
