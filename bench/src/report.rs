//! The Markdown the harness writes into docs/performance.md: machine facts, a
//! summary of every target (met or not), and one table per measurement. The
//! generated part sits between two marker comments so that hand-written analysis
//! around it survives a re-run.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::measure::Compared;

pub const BEGIN: &str = "<!-- glassbox-bench:begin (generated; edit outside the markers) -->";
pub const END: &str = "<!-- glassbox-bench:end -->";

/// One row of the targets table.
pub struct Target {
    what: String,
    measured: f64,
    bound: f64,
    at_least: bool,
}

impl Target {
    pub fn at_least(what: &str, measured: f64, bound: f64) -> Target {
        Target {
            what: what.to_owned(),
            measured,
            bound,
            at_least: true,
        }
    }

    pub fn at_most(what: &str, measured: f64, bound: f64) -> Target {
        Target {
            what: what.to_owned(),
            measured,
            bound,
            at_least: false,
        }
    }

    fn met(&self) -> bool {
        if self.at_least {
            self.measured >= self.bound
        } else {
            self.measured <= self.bound
        }
    }
}

/// The report being assembled.
#[derive(Default)]
pub struct Report {
    header: String,
    targets: Vec<Target>,
    body: String,
}

/// `a ÷ b`, guarding against a zero denominator.
pub fn ratio(a: f64, b: f64) -> f64 {
    a / b.max(1e-12)
}

/// Bytes in human units (decimal).
pub fn size(bytes: f64) -> String {
    match bytes {
        b if b >= 1e9 => format!("{:.2} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl Report {
    pub fn header(&mut self, text: &str) {
        self.header.push_str(text);
    }

    pub fn target(&mut self, t: Target) {
        self.targets.push(t);
    }

    pub fn section(&mut self, title: &str) {
        let _ = write!(self.body, "\n### {title}\n\n");
    }

    pub fn note(&mut self, text: impl AsRef<str>) {
        let _ = write!(self.body, "{}\n\n", text.as_ref());
    }

    /// A free-form table: header cells, then rows.
    pub fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        let _ = writeln!(self.body, "| {} |", head.join(" | "));
        let _ = writeln!(self.body, "|{}", "---|".repeat(head.len()));
        for row in rows {
            // A `|` inside a cell (even in a code span) would split it.
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(self.body, "| {} |", cells.join(" | "));
        }
        self.body.push('\n');
    }

    /// Contenders of one comparison: median time, throughput over `bytes`,
    /// time relative to the first contender, peak RSS, the exact command.
    pub fn timing_table(&mut self, title: &str, results: &[Compared], bytes: Option<f64>) {
        self.section(title);
        let base = results.first().map_or(1.0, |r| r.median_secs);
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    format!("{:.3}", r.median_secs),
                    bytes.map_or("–".into(), |b| format!("{}/s", size(b / r.median_secs))),
                    format!("{:.2}×", ratio(r.median_secs, base)),
                    format!("{:.1}", r.max_rss_kib as f64 / 1024.0),
                    format!("{} runs", r.samples.len()),
                    format!("`{}`", r.command),
                ]
            })
            .collect();
        self.table(
            &[
                "contender",
                "median s",
                "throughput",
                "time ÷ first",
                "peak RSS MiB",
                "samples",
                "command",
            ],
            &rows,
        );
    }

    /// The whole generated block, markers included.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{BEGIN}");
        s.push_str(&self.header);
        let _ = write!(
            s,
            "\n### Targets\n\n| what | measured | target | met |\n|---|---|---|---|\n"
        );
        for t in &self.targets {
            let _ = writeln!(
                s,
                "| {} | {} | {} {} | {} |",
                t.what,
                num(t.measured),
                if t.at_least { "≥" } else { "≤" },
                num(t.bound),
                if t.met() { "yes" } else { "**no**" }
            );
        }
        s.push_str(&self.body);
        let _ = writeln!(s, "{END}");
        s
    }

    /// Write into `path`: replace the generated block if the file has one, else
    /// write a new file holding just the block.
    pub fn write(&self, path: &Path) -> Result<()> {
        let block = self.render();
        let text = match std::fs::read_to_string(path) {
            Ok(old) => match (old.find(BEGIN), old.find(END)) {
                (Some(b), Some(e)) if b < e => {
                    format!("{}{}{}", &old[..b], block.trim_end(), &old[e + END.len()..])
                }
                _ => format!("{old}\n{block}"),
            },
            Err(_) => format!("# Glassbox performance\n\n{block}"),
        };
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// Facts about the machine the numbers come from.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let flags = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags"))
        .unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let version = |cmd: &str, arg: &str| {
        std::process::Command::new(cmd)
            .arg(arg)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(str::to_owned))
            .unwrap_or_else(|| "not installed".into())
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "| fact | value |\n|---|---|\n\
         | CPU | {model} |\n| cores (nproc) | {} |\n| SHA-NI (`sha_ni`) | {} |\n| AVX2 | {} |\n\
         | memory | {mem} |\n| kernel | {} |\n| openssl | {} |\n| sha256sum | {} |\n| git | {} |\n\
         | load average at start | {} |\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if has("sha_ni") { "yes" } else { "no" },
        if has("avx2") { "yes" } else { "no" },
        kernel.trim(),
        version("openssl", "version"),
        version("sha256sum", "--version"),
        version("git", "--version"),
        load.trim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewriting_keeps_text_outside_the_markers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.md");
        std::fs::write(&path, format!("intro\n{BEGIN}\nold\n{END}\noutro\n")).unwrap();
        let mut r = Report::default();
        r.header("new numbers\n");
        r.target(Target::at_least("speed", 2.0, 1.0));
        r.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("intro\n"));
        assert!(text.ends_with("\noutro\n"));
        assert!(text.contains("new numbers") && !text.contains("old"));
        assert!(text.contains("| speed | 2.00 | ≥ 1.00 | yes |"));
    }

    #[test]
    fn a_missed_target_is_marked() {
        let mut r = Report::default();
        r.target(Target::at_most("latency", 3.0, 1.0));
        assert!(r.render().contains("**no**"));
    }
}
