//! The rule-related command line: `-V`, `-L`, `--list`, `--version`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn saker(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saker"))
        .args(args)
        .output()
        .expect("run saker")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("saker-rules-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn validate_reports_position_and_caret() {
    let bad = temp_file(
        "bad.yaml",
        "- macro: m\n  condition: evt.type=open and\n    proc.name = cat foo\n",
    );
    let out = saker(&["-V", bad.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let want = format!(
        "{}:3:21: error: Compilation error when compiling \"evt.type=open and proc.name = cat foo\": 35: \
         syntax error, unexpected 'foo', expecting 'or', 'and' (macro 'm') [LOAD_ERR_COMPILE_CONDITION]\n      \
         proc.name = cat foo\n                      ^",
        bad.display()
    );
    assert!(stdout.contains(&want), "{stdout}");
    assert!(stdout.contains(": 1 errors, 0 warnings:"), "{stdout}");
}

#[test]
fn validate_several_files_in_order() {
    let base = temp_file("base.yaml", "- list: l\n  items: [a]\n- rule: r\n  desc: d\n  condition: evt.type=open and proc.name in (l)\n  output: o\n  priority: INFO\n");
    let more = temp_file("more.yaml", "- list: l\n  items: [b]\n  append: true\n");
    let out = saker(&["-V", base.to_str().unwrap(), "-V", more.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("{}: Ok", base.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: Ok", more.display())),
        "{stdout}"
    );
    let out = saker(&[
        "-L",
        "--expanded",
        "-r",
        base.to_str().unwrap(),
        "-r",
        more.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("condition: evt.type = open and proc.name in (a, b)"),
        "{stdout}"
    );
}

#[test]
fn list_fields_and_version() {
    let out = saker(&["--list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("proc.aname[N]"), "{stdout}");
    assert!(stdout.contains("Field Class: fd"), "{stdout}");
    let out = saker(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("saker {}", env!("CARGO_PKG_VERSION"))
    );
}
