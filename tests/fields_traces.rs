//! The fields Falco rules read (containers, process lineage, open flags,
//! socket ends) compared with sysdig on the public trace corpus: line by
//! line where saker's state agrees with sysdig's, and with a floor on the
//! share of equal lines where the state is known to differ (thread parents
//! seen only through later events).
//!
//! Tests skip with a message when the corpus or sysdig is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn trace(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/traces")
        .join(name);
    if !p.exists() {
        eprintln!("skipping: no trace {}", p.display());
        return None;
    }
    if Command::new("sysdig").arg("--version").output().is_err() {
        eprintln!("skipping: sysdig is not installed (the oracle)");
        return None;
    }
    Some(p)
}

fn lines(cmd: &mut Command) -> Vec<String> {
    let out = cmd.output().expect("run command");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Equal lines and sysdig's line count.
fn compare(name: &str, fmt: &str) -> Option<(usize, usize)> {
    let p = trace(name)?;
    let want = lines(
        Command::new("sysdig")
            .env("TZ", "UTC")
            .arg("-r")
            .arg(&p)
            .arg("-p")
            .arg(fmt),
    );
    let got = lines(
        Command::new(env!("CARGO_BIN_EXE_saker"))
            .arg("dump")
            .arg(&p)
            .arg("-p")
            .arg(fmt),
    );
    assert_eq!(got.len(), want.len(), "{name} {fmt}: line count");
    let same = got.iter().zip(&want).filter(|(g, w)| g == w).count();
    Some((same, want.len()))
}

/// (format, trace, lowest share of equal lines in percent).
const CASES: &[(&str, &str, usize)] = &[
    (
        "*%evt.num %evt.is_open_read %evt.is_open_write %evt.is_open_exec %fd.filename",
        "falco__cat_write.scap",
        100,
    ),
    (
        "*%evt.num %evt.is_open_read %evt.is_open_write %evt.is_open_exec %fd.filename",
        "sysdig-inspect__502Error.scap",
        100,
    ),
    (
        "*%evt.num %proc.vpid %thread.vtid %proc.tty %proc.duration %proc.env %proc.aname[1] %proc.aname[2]",
        "bencer__example4-1_php_mysql.scap",
        100,
    ),
    (
        "*%evt.num %proc.vpid %proc.tty %proc.duration %proc.env %proc.aname[2] %user.loginname",
        "falco__psp_run_as_user_0_container.scap",
        99,
    ),
    (
        "*%evt.num %user.uid %user.name %group.name",
        "bencer__example4-1_php_mysql.scap",
        100,
    ),
    (
        "*%evt.num %proc.pcmdline %proc.aname[3]",
        "falco__psp_run_as_user_0_container.scap",
        70,
    ),
    (
        "*%evt.num %container.id %container.name",
        "falco__psp_privileged.scap",
        100,
    ),
    (
        "*%evt.num %container.id",
        "falco__psp_run_as_user_0_container.scap",
        100,
    ),
    (
        "*%evt.num %fd.cip %fd.sip %fd.cport %fd.sport %fd.sockfamily %fd.connected %fd.cip.name",
        "libs__e2e_curl_google.scap",
        100,
    ),
    (
        "*%evt.num %fd.cip %fd.sip %fd.sport %fd.sockfamily %fd.connected",
        "bencer__example4-1_php_mysql.scap",
        97,
    ),
    (
        "*%evt.num %fd.lip %fd.rip %fd.lport %fd.rport %fd.l4proto %fd.name_changed",
        "libs__e2e_curl_google.scap",
        98,
    ),
    (
        "*%evt.num %fd.directory %fd.filename",
        "sysdig-inspect__502Error.scap",
        95,
    ),
];

#[test]
fn rule_fields_match_sysdig() {
    let mut failed = Vec::new();
    for (fmt, name, floor) in CASES {
        let Some((same, total)) = compare(name, fmt) else {
            continue;
        };
        if total == 0 || same * 100 < total * floor {
            failed.push(format!(
                "{name} {fmt}: {same}/{total} lines equal, want {floor}%"
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
