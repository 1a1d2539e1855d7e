//! Falco 0.31.1's own test cases about loading rules, run as data: every case
//! of `falco_tests*.yaml` that checks validation or load errors, load
//! warnings or the event types of rules runs against saker's loader. Cases
//! that check detections on captures are left to the engine's suite; here
//! their rule files only have to load without errors.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use saker::filter::evttype::EvtTypes;
use saker::rules::yaml::NodeKind;
use saker::rules::{load_paths, Loaded};

mod falco_suite;
use falco_suite::{cases, suite_dir, Case};

/// The load error Falco reports: the line after `N errors:`, or the whole
/// expectation when it has no such line.
fn expected_error(text: &str) -> (Option<usize>, String) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if let Some(n) = l
            .trim()
            .strip_suffix(" errors:")
            .and_then(|p| p.rsplit(' ').next())
        {
            let count = n.parse().ok();
            return (count, lines.get(i + 1).unwrap_or(&"").trim().to_string());
        }
    }
    (None, text.trim().to_string())
}

/// Whether one of our messages says what Falco's says: one contains the other
/// (Falco prefixes some with the rule name or the condition).
fn same_message(falco: &str, ours: &str) -> bool {
    let f = falco.replace(".*", "").replace("\\.", ".");
    f.contains(ours) || ours.contains(f.trim())
}

fn load(dir: &Path, files: &[String]) -> Loaded {
    let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    load_paths(&paths)
}

#[derive(Default)]
struct Tally {
    passed: Vec<String>,
    skipped: Vec<(String, &'static str)>,
    failed: Vec<String>,
}

fn check_error_case(dir: &Path, case: &Case, files: &[String], t: &mut Tally) {
    let loaded = load(dir, files);
    let (count, message) = expected_error(&case.expected_text());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    let last = dir.join(files.last().map_or("", String::as_str));
    let last = last.display().to_string();
    let in_last = errors
        .iter()
        .filter(|d| d.location.as_ref().is_some_and(|l| l.file == last))
        .count();
    let matched = errors.iter().any(|d| same_message(&message, &d.message));
    let count_ok = count.is_none_or(|n| n == in_last);
    // Files listed as `Ok` before the failing one must have loaded.
    let earlier_ok = loaded.files[..loaded.files.len().saturating_sub(1)]
        .iter()
        .all(|f| f.loaded);
    if matched && count_ok && earlier_ok && !errors.is_empty() {
        t.passed.push(case.name.clone());
    } else {
        let got: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
        t.failed.push(format!(
            "{}: expected {count:?} error(s) like {message:?} in {last}; got:\n{}",
            case.name,
            got.join("\n")
        ));
    }
}

/// `rules_warning: [rule...]` names exactly the rules that draw warnings;
/// `rules_warning: False` means no warning at all.
fn check_warnings(case: &Case, loaded: &Loaded, t: &mut Tally) -> bool {
    let listed = case.strings("rules_warning");
    if case.node.get("rules_warning").is_none() {
        return true;
    }
    let warned: BTreeSet<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .filter_map(|d| {
            d.item
                .as_ref()
                .filter(|i| i.kind == "rule")
                .map(|i| i.name.clone())
        })
        .collect();
    let want: BTreeSet<String> = listed.into_iter().filter(|r| r != "False").collect();
    let others = loaded.diagnostics.iter().filter(|d| !d.is_error()).count();
    if warned != want || (want.is_empty() && others > 0) {
        t.failed.push(format!(
            "{}: warnings for rules {warned:?} ({others} warnings in all), want {want:?}",
            case.name
        ));
        return false;
    }
    true
}

/// `rules_events: [{rule: [types]}]`; Falco 0.31 answers `[all]` for any rule
/// with a negation before an event type test, where saker computes the exact
/// set, so only bounded expectations are compared.
fn check_events(case: &Case, loaded: &Loaded, t: &mut Tally) -> (bool, usize) {
    let Some(NodeKind::Seq(entries)) = case.node.get("rules_events").map(|n| &n.kind) else {
        return (true, 0);
    };
    let mut ok = true;
    let mut unbounded = 0;
    for e in entries {
        let NodeKind::Map(pairs) = &e.kind else {
            continue;
        };
        for (k, v) in pairs {
            let rule = k.as_str().unwrap_or("");
            let NodeKind::Seq(types) = &v.kind else {
                continue;
            };
            let want: BTreeSet<String> = types
                .iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect();
            if want.contains("all") {
                unbounded += 1;
                continue;
            }
            let got = loaded
                .rules
                .iter()
                .find(|r| r.name == rule)
                .map(|r| &r.evttypes);
            if got != Some(&EvtTypes::Only(want.clone())) {
                t.failed.push(format!(
                    "{}: rule {rule}: event types {got:?}, want {want:?}",
                    case.name
                ));
                ok = false;
            }
        }
    }
    (ok, unbounded)
}

fn run_case(dir: &Path, case: &Case, t: &mut Tally) {
    let validate = case.strings("validate_rules_file");
    let rules = case.strings("rules_file");
    let stderr = case.strings("stderr_contains").join("\n");
    if !validate.is_empty() {
        if case.exit_status() == 1 {
            return check_error_case(dir, case, &validate, t);
        }
        let loaded = load(dir, &validate);
        if loaded.has_errors() {
            t.failed.push(format!("{}: unexpected errors", case.name));
        } else {
            t.passed.push(case.name.clone());
        }
        return;
    }
    if case.exit_status() == 1 {
        let is_load_error = [
            "has 'append' key",
            "errors:",
            "Rules require engine version",
        ]
        .iter()
        .any(|k| stderr.contains(k));
        if is_load_error && !rules.is_empty() {
            return check_error_case(dir, case, &rules, t);
        }
        t.skipped.push((
            case.name.clone(),
            "checks a runtime option or drop handling, not rule loading",
        ));
        return;
    }
    // Without rules_file, Falco 0.31.1 runs its default rules.
    let rules = if rules.is_empty() {
        vec!["../rules-upstream/falco_rules-0.31.1.yaml".to_string()]
    } else {
        rules
    };
    if case.name == "syscalls" {
        t.skipped.push((
            case.name.clone(),
            "expects Falco 0.31's warning for syscalls it ignores (madvise); saker ignores none",
        ));
        return;
    }
    let loaded = load(dir, &rules);
    if loaded.has_errors() {
        let errs: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        t.failed.push(format!(
            "{}: rules do not load:\n{}",
            case.name,
            errs.join("\n")
        ));
        return;
    }
    let warn_ok = check_warnings(case, &loaded, t);
    let (events_ok, unbounded) = check_events(case, &loaded, t);
    if warn_ok && events_ok {
        let what = if case.node.get("rules_warning").is_some()
            || case.node.get("rules_events").is_some()
        {
            "warnings/event types"
        } else {
            "rules load; detection is the engine suite's"
        };
        t.passed.push(format!(
            "{} ({what}{})",
            case.name,
            if unbounded > 0 {
                format!(", {unbounded} [all] entries not compared")
            } else {
                String::new()
            }
        ));
    }
}

#[test]
fn falco_suite_load_cases() {
    let Some(dir) = suite_dir() else { return };
    let mut t = Tally::default();
    for file in ["falco_tests.yaml", "falco_tests_exceptions.yaml"] {
        for case in cases(&dir, file) {
            run_case(&dir, &case, &mut t);
        }
    }
    for case in cases(&dir, "falco_tests_psp.yaml") {
        t.skipped.push((
            case.name,
            "rules generated from a PodSecurityPolicy by Falco's converter",
        ));
    }
    for p in &t.passed {
        println!("pass: {p}");
    }
    for (s, why) in &t.skipped {
        println!("skip: {s}: {why}");
    }
    for f in &t.failed {
        println!("FAIL: {f}");
    }
    println!(
        "falco suite: {} passed, {} failed, {} skipped",
        t.passed.len(),
        t.failed.len(),
        t.skipped.len()
    );
    assert!(t.failed.is_empty(), "{} failing cases", t.failed.len());
    assert!(t.passed.len() > 60);
}
