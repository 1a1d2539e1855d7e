//! Conformance of capture reading, `saker dump` and capture writing against
//! the public trace corpus (../shared/traces) and sysdig as the oracle.
//!
//! Tests skip with a message when the corpus or sysdig is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use saker::capture::{Reader, Writer};

const COMMENTS: &str = "libs__e2e_curl_google_comments.scap";
const TWIN: &str = "libs__e2e_curl_google.scap";

fn traces() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: no trace corpus at {}", dir.display());
        return None;
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scap"))
        .collect();
    v.sort();
    Some(v)
}

fn have_sysdig() -> bool {
    let ok = Command::new("sysdig").arg("--version").output().is_ok();
    if !ok {
        eprintln!("skipping: sysdig is not installed (the oracle)");
    }
    ok
}

fn name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Event count and type sequence of a capture.
fn read_all(p: &Path) -> (u64, Vec<u16>) {
    let mut r = Reader::open(p).unwrap_or_else(|e| panic!("{e}"));
    let mut types = Vec::new();
    while let Some(e) = r.next_event().unwrap_or_else(|e| panic!("{e}")) {
        types.push(e.event_type());
    }
    (types.len() as u64, types)
}

fn run(cmd: &mut Command) -> Vec<String> {
    let out = cmd.output().expect("run command");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn sysdig(p: &Path, fmt: &str) -> Vec<String> {
    // saker shows times in UTC.
    run(Command::new("sysdig")
        .env("TZ", "UTC")
        .arg("-r")
        .arg(p)
        .arg("-p")
        .arg(fmt))
}

fn saker_dump(p: &Path, fmt: &str) -> Vec<String> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_saker"));
    c.arg("dump").arg(p).arg("-p").arg(fmt);
    let out = c.output().expect("run saker");
    assert!(
        out.status.success(),
        "saker dump {}: {}",
        p.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Lines equal at the same position.
fn matching(a: &[String], b: &[String]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x == y).count()
}

#[test]
fn every_trace_reads_to_the_end() {
    let Some(traces) = traces() else { return };
    let mut counts = BTreeMap::new();
    for p in &traces {
        let (n, types) = read_all(p);
        counts.insert(name(p).to_string(), (n, types));
    }
    // The pcapng-comment copy holds the same events as its original.
    if let (Some(a), Some(b)) = (counts.get(COMMENTS), counts.get(TWIN)) {
        assert_eq!(a.0, b.0, "event count of {COMMENTS}");
        assert_eq!(a.1, b.1, "event types of {COMMENTS}");
        assert!(a.0 > 1000);
    }
}

#[test]
fn dump_equals_sysdig_basic_fields() {
    let Some(traces) = traces() else { return };
    if !have_sysdig() {
        return;
    }
    let fmt = "%evt.num %evt.type %thread.tid %evt.dir";
    for p in traces.iter().filter(|p| name(p) != COMMENTS) {
        let want = sysdig(p, fmt);
        let got = saker_dump(p, fmt);
        assert_eq!(got.len(), want.len(), "{}: line count", name(p));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{}: line {}", name(p), i + 1);
        }
    }
}

/// Formats compared line by line, with the traces where every line is
/// expected to be equal.
const STRICT: &[(&str, &[&str])] = &[
    // Single arguments show their resolved form alone.
    (
        "*%evt.num %evt.arg.name %evt.arg.fd %evt.arg.res %evt.arg[0] %evt.rawres %evt.arg[1]",
        &[
            "bencer__example0_nginx.scap",
            "bencer__example4-1_php_mysql.scap",
            "falco__cat_write.scap",
            "falco__connect_localhost.scap",
            "falco__empty.scap",
            "falco__open-multiple-files.scap",
            "falco__ping_sendto.scap",
            "falco__psp_privileged.scap",
            "falco__psp_run_as_user_0_container.scap",
            "falco__psp_run_as_user_65534_container.scap",
            "falco__psp_write_tmp_test.scap",
            "falco__syscall.scap",
            "libs__e2e_curl_google.scap",
            "libs__e2e_single_ipv6_conn.scap",
            "libs__sample.scap",
        ],
    ),
    // sysdig's default line format (no -p).
    (
        "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info",
        &[
            "bencer__example0_nginx.scap",
            "bencer__example4-1_php_mysql.scap",
            "falco__cat_write.scap",
            "falco__connect_localhost.scap",
            "falco__empty.scap",
            "falco__open-multiple-files.scap",
            "falco__ping_sendto.scap",
            "falco__psp_privileged.scap",
            "falco__psp_run_as_user_0_container.scap",
            "falco__psp_run_as_user_65534_container.scap",
            "falco__psp_write_tmp_test.scap",
            "falco__syscall.scap",
            "libs__e2e_curl_google.scap",
            "libs__e2e_single_ipv6_conn.scap",
            "libs__sample.scap",
        ],
    ),
    (
        "%evt.num %evt.time %evt.cpu %evt.args",
        &[
            "bencer__example0_nginx.scap",
            "bencer__example4-1_php_mysql.scap",
            "falco__cat_write.scap",
            "falco__connect_localhost.scap",
            "falco__empty.scap",
            "falco__open-multiple-files.scap",
            "falco__ping_sendto.scap",
            "falco__psp_privileged.scap",
            "falco__psp_run_as_user_0_container.scap",
            "falco__psp_run_as_user_65534_container.scap",
            "falco__psp_write_tmp_test.scap",
            "falco__syscall.scap",
            "libs__e2e_curl_google.scap",
            "libs__e2e_single_ipv6_conn.scap",
            "libs__sample.scap",
        ],
    ),
    (
        "*%evt.num %proc.name %fd.name %fd.num %proc.cmdline %proc.exe %user.name %proc.pid \
         %proc.ppid %user.uid %thread.tid %evt.res %proc.exepath %proc.cwd",
        &[
            "bencer__example0_nginx.scap",
            "bencer__example4-1_php_mysql.scap",
            "falco__cat_write.scap",
            "falco__connect_localhost.scap",
            "falco__empty.scap",
            "falco__open-multiple-files.scap",
            "falco__ping_sendto.scap",
            "falco__psp_privileged.scap",
            "falco__psp_run_as_user_0_container.scap",
            "falco__psp_run_as_user_65534_container.scap",
            "falco__psp_write_tmp_test.scap",
            "falco__syscall.scap",
            "libs__e2e_curl_google.scap",
            "libs__e2e_single_ipv6_conn.scap",
            "libs__sample.scap",
        ],
    ),
];

#[test]
fn dump_equals_sysdig_strict_fields() {
    let Some(traces) = traces() else { return };
    if !have_sysdig() {
        return;
    }
    for (fmt, exact) in STRICT {
        eprintln!("format {fmt:?}:");
        for p in traces.iter().filter(|p| name(p) != COMMENTS) {
            let want = sysdig(p, fmt);
            let got = saker_dump(p, fmt);
            let same = matching(&got, &want);
            eprintln!("  {:>5}/{:<5} {}", same, want.len(), name(p));
            if exact.contains(&name(p)) {
                assert_eq!(got, want, "{}: {fmt}", name(p));
            }
        }
    }
}

#[test]
fn rewritten_traces_read_the_same_in_sysdig() {
    let Some(traces) = traces() else { return };
    if !have_sysdig() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("saker-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fmt = "%evt.num %evt.type %thread.tid %evt.dir %evt.args";
    for p in traces.iter().filter(|p| name(p) != COMMENTS) {
        let out = dir.join(name(p));
        let mut r = Reader::open(p).unwrap();
        let file = std::fs::File::create(&out).unwrap();
        let mut w = Writer::new(file, r.metadata()).unwrap();
        while let Some(e) = r.next_event().unwrap() {
            w.write_event(e.cpu(), e.raw()).unwrap();
        }
        w.finish().unwrap();
        let want = sysdig(p, fmt);
        let got = sysdig(&out, fmt);
        assert_eq!(got.len(), want.len(), "{}: line count", name(p));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{}: line {}", name(p), i + 1);
        }
        // And saker reads its own output to the same events.
        assert_eq!(read_all(&out).1, read_all(p).1, "{}", name(p));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dump_reports_malformed_files_with_offset() {
    let dir = std::env::temp_dir().join(format!("saker-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut w = Writer::new(Vec::new(), &Default::default()).unwrap();
    let mut ev = vec![0u8; 26];
    ev[16] = 26; // length
    ev[20] = 4; // close enter, no parameters
    w.write_event(0, &ev).unwrap();
    let good = w.finish().unwrap();
    let cases = [
        (
            "truncated.scap",
            good[..good.len() - 6].to_vec(),
            "truncated event block",
        ),
        (
            "garbage.scap",
            b"not a capture at all".to_vec(),
            "not a scap capture",
        ),
    ];
    for (file, bytes, cause) in cases {
        let path = dir.join(file);
        std::fs::write(&path, &bytes).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_saker"))
            .arg("dump")
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file}");
        assert!(
            err.contains(&format!("{}: offset ", path.display())),
            "{err}"
        );
        assert!(err.contains(cause), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupted_traces_never_panic() {
    use std::io::Read;
    let Some(traces) = traces() else { return };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for p in &traces {
        let raw = std::fs::read(p).unwrap();
        let mut bytes = Vec::new();
        if raw.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut bytes)
                .unwrap();
        } else {
            bytes = raw;
        }
        for _ in 0..40 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut b = bytes.clone();
            let at = (seed as usize) % b.len();
            b[at] ^= (seed >> 32) as u8 | 1;
            let cut = b.len() - (seed >> 40) as usize % 64;
            let Ok(mut r) = Reader::new("corrupt", &b[..cut]) else {
                continue;
            };
            let mut replay = saker::output::dump::Replay::new(r.metadata());
            let mut line = String::new();
            while let Ok(Some(e)) = r.next_event() {
                if let Some(ctx) = replay.step(&e) {
                    line.clear();
                    saker::event::render::args(&e, Some(&ctx), &mut line);
                }
            }
        }
    }
}
