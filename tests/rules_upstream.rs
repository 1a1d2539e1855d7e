//! Falco's own rule files (2016, 0.31.1, 5.1.0) load with no error, every
//! field they name is in the catalog, and the expanded conditions printed for
//! them are accepted by sysdig's filter parser.

use std::path::{Path, PathBuf};
use std::process::Command;

use saker::filter::ast::{ExprKind, Operand, Rhs};
use saker::filter::catalog;
use saker::rules::{load_paths, output, Loaded};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!("skipped: {} is absent", p.display());
        None
    }
}

const FILES: [&str; 4] = [
    "falco_rules-0.1.0-2016.yaml",
    "falco_rules-0.2.0-2016.yaml",
    "falco_rules-0.31.1.yaml",
    "falco_rules-5.1.0.yaml",
];

fn load(name: &str) -> Option<Loaded> {
    let path = shared()?.join("rules-upstream").join(name);
    Some(load_paths(&[path]))
}

#[test]
fn upstream_files_load_without_errors() {
    for name in FILES {
        let Some(l) = load(name) else { return };
        let errors: Vec<String> = l
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
        assert!(!l.rules.is_empty(), "{name}: no rules");
        assert_eq!(
            l.rules.len(),
            l.set.rules.len(),
            "{name}: every rule compiles"
        );
        println!(
            "{name}: {} rules, {} macros, {} lists, {} warnings",
            l.rules.len(),
            l.set.macros.len(),
            l.set.lists.len(),
            l.diagnostics.len()
        );
    }
}

#[test]
fn falco_0_31_1_rules_load_without_warnings() {
    // Falco's test suite runs its builtin rules with `rules_warning: False`.
    let Some(l) = load("falco_rules-0.31.1.yaml") else {
        return;
    };
    let all: Vec<String> = l.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(all.is_empty(), "{}", all.join("\n"));
}

fn fields_of(l: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    for r in &l.rules {
        r.condition.walk(&mut |e| {
            let mut push = |o: &Operand| out.push(o.field().to_string());
            match &e.kind {
                ExprKind::Exists(o) => push(o),
                ExprKind::Compare { lhs, rhs, .. } => {
                    push(lhs);
                    if let Rhs::Field(o) = rhs {
                        push(o);
                    }
                }
                _ => {}
            }
        });
        out.extend(output::tokens(&r.output).into_iter().map(|t| t.field));
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_field_of_5_1_0_is_in_the_catalog() {
    let Some(l) = load("falco_rules-5.1.0.yaml") else {
        return;
    };
    let fields = fields_of(&l);
    let missing: Vec<&String> = fields
        .iter()
        .filter(|f| {
            let (name, arg) = match f.find('[') {
                Some(p) => (&f[..p], Some(f[p + 1..].trim_end_matches(']'))),
                None => (f.as_str(), None),
            };
            catalog::lookup(name, arg).is_err()
        })
        .collect();
    println!(
        "5.1.0 uses {} distinct fields; not in the catalog: {missing:?}",
        fields.len()
    );
    assert!(missing.is_empty());
    assert!(fields.len() > 40);
}

#[test]
fn sysdig_accepts_expanded_conditions() {
    let Some(dir) = shared() else { return };
    if Command::new("sysdig").arg("--version").output().is_err() {
        println!("skipped: sysdig is not installed");
        return;
    }
    let trace = dir.join("traces/falco__cat_write.scap");
    // sysdig 0.29 knows the fields of these files, not all of 5.1.0's.
    for name in &FILES[..3] {
        let Some(l) = load(name) else { return };
        for r in &l.rules {
            let cond = r.sysdig_filter();
            let out = Command::new("sysdig")
                .arg("-r")
                .arg(&trace)
                .args(["-p", "%evt.num", &cond])
                .output()
                .expect("run sysdig");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && !stderr.contains("error"),
                "{name}: rule {:?}: sysdig rejects\n{cond}\n{stderr}",
                r.name
            );
        }
    }
}
