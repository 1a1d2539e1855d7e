//! Rule evaluation throughput, three ways on the same capture files:
//! `sysdig -r FILE "proc.name=x"` (libsinsp parsing and state, no rule),
//! sysdig with every enabled rule of the rule file (Falco 0.31.1's by
//! default) expanded and OR'd into one filter, and saker's engine with the
//! full rule set (every event, as `-A`) with 1 and 2 workers. Each row is
//! one process run under `/usr/bin/time` (best wall time of N runs, incl.
//! process start and rule compilation; peak RSS the largest): events per
//! second over the file's events, and peak RSS. Prints a table.
//!
//!     cargo run --release --example rule_bench -- [-n N] [-r RULES.yaml] FILE.scap...

use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use saker::capture::Reader;
use saker::engine::{replay, Engine, Options};

/// One measured process run: wall seconds and peak RSS in KiB.
struct Run {
    secs: f64,
    rss_kib: u64,
    /// The process's own report (first stdout line).
    note: String,
    /// Lines it printed.
    lines: usize,
}

/// A table row: best wall time and largest peak RSS over the runs.
struct Row {
    what: String,
    secs: f64,
    rss_kib: u64,
    note: String,
    lines: usize,
}

/// Runs `cmd` under `/usr/bin/time -f "%e %M"`; None when it fails.
fn timed(cmd: &[String]) -> Option<Run> {
    let out_file = std::env::temp_dir().join(format!("rule-bench-time-{}", std::process::id()));
    let start = Instant::now();
    let o = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&out_file)
        .args(cmd)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let secs = start.elapsed().as_secs_f64();
    let t = std::fs::read_to_string(&out_file).ok()?;
    let _ = std::fs::remove_file(&out_file);
    if !o.status.success() {
        return None;
    }
    let rss_kib = t.lines().last()?.split_whitespace().nth(1)?.parse().ok()?;
    let stdout = String::from_utf8_lossy(&o.stdout);
    let note = stdout.lines().next().unwrap_or("").to_string();
    Some(Run {
        secs,
        rss_kib,
        note,
        lines: stdout.lines().count(),
    })
}

/// `n` runs of `cmd`: the best time and its note, the largest peak RSS.
fn best_of(what: &str, cmd: &[String], n: u32) -> Option<Row> {
    let mut row: Option<Row> = None;
    for _ in 0..n {
        let r = timed(cmd)?;
        row = Some(match row {
            None => Row {
                what: what.to_string(),
                secs: r.secs,
                rss_kib: r.rss_kib,
                note: r.note,
                lines: r.lines,
            },
            Some(b) if r.secs < b.secs => Row {
                what: b.what,
                secs: r.secs,
                rss_kib: b.rss_kib.max(r.rss_kib),
                note: r.note,
                lines: r.lines,
            },
            Some(b) => Row {
                rss_kib: b.rss_kib.max(r.rss_kib),
                ..b
            },
        });
    }
    row
}

/// Loads and compiles the rule file; prints why it cannot.
fn engine(rules: &str) -> Option<(saker::rules::Loaded, Engine)> {
    let loaded = saker::rules::load_paths(&[rules]);
    if loaded.has_errors() {
        eprintln!("{rules}: does not load");
        return None;
    }
    let opts = Options {
        all_events: true,
        ..Options::default()
    };
    match Engine::new(&loaded.rules, opts) {
        Ok(e) => Some((loaded, e)),
        Err(errs) => {
            errs.iter().for_each(|e| eprintln!("{e}"));
            None
        }
    }
}

/// Child mode: replays FILE through RULES with WORKERS workers and prints
/// "EVENTS events ALERTS alerts, REPLAY_RATE events/s in the replay".
fn child(workers: usize, path: &str, rules: &str) -> ExitCode {
    let Some((_, engine)) = engine(rules) else {
        return ExitCode::FAILURE;
    };
    let engine = Arc::new(engine);
    let mut r = match Reader::open(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let mut alerts = 0u64;
    match replay::replay(&mut r, &engine, workers, &mut |_| alerts += 1) {
        Ok(s) => {
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{} events, {alerts} alerts, {:.0} events/s in the replay",
                s.events,
                s.events as f64 / secs
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Events in a capture, as saker reads it.
fn count_events(path: &str) -> Option<u64> {
    let mut r = Reader::open(path).ok()?;
    let mut n = 0;
    while r.next_event().ok()?.is_some() {
        n += 1;
    }
    Some(n)
}

fn bench_file(path: &str, rules: &str, n: u32, or_filter: &str, nrules: usize) -> bool {
    let Some(events) = count_events(path) else {
        eprintln!("{path}: cannot be read");
        return false;
    };
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!("\n{path}: {events} events, {size} bytes");
    let me = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let sysdig = |filter: &str| -> Vec<String> {
        let mut v: Vec<String> = ["sysdig", "-r", path, "-p", "%evt.num"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.push(filter.to_string());
        v
    };
    let saker = |workers: &str| -> Vec<String> {
        [me.as_str(), "--child", workers, path, rules]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let plans: Vec<(String, Vec<String>)> = vec![
        ("sysdig -r FILE proc.name=x".into(), sysdig("proc.name=x")),
        (
            format!("sysdig -r FILE <{nrules} rules OR'd>"),
            sysdig(or_filter),
        ),
        (format!("saker, {nrules} rules, 1 worker"), saker("1")),
        (format!("saker, {nrules} rules, 2 workers"), saker("2")),
    ];
    println!(
        "  {:<36} {:>12} {:>9} {:>13}  notes",
        "replay", "events/s", "seconds", "peak RSS KiB"
    );
    let mut ok = true;
    for (what, cmd) in plans {
        match best_of(&what, &cmd, n) {
            Some(row) => {
                // sysdig prints one line per matching event.
                let note = if row.what.starts_with("sysdig") {
                    format!("{} events matched", row.lines)
                } else {
                    row.note.clone()
                };
                println!(
                    "  {:<36} {:>12.0} {:>9.2} {:>13}  {}",
                    row.what,
                    events as f64 / row.secs,
                    row.secs,
                    row.rss_kib,
                    note
                );
            }
            None => {
                println!("  {what:<36} failed (is sysdig / /usr/bin/time installed?)");
                ok = false;
            }
        }
    }
    ok
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--child") {
        let (Some(w), Some(path), Some(rules)) = (args.get(1), args.get(2), args.get(3)) else {
            return ExitCode::from(2);
        };
        return child(w.parse().unwrap_or(1), path, rules);
    }
    let mut n = 1u32;
    let mut rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/rules-upstream/falco_rules-0.31.1.yaml"
    )
    .to_string();
    let mut files = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => n = it.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            "-r" => rules = it.next().unwrap_or_default(),
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("usage: rule_bench [-n N] [-r RULES.yaml] FILE.scap...");
        return ExitCode::from(2);
    }
    let Some((loaded, engine)) = engine(&rules) else {
        return ExitCode::FAILURE;
    };
    let missing = engine.fields_without_extractor();
    println!(
        "{rules}: {} rules; {} fields they read have no extractor yet: {}",
        engine.rules().len(),
        missing.len(),
        missing.join(" ")
    );
    let enabled: Vec<String> = loaded
        .rules
        .iter()
        .filter(|r| r.enabled)
        .map(|r| format!("({})", r.sysdig_filter()))
        .collect();
    let or_filter = enabled.join(" or ");
    let mut ok = true;
    for f in &files {
        ok &= bench_file(f, &rules, n, &or_filter, enabled.len());
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
