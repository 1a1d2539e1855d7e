//! Replay through the engine: alerts come out in event order and the same
//! for 1, 2 and 4 workers across many batches; the `saker -r RULES -e FILE`
//! command prints Falco's lines and summary; `saker dump FILE FILTER`
//! prints the events sysdig's filter prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use saker::engine::{replay, Engine, Options};
use saker::output::alert::Alert;

fn traces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces")
}

fn rules_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("saker-engine-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const RULES: &str = "\
- rule: reads
  desc: every read exit
  condition: evt.type = read and evt.dir = <
  output: read by %proc.name fd=%fd.num res=%evt.rawres
  priority: NOTICE
- rule: proxy and client activity
  desc: what haproxy and curl do, reads aside
  condition: >
    evt.type in (read, epoll_pwait, recvfrom, close, open, fstat)
    and proc.name in (haproxy, curl)
  output: seen %proc.name %evt.type (%proc.pid)
  priority: WARNING
  tags: [web]
";

fn run(trace: &Path, rules: &Path, workers: usize, all_events: bool) -> Vec<Alert> {
    let loaded = saker::rules::load_paths(&[rules]);
    assert!(!loaded.has_errors());
    let opts = Options {
        all_events,
        ..Options::default()
    };
    let engine = Arc::new(Engine::new(&loaded.rules, opts).expect("compiles"));
    let mut r = saker::capture::Reader::open(trace).expect("open");
    let mut v = Vec::new();
    replay::replay(&mut r, &engine, workers, &mut |a| v.push(a)).expect("replay");
    v
}

#[test]
fn alerts_are_identical_and_ordered_for_any_worker_count() {
    let trace = traces().join("sysdig-inspect__502Error.scap");
    if !trace.is_file() {
        println!("skipped: {} is absent", trace.display());
        return;
    }
    let rules = rules_file("many.yaml", RULES);
    let one = run(&trace, &rules, 1, true);
    assert!(one.len() > 3000, "{} alerts", one.len());
    assert!(one.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
    for workers in [2, 4] {
        assert!(
            run(&trace, &rules, workers, true) == one,
            "{workers} workers"
        );
    }
    // Without -A, reads (EF_DROP_SIMPLE_CONS) are not evaluated.
    let default = run(&trace, &rules, 2, false);
    assert!(default.iter().all(|a| a.rule != "reads"));
    assert!(default.len() < one.len());
}

/// A rule matching every event whose output reads the event, its thread
/// and process lineage, its descriptors, users and container: workers see
/// the state through snapshots, which must render exactly what the state
/// thread sees.
const EVERYTHING: &str = "\
- rule: everything
  desc: every event, with many fields
  condition: evt.num > 0
  output: >
    %evt.num %evt.type %evt.dir %evt.args %evt.arg[0] %evt.res %evt.latency
    %proc.name %proc.pid %proc.cmdline %proc.exepath %proc.cwd %proc.pname %proc.ppid
    %proc.aname[2] %proc.aname[3] %proc.apid[2] %proc.sid %proc.vpid %proc.loginshellid
    %thread.tid %user.name %user.loginname %group.name %fd.num %fd.name %fd.type
    %fd.cip %fd.sip %fd.cport %fd.sport %fd.l4proto %fd.is_server %fd.directory
    %container.id %container.name %container.image %evt.is_open_read %fd.lip %fd.rip
    %group.gid %group.name %proc.pexe %proc.pexepath %proc.aexepath[2]
  priority: INFO
";

#[test]
fn snapshots_give_workers_what_the_state_thread_sees() {
    let rules = rules_file("everything.yaml", EVERYTHING);
    let names = [
        "sysdig-inspect__502Error.scap",
        "bencer__example4-1_php_mysql.scap",
        "falco__psp_privileged.scap",
        "libs__e2e_curl_google.scap",
        "falco__connect_localhost.scap",
    ];
    let mut checked = 0;
    for name in names {
        let trace = traces().join(name);
        if !trace.is_file() {
            continue;
        }
        let one = run(&trace, &rules, 1, true);
        assert!(!one.is_empty(), "{name}");
        let two = run(&trace, &rules, 2, true);
        assert_eq!(one.len(), two.len(), "{name}");
        for (a, b) in one.iter().zip(&two) {
            assert_eq!(a.output, b.output, "{name}");
            assert_eq!(a.output_fields, b.output_fields, "{name}");
        }
        checked += 1;
    }
    assert!(checked > 0, "no trace found");
}

/// Fields with several values per event compare as libsinsp compares
/// them: `proc.aname` without an index against every ancestor, `fd.ip`,
/// `fd.net` and `fd.port` against both ends (`!=` only when neither end is
/// equal; a socket with no address has unspecified ends).
#[test]
fn multi_valued_fields_filter_as_sysdig_does() {
    let cases = [
        ("libs__e2e_curl_google.scap", "proc.aname = bash"),
        (
            "bencer__example4-1_php_mysql.scap",
            "proc.aname in (sshd, bash, sh)",
        ),
        ("bencer__example4-1_php_mysql.scap", "proc.aname != bash"),
        ("sysdig-inspect__502Error.scap", "fd.port != 80"),
        ("sysdig-inspect__502Error.scap", "fd.port in (80, 443)"),
        ("bencer__example4-1_php_mysql.scap", "fd.port > 100"),
        ("libs__e2e_single_ipv6_conn.scap", "fd.port = 0"),
        ("sysdig-inspect__502Error.scap", "fd.net != 127.0.0.0/8"),
        ("bencer__example4-1_php_mysql.scap", "fd.ip = 127.0.0.1"),
        ("bencer__example4-1_php_mysql.scap", "fd.ip != 0.0.0.0"),
        ("libs__e2e_curl_google.scap", "fd.ip = ::"),
    ];
    for (name, f) in cases {
        let trace = traces().join(name);
        if !trace.is_file() {
            continue;
        }
        let t = trace.to_str().unwrap();
        let Ok(theirs) = Command::new("sysdig")
            .args(["-r", t, "-p", "%evt.num", f])
            .output()
        else {
            println!("skipped: sysdig is not installed");
            return;
        };
        let ours = saker(&["dump", t, "-p", "%evt.num", f]);
        assert_eq!(ours.status.code(), Some(0), "{name} / {f}");
        assert!(!ours.stdout.is_empty(), "{name} / {f}: no event matches");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{name} / {f}"
        );
    }
}

fn saker(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saker"))
        .args(args)
        .output()
        .expect("run saker")
}

#[test]
fn replay_command_prints_alerts_and_summary() {
    let trace = traces().join("falco__cat_write.scap");
    if !trace.is_file() {
        println!("skipped: {} is absent", trace.display());
        return;
    }
    let rules = rules_file(
        "cat.yaml",
        "- rule: cat opens\n  desc: d\n  condition: evt.type=open and evt.dir=< and proc.name=cat\n  \
         output: opened %fd.name by %proc.cmdline\n  priority: WARNING\n",
    );
    let (r, t) = (rules.to_str().unwrap(), trace.to_str().unwrap());
    for workers in ["1", "2"] {
        let out = saker(&["-r", r, "-e", t, "--workers", workers]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stdout.starts_with(
                "16:17:57.881785348: Warning opened /etc/ld.so.cache by cat /dev/null\n"
            ),
            "{stdout}"
        );
        assert_eq!(stdout.lines().count(), 4, "{stdout}");
        assert!(
            stderr.contains(
                "Events detected: 4\nRule counts by severity:\n   WARNING: 4\n\
                 Triggered rules by rule name:\n   cat opens: 4\n"
            ),
            "{stderr}"
        );
    }
    let out = saker(&[
        "-r",
        r,
        "-e",
        t,
        "-o",
        "json_output=true",
        "-o",
        "priority=error",
    ]);
    assert_eq!(out.stdout, b"");
    let out = saker(&["-r", r, "-e", t, "-o", "json_output=true"]);
    let first = String::from_utf8_lossy(&out.stdout);
    let first = first.lines().next().unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(first).expect("json");
    assert_eq!(v["rule"], "cat opens");
    assert_eq!(v["priority"], "Warning");
    assert_eq!(v["output_fields"]["fd.name"], "/etc/ld.so.cache");
    assert_eq!(v["time"], "2016-08-04T16:17:57.881785348Z");
}

#[test]
fn dump_filter_prints_what_sysdig_prints() {
    let trace = traces().join("falco__cat_write.scap");
    if !trace.is_file() {
        println!("skipped: {} is absent", trace.display());
        return;
    }
    let t = trace.to_str().unwrap();
    let filters = [
        "evt.type=open and evt.dir=<",
        "proc.name=cat and not evt.type in (mmap, close)",
        "fd.name startswith /etc",
    ];
    for f in filters {
        let ours = saker(&["dump", t, "-p", "%evt.num %evt.type %fd.name", f]);
        assert_eq!(ours.status.code(), Some(0));
        let Ok(theirs) = Command::new("sysdig")
            .args(["-r", t, "-p", "%evt.num %evt.type %fd.name", f])
            .output()
        else {
            println!("skipped: sysdig is not installed");
            return;
        };
        assert!(!ours.stdout.is_empty(), "{f}");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{f}"
        );
    }
    let bad = saker(&["dump", t, "proc.pid = x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("column 12"));
}

/// Falco's own expected output on `cat_write` with ISO times, as text
/// (`stdout_output_strict`) and as JSON (`stdout_output_json_strict`,
/// compared as values; saker adds the host name).
#[test]
fn replay_output_matches_falco_files() {
    let suite = traces().join("../falco-tests-0.31.1");
    let trace = traces().join("falco__cat_write.scap");
    if !suite.is_dir() || !trace.is_file() {
        println!("skipped: the Falco suite or its capture is absent");
        return;
    }
    let rules = suite.join("rules/single_rule.yaml");
    let (r, t) = (rules.to_str().unwrap(), trace.to_str().unwrap());
    let iso = "time_format_iso_8601=true";
    let text = saker(&["-r", r, "-e", t, "-o", iso]);
    let want = std::fs::read_to_string(suite.join("output_files/single_rule_with_cat_write.txt"))
        .expect("expected text");
    assert_eq!(
        String::from_utf8_lossy(&text.stdout).trim_end(),
        want.trim_end()
    );
    let tagged = suite.join("rules/single_rule_with_tags.yaml");
    let r = tagged.to_str().unwrap();
    let json = saker(&["-r", r, "-e", t, "-o", iso, "-o", "json_output=true"]);
    let want = std::fs::read_to_string(suite.join("output_files/single_rule_with_cat_write.json"))
        .expect("expected json");
    let got = String::from_utf8_lossy(&json.stdout);
    assert_eq!(got.lines().count(), want.lines().count());
    for (g, w) in got.lines().zip(want.lines()) {
        let mut g: serde_json::Value = serde_json::from_str(g).expect("our json");
        let w: serde_json::Value = serde_json::from_str(w).expect("falco json");
        if let Some(m) = g.as_object_mut() {
            m.remove("hostname");
        }
        assert_eq!(g, w);
    }
}

/// What the engine decides once per event type (`fields::evt::fixed`) is
/// what the extractors give for every event of that type.
#[test]
fn fields_fixed_per_event_type_hold_on_every_event() {
    use saker::filter::bind::Binding;
    use saker::filter::fields::evt::fixed;
    use saker::output::dump::Replay;
    let names = [
        "evt.is_open_read",
        "evt.is_open_write",
        "evt.is_open_exec",
        "evt.res",
        "evt.rawres",
        "fd.name",
        "fd.directory",
        "fd.filename",
        "fd.typechar",
    ];
    let bindings: Vec<Binding> = names
        .iter()
        .map(|n| Binding::resolve_name(n, None).expect("field"))
        .collect();
    let (mut checked, mut text) = (0, String::new());
    for name in [
        "sysdig-inspect__502Error.scap",
        "bencer__example4-1_php_mysql.scap",
        "falco__cat_write.scap",
        "libs__e2e_curl_google.scap",
        "bencer__example0_nginx.scap",
    ] {
        let trace = traces().join(name);
        if !trace.is_file() {
            continue;
        }
        let mut r = saker::capture::Reader::open(&trace).expect("open");
        let mut replay = Replay::new(r.metadata());
        while let Some(e) = r.next_event().expect("read") {
            let Some(ctx) = replay.step(&e) else { continue };
            let ty = e.info().map_or("<unknown>", |i| i.name);
            let creates_fd = e
                .info()
                .is_some_and(|i| i.flags & saker::event::schema::EF_CREATES_FD != 0);
            for (n, b) in names.iter().zip(&bindings) {
                let Some(want) = fixed(n, ty, e.is_enter(), creates_fd) else {
                    continue;
                };
                text.clear();
                let got = b.extract(&ctx, &mut text).then_some(text.as_str());
                assert_eq!(got, want, "{name} event {} ({ty}): {n}", ctx.num);
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "{checked} values checked");
}
