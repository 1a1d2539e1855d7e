//! Parity with sysdig: for each enabled rule of Falco 0.31.1's rule set and
//! each capture in ../shared/traces, the events the engine matches equal
//! those `sysdig -r TRACE -p %evt.num "EXPANDED CONDITION"` prints. Pairs
//! where the capture has none of the rule's event types are not run through
//! sysdig (both sides match nothing). Mismatching pairs whose rule reads a
//! field without an extractor yet are listed, not failed; every other pair
//! must agree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use saker::engine::{Engine, Options};
use saker::event::render::type_name;
use saker::filter::eval::{Record, Scratch};
use saker::output::dump::Replay;
use saker::rules::{load_paths, CompiledRule};

/// The capture sysdig 0.29.3 cannot open (SHB options).
const UNOPENABLE: &str = "libs__e2e_curl_google_comments.scap";

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn sysdig_present() -> bool {
    Command::new("sysdig")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Our matches per rule name, and the event type names present.
fn ours(engine: &Engine, trace: &Path) -> (BTreeMap<String, BTreeSet<u64>>, BTreeSet<String>) {
    let mut r = saker::capture::Reader::open(trace).expect("capture opens");
    let mut replay = Replay::new(r.metadata());
    let (mut rec, mut scratch) = (Record::default(), Scratch::default());
    let mut hits: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut types = BTreeSet::new();
    while let Some(e) = r.next_event().expect("capture reads") {
        let Some(ctx) = replay.step(&e) else { continue };
        types.insert(type_name(&e).to_string());
        engine.process_ctx(&ctx, &mut rec, &mut scratch, &mut |a| {
            hits.entry(a.rule).or_default().insert(ctx.num);
        });
    }
    (hits, types)
}

fn sysdig(trace: &Path, filter: &str) -> Result<BTreeSet<u64>, String> {
    let o = Command::new("sysdig")
        .arg("-r")
        .arg(trace)
        .args(["-p", "%evt.num", filter])
        .output()
        .map_err(|e| e.to_string())?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(err.lines().next().unwrap_or("failed").to_string());
    }
    Ok(String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

fn relevant(rule: &CompiledRule, types: &BTreeSet<String>) -> bool {
    rule.evttypes.is_unbounded() || types.iter().any(|t| rule.evttypes.contains(t))
}

#[test]
fn rules_match_the_events_sysdig_matches() {
    if !sysdig_present() {
        println!("skipped: sysdig is not installed");
        return;
    }
    let rules = shared().join("rules-upstream/falco_rules-0.31.1.yaml");
    let loaded = load_paths(&[rules]);
    assert!(!loaded.has_errors());
    let opts = Options {
        all_events: true,
        all_matches: true,
        ..Options::default()
    };
    let engine = Engine::new(&loaded.rules, opts).expect("rules compile");
    let mut traces: Vec<PathBuf> = std::fs::read_dir(shared().join("traces"))
        .expect("traces")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scap"))
        .filter(|p| !p.ends_with(UNOPENABLE))
        .collect();
    traces.sort();
    let (mut agree, mut trivial, mut known, mut bad) = (0, 0, Vec::new(), Vec::new());
    for trace in &traces {
        let (hits, types) = ours(&engine, trace);
        let tname = trace.file_name().unwrap_or_default().to_string_lossy();
        for rule in loaded.rules.iter().filter(|r| r.enabled) {
            if !relevant(rule, &types) {
                trivial += 1;
                continue;
            }
            let mine = hits.get(&rule.name).cloned().unwrap_or_default();
            let line = match sysdig(trace, &rule.sysdig_filter()) {
                Ok(theirs) if theirs == mine => {
                    agree += 1;
                    continue;
                }
                Ok(theirs) => {
                    let only_ours: Vec<_> = mine.difference(&theirs).take(5).collect();
                    let only_sysdig: Vec<_> = theirs.difference(&mine).take(5).collect();
                    format!(
                        "{tname} / {}: saker {} vs sysdig {} events; only saker {only_ours:?}, \
                         only sysdig {only_sysdig:?}",
                        rule.name,
                        mine.len(),
                        theirs.len()
                    )
                }
                Err(e) => format!("{tname} / {}: sysdig rejects the filter: {e}", rule.name),
            };
            let mut one = saker::filter::compile::FieldTable::default();
            let _ = saker::filter::compile::compile(&rule.condition, &mut one);
            let missing: Vec<&str> = one
                .fields()
                .iter()
                .filter(|b| !b.has_extractor())
                .map(|b| b.display.as_str())
                .collect();
            if missing.is_empty() {
                bad.push(line);
            } else {
                known.push(format!("{line} [no extractor: {}]", missing.join(", ")));
            }
        }
    }
    known.iter().for_each(|k| println!("known: {k}"));
    bad.iter().for_each(|b| println!("MISMATCH: {b}"));
    println!(
        "parity: {agree} rule×trace pairs agree, {trivial} have none of the rule's event types, \
         {} differ on fields without extractors, {} differ otherwise",
        known.len(),
        bad.len()
    );
    assert!(bad.is_empty(), "{} mismatches", bad.len());
}
