//! Rule evaluation throughput: replays a capture N times from memory through
//! Falco 0.31.1's full rule set (every event, `-A`) with 1 and 2 workers and
//! prints events per second and the peak RSS, next to
//! `sysdig -r FILE "proc.name=x"` (one filter, the baseline) on the same
//! decompressed file when sysdig is installed.
//!
//!     cargo run --release --example rule_bench -- FILE.scap [N] [RULES.yaml]

use std::io::Read;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use saker::capture::Reader;
use saker::engine::{replay, Engine, Options};

/// Peak resident set size of this process in KiB (VmHWM).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: rule_bench FILE.scap [N] [RULES.yaml]");
        return ExitCode::from(2);
    };
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let rules = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/rules-upstream/falco_rules-0.31.1.yaml"
        )
        .to_string()
    });
    let raw = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        if let Err(e) = flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out) {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
        out
    } else {
        raw
    };
    let loaded = saker::rules::load_paths(&[&rules]);
    if loaded.has_errors() {
        eprintln!("{rules}: does not load");
        return ExitCode::FAILURE;
    }
    let opts = Options {
        all_events: true,
        ..Options::default()
    };
    let engine = match Engine::new(&loaded.rules, opts) {
        Ok(e) => Arc::new(e),
        Err(errs) => {
            errs.iter().for_each(|e| eprintln!("{e}"));
            return ExitCode::FAILURE;
        }
    };
    let missing = engine.fields_without_extractor();
    println!(
        "{} fields the rules read have no extractor yet (no value): {}",
        missing.len(),
        missing.join(" ")
    );
    let mut per_run = 0;
    let mut rates = Vec::new();
    for workers in [1, 2] {
        let start = Instant::now();
        let (mut events, mut alerts) = (0u64, 0u64);
        for _ in 0..n {
            let Ok(mut r) = Reader::new(path.as_str(), &bytes[..]) else {
                return ExitCode::FAILURE;
            };
            match replay::replay(&mut r, &engine, workers, &mut |_| alerts += 1) {
                Ok(s) => events += s.events,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        per_run = events / u64::from(n);
        let rate = events as f64 / secs;
        rates.push(rate);
        println!(
            "rules ({} rules), {workers} worker(s): {rate:>12.0} events/s \
             ({per_run} events x {n} runs, {secs:.3} s, {} alerts/run), peak RSS {} KiB",
            engine.rules().len(),
            alerts / u64::from(n),
            peak_rss_kib()
        );
    }
    let tmp = std::env::temp_dir().join(format!("rule-bench-{}.scap", std::process::id()));
    if std::fs::write(&tmp, &bytes).is_err() {
        return ExitCode::SUCCESS;
    }
    let start = Instant::now();
    let mut ok = true;
    for _ in 0..n {
        let out = Command::new("sysdig")
            .arg("-r")
            .arg(&tmp)
            .arg("proc.name=x")
            .output();
        ok &= out.is_ok_and(|o| o.status.success());
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&tmp);
    if ok {
        let base = (per_run * u64::from(n)) as f64 / secs;
        println!(
            "sysdig -r FILE proc.name=x: {base:>12.0} events/s ({secs:.3} s, incl. process start); \
             saker full rule set is {:.2}x (1 worker), {:.2}x (2 workers)",
            rates[0] / base,
            rates[1] / base
        );
    } else {
        println!("sysdig -r FILE proc.name=x: not run (sysdig not installed or failed)");
    }
    ExitCode::SUCCESS
}
