//! Falco 0.31.1's regression suite as data: where it is, and its cases
//! (`trace_files` entries of `falco_tests*.yaml`) with typed accessors.
//! Shared by the rule-loading and the detection suites.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use saker::rules::yaml::{parse_documents, Node, NodeKind};

/// The suite's directory (../shared/falco-tests-0.31.1), if present.
pub fn suite_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/falco-tests-0.31.1");
    if p.is_dir() {
        Some(p)
    } else {
        println!("skipped: {} is absent", p.display());
        None
    }
}

/// One case: its name and its mapping.
pub struct Case {
    /// The case name.
    pub name: String,
    /// Its mapping.
    pub node: Node,
}

impl Case {
    /// A scalar or sequence of scalars as strings.
    pub fn strings(&self, key: &str) -> Vec<String> {
        match self.node.get(key).map(|n| &n.kind) {
            Some(NodeKind::Scalar(s, _)) => vec![s.clone()],
            Some(NodeKind::Seq(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The expected exit status (0 when absent).
    pub fn exit_status(&self) -> i64 {
        self.node
            .get("exit_status")
            .and_then(Node::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The text of stdout_is / stdout_contains / stderr_contains.
    pub fn expected_text(&self) -> String {
        ["stdout_is", "stdout_contains", "stderr_contains"]
            .iter()
            .flat_map(|k| self.strings(k))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The cases of one suite file.
pub fn cases(dir: &Path, file: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join(file)).expect("read suite");
    let docs = parse_documents(&text).expect("suite parses");
    let Some(NodeKind::Map(pairs)) = docs[0].get("trace_files").map(|n| &n.kind) else {
        panic!("{file}: no trace_files");
    };
    pairs
        .iter()
        .map(|(k, v)| Case {
            name: k.as_str().unwrap_or("").to_string(),
            node: v.clone(),
        })
        .collect()
}
