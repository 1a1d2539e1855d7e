//! Tests of configuration loading: values, overrides, warnings and errors.

use super::*;

fn load_ok(text: &str, overrides: &[&str]) -> Loaded {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    match from_text("saker.yaml", Some(text), &o) {
        Ok(l) => l,
        Err(e) => panic!("{text:?} {overrides:?}: {e:?}"),
    }
}

fn load_err(text: &str, overrides: &[&str]) -> Vec<Error> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    match from_text("saker.yaml", Some(text), &o) {
        Ok(l) => panic!("{text:?} {overrides:?} loaded: {:?}", l.config),
        Err(e) => e,
    }
}

#[test]
fn values_are_read() {
    type Check = fn(&Config) -> bool;
    let cases: &[(&str, &[&str], Check)] = &[
        ("json_output: true", &[], |c| c.json_output),
        ("json_output: yes", &[], |c| c.json_output),
        ("json_include_output_property: false", &[], |c| {
            !c.json_include_output_property
        }),
        ("json_include_tags_property: false", &[], |c| {
            !c.json_include_tags_property
        }),
        ("time_format_iso_8601: true", &[], |c| c.time_format_iso_8601),
        ("outputs:\n  rate: 1\n  max_burst: 1000\n", &[], |c| {
            c.outputs_rate == 1.0 && c.outputs_max_burst == 1000
        }),
        ("priority: warning", &[], |c| c.priority == Priority::Warning),
        ("priority: INFO", &[], |c| c.priority == Priority::Informational),
        ("buffered_outputs: true", &[], |c| c.buffered_outputs),
        ("rules_file: /a.yaml", &[], |c| c.rules_files == [PathBuf::from("/a.yaml")]),
        ("rules_file:\n  - /a.yaml\n  - /etc/saker/rules.d\n", &[], |c| {
            c.rules_files == [PathBuf::from("/a.yaml"), PathBuf::from("/etc/saker/rules.d")]
        }),
        ("rules_files: [x, y]", &[], |c| c.rules_files.len() == 2),
        ("stdout_output:\n  enabled: false\n", &[], |c| !c.stdout_output),
        ("syslog_output: {enabled: false, path: /tmp/log.sock}", &[], |c| {
            !c.syslog_output.enabled && c.syslog_output.path == Path::new("/tmp/log.sock")
        }),
        (
            "file_output:\n  enabled: true\n  keep_alive: true\n  filename: /var/log/saker.txt\n",
            &[],
            |c| {
                c.file_output
                    == FileOutput {
                        enabled: true,
                        keep_alive: true,
                        filename: "/var/log/saker.txt".into(),
                    }
            },
        ),
        (
            "program_output:\n  enabled: true\n  program: \"jq '{text: .output}'\"\n",
            &[],
            |c| c.program_output.enabled && c.program_output.program == "jq '{text: .output}'",
        ),
        ("http_output:\n  enabled: true\n  url: http://127.0.0.1:2801/\n", &[], |c| {
            c.http_output.enabled && c.http_output.url == "http://127.0.0.1:2801/"
        }),
        ("log_stderr: false\nlog_syslog: false\nlog_level: debug\n", &[], |c| {
            !c.log_stderr && !c.log_syslog && c.log_level == LogLevel::Debug
        }),
        (
            "syscall_event_drops:\n  threshold: .2\n  actions: [log, exit]\n  rate: 1\n  max_burst: 10\n",
            &[],
            |c| {
                c.syscall_event_drops
                    == DropPolicy {
                        threshold: 0.2,
                        actions: vec![DropAction::Log, DropAction::Exit],
                        rate: 1.0,
                        max_burst: 10,
                    }
            },
        ),
        ("metrics:\n  enabled: false\n", &[], |c| !c.metrics),
        (
            "webserver:\n  enabled: true\n  listen_port: 9000\n  k8s_healthz_endpoint: /health\n",
            &[],
            |c| {
                c.webserver.enabled
                    && c.webserver.listen_port == 9000
                    && c.webserver.k8s_healthz_endpoint == "/health"
                    && c.webserver.listen_address == "127.0.0.1"
            },
        ),
        ("syscall_buf_size_preset: 4", &[], |c| c.ring_bytes() == Some(8 << 20)),
        ("syscall_buf_size_preset: 0", &[], |c| c.ring_bytes().is_none()),
        ("rule_workers: 4", &[], |c| c.rule_workers == 4),
        ("json_output: true", &[], |c| c.rule_workers == 1),
        ("outputs_queue:\n  capacity: 5\n", &[], |c| c.outputs_queue_capacity == 5),
        // Overrides: dotted keys, YAML values, applied after the file.
        ("json_output: false", &["json_output=true"], |c| c.json_output),
        ("", &["file_output.enabled=true", "file_output.filename=/x"], |c| {
            c.file_output.enabled && c.file_output.filename == Path::new("/x")
        }),
        ("", &["rules_file=[/a, /b]"], |c| c.rules_files.len() == 2),
        ("", &["webserver={enabled: true, listen_port: 1}"], |c| {
            c.webserver.enabled && c.webserver.listen_port == 1
        }),
        ("priority: debug", &["priority=critical"], |c| c.priority == Priority::Critical),
        // An empty document keeps the defaults.
        ("", &[], |c| *c == Config::default()),
        ("# only a comment\n", &[], |c| *c == Config::default()),
    ];
    for (text, overrides, check) in cases {
        let l = load_ok(text, overrides);
        assert!(check(&l.config), "{text:?} {overrides:?}: {:?}", l.config);
        assert!(l.warnings.is_empty(), "{text:?}: {:?}", l.warnings);
    }
}

#[test]
fn unknown_keys_warn_with_positions() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "frobnicate: 1\n",
            &[],
            &["saker.yaml:1:1: unknown configuration key \"frobnicate\""],
        ),
        (
            "json_output: true\nfile_output:\n  enabled: false\n  colour: red\n",
            &[],
            &["saker.yaml:4:3: unknown configuration key \"file_output.colour\""],
        ),
        (
            "",
            &["nope.key=1"],
            &["-o nope.key:1:1: unknown configuration key \"nope.key\""],
        ),
        (
            "load_plugins: []\nplugins: []\n",
            &[],
            &["saker.yaml:1:1: unknown", "saker.yaml:2:1: unknown"],
        ),
    ];
    for (text, overrides, expected) in cases {
        let l = load_ok(text, overrides);
        let got: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(got.len(), expected.len(), "{text:?}: {got:?}");
        for (g, e) in got.iter().zip(expected.iter()) {
            assert!(
                g.starts_with(e),
                "{text:?}: {g:?} does not start with {e:?}"
            );
        }
    }
}

#[test]
fn invalid_values_fail_with_positions() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("json_output: maybe\n", &[], "saker.yaml:1:14: invalid value of json_output: expected true or false"),
        ("priority: loud\n", &[], "saker.yaml:1:11: invalid value of priority: unknown priority"),
        (
            "webserver:\n  listen_port: 70000\n",
            &[],
            "saker.yaml:2:16: invalid value of webserver.listen_port: expected an integer from 0 to 65535",
        ),
        (
            "webserver:\n  listen_address: localhost\n",
            &[],
            "saker.yaml:2:19: invalid value of webserver.listen_address: expected an IP address",
        ),
        (
            "http_output:\n  url: https://example.org/\n",
            &[],
            "saker.yaml:2:8: invalid value of http_output.url: https:// is not supported",
        ),
        ("http_output:\n  url: ftp://x\n", &[], "saker.yaml:2:8: invalid value of http_output.url: expected an http:// URL"),
        ("syscall_buf_size_preset: 11\n", &[], "saker.yaml:1:26: invalid value of syscall_buf_size_preset"),
        ("rule_workers: 0\n", &[], "saker.yaml:1:15: invalid value of rule_workers"),
        (
            "syscall_event_drops:\n  actions: [log, shout]\n",
            &[],
            "saker.yaml:2:12: invalid value of syscall_event_drops.actions: unknown action \"shout\"",
        ),
        ("syscall_event_drops:\n  threshold: 2\n", &[], "saker.yaml:2:14: invalid value of syscall_event_drops.threshold"),
        ("file_output: true\n", &[], "saker.yaml:1:14: invalid value of file_output: expected a mapping"),
        ("stdout_output:\n  enabled: [1]\n", &[], "saker.yaml:2:12: invalid value of stdout_output.enabled: expected a scalar"),
        ("log_level: chatty\n", &[], "saker.yaml:1:12: invalid value of log_level: unknown log level"),
        ("- a\n- b\n", &[], "saker.yaml:1:1: the configuration must be a mapping"),
        ("json_output: [\n", &[], "saker.yaml:"),
        ("", &["json_output"], "-o: -o \"json_output\": expected key=value"),
        ("", &["json_output=perhaps"], "-o json_output:1:1: invalid value of json_output"),
        ("", &["file_output.filename="], "-o file_output.filename:1:1: invalid value of file_output.filename: expected a string"),
    ];
    for (text, overrides, expected) in cases {
        let errors = load_err(text, overrides);
        let first = errors[0].to_string();
        assert!(
            first.starts_with(expected),
            "{text:?}: {first:?}\n  expected {expected:?}"
        );
    }
}

#[test]
fn all_errors_are_collected_and_rendered_with_a_caret() {
    let errors = load_err(
        "json_output: 3\npriority: x\nlog_stderr: y\n",
        &["log_syslog=z"],
    );
    // `y` is YAML 1.1's yes, as yaml-cpp reads it.
    let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [1, 2, 1]);
    assert_eq!(
        errors[1].render(),
        "saker.yaml:2:11: invalid value of priority: unknown priority \"x\" (expected \
         emergency, alert, critical, error, warning, notice, informational, info or debug)\n\
         priority: x\n          ^"
    );
}

#[test]
fn missing_files_fail_and_the_packaged_file_loads_clean() {
    let e = load(Path::new("/nonexistent/saker.yaml"), &[]).unwrap_err();
    assert!(e[0]
        .to_string()
        .starts_with("/nonexistent/saker.yaml: cannot read"));
    let packaged = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/etc/saker.yaml");
    let l = load(Path::new(packaged), &[]).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(l.config.rules_files, Config::default().rules_files);
    assert!(l.config.syslog_output.enabled && l.config.stdout_output);
}
