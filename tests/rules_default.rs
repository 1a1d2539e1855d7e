//! The project's default rule set loads with no error or warning, every rule
//! is restricted to event types, and user files can tune it.

use std::path::{Path, PathBuf};

use saker::rules::{Loader, Severity};

fn default_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/saker_rules.yaml")
}

#[test]
fn default_rules_validate_cleanly() {
    let loaded = saker::rules::load_paths(&[default_rules()]);
    let all: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(all.is_empty(), "{}", all.join("\n"));
    assert_eq!(loaded.rules.len(), loaded.set.rules.len());
    assert!(loaded.rules.len() >= 18);
    for r in &loaded.rules {
        assert!(
            !r.evttypes.is_unbounded(),
            "{} is not restricted to event types",
            r.name
        );
        assert!(r.enabled, "{}", r.name);
    }
    let users = loaded
        .rules
        .iter()
        .find(|r| r.name == "User management binary run outside of container")
        .expect("user management rule");
    assert_eq!(
        users.output,
        "User management binary command run outside of container (user=%user.name command=%proc.cmdline)"
    );
    assert_eq!(users.priority.as_str(), "Warning");
    assert!(users.evttypes.contains("execve"));
    assert!(users.condition_text.contains("useradd"));
}

#[test]
fn user_file_appends_to_lists_and_exceptions() {
    let mut l = Loader::new();
    l.load_path(&default_rules());
    l.load_str(
        "local.yaml",
        "- list: trusted_sensitive_file_readers\n  items: [backup-agent]\n  append: true\n\
         - rule: Write below root\n  exceptions:\n    - name: tools\n      fields: [proc.name]\n      values: [[ansible]]\n  override:\n    exceptions: append\n",
    );
    let loaded = l.finish();
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let rule = |name: &str| loaded.rules.iter().find(|r| r.name == name).expect(name);
    assert!(rule("Sensitive file read by untrusted program")
        .condition_text
        .contains("backup-agent"));
    assert!(rule("Write below root")
        .condition_text
        .ends_with("and (not proc.name = ansible)"));
}

#[test]
fn bad_user_file_leaves_defaults_intact() {
    let mut l = Loader::new();
    l.load_path(&default_rules());
    l.load_str(
        "bad.yaml",
        "- list: shell_binaries\n  items: [nothing]\n- rule: Broken\n  desc: d\n  condition: evt.type = open and proc.nosuch = 1\n  output: o\n  priority: INFO\n",
    );
    let loaded = l.finish();
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let loc = errors[0].location.as_ref().expect("located");
    assert_eq!((loc.file.as_str(), loc.line, loc.col), ("bad.yaml", 5, 34));
    assert!(!loaded.files[1].loaded);
    // The rejected file's list change did not half-apply.
    let shells = loaded.set.list("shell_binaries").expect("list");
    assert!(shells.items.iter().any(|i| i.text == "bash"));
    assert!(loaded.rules.iter().all(|r| r.name != "Broken"));
}
