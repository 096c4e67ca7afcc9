//! Timing child processes: wall-clock time and peak resident memory of one run,
//! and interleaved repetitions so that background noise on a shared machine hits
//! every contender alike (each round runs every contender once, in turn).

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// One finished run of a child process.
#[derive(Debug, Clone)]
pub struct Run {
    pub elapsed: Duration,
    /// Peak resident set of the child in KiB: its `VmHWM`, polled every 5 ms while
    /// it runs. (`ru_maxrss` from `wait4` would not do: the kernel carries the
    /// spawning process's peak across `posix_spawn` + `exec` into the child's.)
    pub max_rss_kib: u64,
    pub stdout: Vec<u8>,
}

/// Run `cmd` to completion, capturing stdout; fail on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<Run> {
    let what = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let err_pipe = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        if let Some(mut e) = err_pipe {
            let _ = e.read_to_end(&mut stderr);
        }
        stderr
    });
    let pid = child.id();
    let reaped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = reaped.clone();
    let hwm_poller = std::thread::spawn(move || {
        let mut peak = 0;
        // The flag stops the poller before a reused pid could be read.
        while let Some(hwm) =
            vm_hwm_kib(pid).filter(|_| !stop.load(std::sync::atomic::Ordering::SeqCst))
        {
            peak = hwm.max(peak);
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    });
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout)
            .with_context(|| format!("reading output of {what}"))?;
    }
    let status = wait(pid);
    reaped.store(true, std::sync::atomic::Ordering::SeqCst);
    let status = status?;
    let elapsed = start.elapsed();
    let max_rss_kib = hwm_poller.join().unwrap_or(0);
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        bail!(
            "{what} failed ({status}): {}",
            String::from_utf8_lossy(&stderr).trim()
        );
    }
    Ok(Run {
        elapsed,
        max_rss_kib,
        stdout,
    })
}

/// `VmHWM` of a live process in KiB; `None` once it has exited (a zombie has none).
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Reap `pid` with `waitpid`, leaving the zombie visible to the poller until then.
#[allow(unsafe_code)]
fn wait(pid: u32) -> Result<ExitStatus> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: a valid pointer to a local; pid is our own child.
        let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        if r == pid as libc::pid_t {
            return Ok(ExitStatus::from_raw(status));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("waitpid");
        }
    }
}

/// A shell command (`bash -c`), for the baseline pipelines.
pub fn shell(script: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script);
    cmd
}

/// Median of the samples (upper median for an even count); zero for none.
pub fn median(samples: &[f64]) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The `q`-quantile (0..=1) of `samples`, nearest rank.
pub fn quantile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// Medians of interleaved repetitions of several contenders.
#[derive(Debug, Clone)]
pub struct Compared {
    pub name: String,
    pub command: String,
    pub median_secs: f64,
    pub samples: Vec<f64>,
    pub max_rss_kib: u64,
    /// Output of the last run (for cross-checking results).
    pub stdout: Vec<u8>,
}

/// A named command to compare; `command` is how the report shows it.
pub struct Contender {
    pub name: String,
    pub command: String,
    pub make: Box<dyn Fn() -> Command>,
}

impl Contender {
    pub fn new(
        name: impl Into<String>,
        command: impl Into<String>,
        make: impl Fn() -> Command + 'static,
    ) -> Contender {
        Contender {
            name: name.into(),
            command: command.into(),
            make: Box::new(make),
        }
    }
}

/// Run every contender once untimed (to warm the page cache and the binaries),
/// then `rounds` rounds in which each runs once, rotating the order every round.
pub fn compare(contenders: &[Contender], rounds: usize) -> Result<Vec<Compared>> {
    let mut out: Vec<Compared> = contenders
        .iter()
        .map(|c| Compared {
            name: c.name.clone(),
            command: c.command.clone(),
            median_secs: 0.0,
            samples: Vec::new(),
            max_rss_kib: 0,
            stdout: Vec::new(),
        })
        .collect();
    for c in contenders {
        run(&mut (c.make)())?;
    }
    for round in 0..rounds.max(1) {
        for k in 0..contenders.len() {
            let i = (k + round) % contenders.len();
            let r = run(&mut (contenders[i].make)())?;
            let slot = &mut out[i];
            slot.samples.push(r.elapsed.as_secs_f64());
            slot.max_rss_kib = slot.max_rss_kib.max(r.max_rss_kib);
            slot.stdout = r.stdout;
        }
    }
    for slot in &mut out {
        slot.median_secs = median(&slot.samples);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn quantile_is_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&mut v, 0.5), 50.0);
        assert_eq!(quantile(&mut v, 0.99), 99.0);
        assert_eq!(quantile(&mut v, 1.0), 100.0);
    }

    #[test]
    fn run_reports_output_and_a_failing_command_is_an_error() {
        let r = run(&mut shell("printf hello")).unwrap();
        assert_eq!(r.stdout, b"hello");
        assert!(run(&mut shell("echo oops >&2; exit 3"))
            .unwrap_err()
            .to_string()
            .contains("oops"));
    }
}
