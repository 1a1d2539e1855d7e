//! Parse throughput: replays a capture N times from memory on one core and
//! prints events per second for reading alone and for reading with state
//! and formatting, next to `sysdig -r FILE -q` on the same (decompressed)
//! file when sysdig is installed.
//!
//!     cargo run --release --example parse_bench -- FILE.scap [N]

use std::io::Read;
use std::process::{Command, ExitCode};
use std::time::Instant;

use saker::capture::Reader;
use saker::output::dump::dump;
use saker::output::format::{Format, DEFAULT_FORMAT};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse_bench FILE.scap [N]");
        return ExitCode::from(2);
    };
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
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

    let start = Instant::now();
    let mut events = 0u64;
    for _ in 0..n {
        let mut r = match Reader::new(path.as_str(), &bytes[..]) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        loop {
            match r.next_event() {
                Ok(Some(e)) => {
                    std::hint::black_box(e.param(0));
                    events += 1;
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let read_secs = start.elapsed().as_secs_f64();
    let per_run = events / u64::from(n);
    println!(
        "read:            {:>12.0} events/s ({per_run} events x {n} runs, {read_secs:.3} s)",
        events as f64 / read_secs
    );

    let Ok(fmt) = Format::parse(DEFAULT_FORMAT) else {
        return ExitCode::FAILURE;
    };
    let start = Instant::now();
    for _ in 0..n {
        let Ok(mut r) = Reader::new(path.as_str(), &bytes[..]) else {
            return ExitCode::FAILURE;
        };
        if let Err(e) = dump(&mut r, &fmt, &mut std::io::sink()) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let dump_secs = start.elapsed().as_secs_f64();
    let dump_rate = (per_run * u64::from(n)) as f64 / dump_secs;
    println!("read+state+fmt:  {dump_rate:>12.0} events/s ({dump_secs:.3} s)");

    // Baseline: sysdig on the same decompressed bytes, same run count.
    let tmp = std::env::temp_dir().join(format!("parse-bench-{}.scap", std::process::id()));
    if std::fs::write(&tmp, &bytes).is_err() {
        return ExitCode::SUCCESS;
    }
    let start = Instant::now();
    let mut ok = true;
    for _ in 0..n {
        let out = Command::new("sysdig")
            .arg("-r")
            .arg(&tmp)
            .arg("-q")
            .output();
        ok &= out.is_ok_and(|o| o.status.success());
    }
    let base_secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&tmp);
    if ok {
        let base_rate = (per_run * u64::from(n)) as f64 / base_secs;
        println!(
            "sysdig -r -q:    {base_rate:>12.0} events/s ({base_secs:.3} s, incl. process start); \
             saker read+state+fmt is {:.1}x",
            dump_rate / base_rate
        );
    } else {
        println!("sysdig -r -q:    not run (sysdig not installed or failed)");
    }
    ExitCode::SUCCESS
}
