//! Helpers for the sink tests: temporary directories and sample alerts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::alert::{Alert, FieldValue, Priority};
use super::sink::Rendered;

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory named after `tag`.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("saker-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An alert of `priority` whose output is `output`.
pub fn alert(output: &str, priority: Priority) -> Alert {
    Alert {
        time_ns: 1_470_327_477_882_054_739,
        rule: "Test rule".into(),
        priority,
        source: "syscall".into(),
        hostname: "host1".into(),
        output: output.into(),
        output_fields: vec![("proc.name".into(), FieldValue::Str("cat".into()))],
        tags: vec!["test".into()],
    }
}

/// A Warning alert whose line is `line`.
pub fn rendered(line: &str) -> Rendered {
    Rendered {
        alert: alert(line, Priority::Warning),
        line: line.into(),
    }
}
