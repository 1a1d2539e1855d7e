//! `saker capture` on a host without the module: the error says how to load
//! it, and the arguments are checked before anything is opened.

use std::process::Command;

fn saker(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_saker"))
        .args(args)
        .output()
        .expect("run saker");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_device_names_the_module_to_load() {
    let dir = std::env::temp_dir().join(format!("saker-capture-cli-{}", std::process::id()));
    let file = dir.join("never.scap");
    let cases: &[&[&str]] = &[
        &["capture", "-w"],
        &["capture", "-s", "execve,open", "-w"],
        &["capture", "-M", "1", "--snaplen", "256", "-w"],
    ];
    for args in cases {
        let mut args: Vec<&str> = args.to_vec();
        args.push(file.to_str().unwrap());
        args.extend(["--device", "/nonexistent/saker"]);
        let (code, err) = saker(&args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(
            err.contains("/nonexistent/saker does not exist")
                && err.contains("insmod driver/saker.ko"),
            "{args:?}: {err}"
        );
        assert!(!file.exists(), "no file is created before the device opens");
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let cases: &[&[&str]] = &[
        &["capture"],
        &["capture", "-w", "x.scap", "-M", "soon"],
        &["capture", "-w", "x.scap", "--snaplen", "-1"],
    ];
    for args in cases {
        let (code, err) = saker(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains("error:"), "{args:?}: {err}");
    }
}
