//! What a running process costs, read from `/proc`: resident memory, CPU
//! time, and its TCP connections to one port (the API server's).

use std::collections::HashSet;
use std::process::Command;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Footprint {
    /// Resident memory now, in KiB (`VmRSS`).
    pub rss_kib: u64,
    /// The most resident memory it ever had, in KiB (`VmHWM`).
    pub peak_rss_kib: u64,
    /// User and system CPU time so far, in seconds.
    pub cpu_seconds: f64,
    /// Its TCP sockets connected to the port, in any state but listening.
    pub connections: usize,
}

/// Reads process `pid` and counts its connections to `port`; `None` once it is gone.
pub fn read(pid: u32, port: u16) -> Option<Footprint> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |field: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Some(Footprint {
        rss_kib: kib("VmRSS:"),
        peak_rss_kib: kib("VmHWM:"),
        cpu_seconds: cpu_seconds(pid)?,
        connections: connections(pid, port),
    })
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // After the command name: utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Sockets of `pid` (from `/proc/<pid>/fd`) that `/proc/<pid>/net/tcp*`
/// shows connected to remote `port`.
fn connections(pid: u32, port: u16) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    let inodes: HashSet<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    const LISTEN: &str = "0A";
    ["tcp", "tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok())
        .flat_map(|text| text.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields
                .get(2)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            remote_port == Some(port)
                && fields.get(3) != Some(&LISTEN)
                && fields.get(9).is_some_and(|inode| inodes.contains(*inode))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_cpu_and_its_connection_to_a_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let _stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let me = read(std::process::id(), port).expect("this process exists");
        assert!(me.rss_kib > 0 && me.peak_rss_kib >= me.rss_kib, "{me:?}");
        assert_eq!(me.connections, 1, "one connection to the listener: {me:?}");
    }
}
