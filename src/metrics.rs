//! The daemon's counters and gauges, and their Prometheus text exposition:
//! events and drops per CPU, events processed, alerts per rule and priority,
//! output queue depths and drops, state table sizes, reloads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::output::alert::Priority;
use crate::output::queue::SinkSnapshot;
use crate::ring::CpuCounters;

/// Everything the daemon counts; shared between its threads.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Events the daemon processed (parsed and applied to state).
    pub events_processed: AtomicU64,
    /// Events that did not parse.
    pub events_invalid: AtomicU64,
    /// Threads in the state table.
    pub state_threads: AtomicU64,
    /// Open descriptors in the state tables.
    pub state_fds: AtomicU64,
    /// Containers in the state table.
    pub state_containers: AtomicU64,
    /// Successful reloads (SIGHUP).
    pub reloads: AtomicU64,
    /// Reloads refused because the new configuration or rules were invalid.
    pub reload_failures: AtomicU64,
    /// Loaded rules (enabled ones).
    pub rules_loaded: AtomicU64,
    /// The module's counters per CPU, as last read.
    per_cpu: Mutex<Vec<CpuCounters>>,
    /// Alerts raised per (rule, priority).
    alerts: Mutex<BTreeMap<(String, Priority), u64>>,
    /// The output sinks' counters, as last read.
    outputs: Mutex<Vec<SinkSnapshot>>,
    /// Alerts below the priority threshold.
    pub alerts_filtered: AtomicU64,
    /// Alerts held back by the output rate limit.
    pub alerts_rate_limited: AtomicU64,
}

/// A per-sink metric: name, type, help, and how to read it.
type SinkMetric = (
    &'static str,
    &'static str,
    &'static str,
    fn(&SinkSnapshot) -> u64,
);

/// Escapes a label value for the exposition format.
fn label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Metrics {
    /// Records the sizes of the state tables.
    pub fn set_state_sizes(&self, state: &crate::state::State) {
        let set = |g: &AtomicU64, n: usize| g.store(n as u64, Ordering::Relaxed);
        set(&self.state_threads, state.threads.len());
        set(&self.state_fds, state.threads.fd_count());
        set(&self.state_containers, state.containers.len());
    }

    /// Empty metrics.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts an alert of `rule` at `priority`.
    pub fn count_alert(&self, rule: &str, priority: Priority) {
        if let Ok(mut m) = self.alerts.lock() {
            *m.entry((rule.to_string(), priority)).or_insert(0) += 1;
        }
    }

    /// Stores the module's per-CPU counters.
    pub fn set_per_cpu(&self, c: Vec<CpuCounters>) {
        if let Ok(mut m) = self.per_cpu.lock() {
            *m = c;
        }
    }

    /// Stores the sinks' counters.
    pub fn set_outputs(&self, s: Vec<SinkSnapshot>) {
        if let Ok(mut m) = self.outputs.lock() {
            *m = s;
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let simple: [(&str, &str, &str, &AtomicU64); 10] = [
            (
                "saker_events_processed_total",
                "counter",
                "Events parsed and applied to state.",
                &self.events_processed,
            ),
            (
                "saker_events_invalid_total",
                "counter",
                "Events that did not parse.",
                &self.events_invalid,
            ),
            (
                "saker_state_threads",
                "gauge",
                "Threads in the state table.",
                &self.state_threads,
            ),
            (
                "saker_state_fds",
                "gauge",
                "Open descriptors in the state tables.",
                &self.state_fds,
            ),
            (
                "saker_state_containers",
                "gauge",
                "Containers in the state table.",
                &self.state_containers,
            ),
            (
                "saker_rules_loaded",
                "gauge",
                "Enabled rules loaded.",
                &self.rules_loaded,
            ),
            (
                "saker_reloads_total",
                "counter",
                "Configuration and rule reloads.",
                &self.reloads,
            ),
            (
                "saker_reload_failures_total",
                "counter",
                "Reloads refused (invalid configuration or rules).",
                &self.reload_failures,
            ),
            (
                "saker_alerts_filtered_total",
                "counter",
                "Alerts below the priority threshold.",
                &self.alerts_filtered,
            ),
            (
                "saker_alerts_rate_limited_total",
                "counter",
                "Alerts held back by the output rate limit (outputs.rate).",
                &self.alerts_rate_limited,
            ),
        ];
        for (name, kind, help, v) in simple {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        }

        let cpus = self.per_cpu.lock().map(|c| c.clone()).unwrap_or_default();
        header(
            &mut out,
            "saker_kernel_events_total",
            "counter",
            "Events the kernel module stored, per CPU.",
        );
        for (cpu, c) in cpus.iter().enumerate() {
            let _ = writeln!(
                out,
                "saker_kernel_events_total{{cpu=\"{cpu}\"}} {}",
                c.events
            );
        }
        header(
            &mut out,
            "saker_kernel_drops_total",
            "counter",
            "Events the kernel module dropped, per CPU and cause.",
        );
        for (cpu, c) in cpus.iter().enumerate() {
            for (cause, n) in [
                ("full", c.drops_full),
                ("reentry", c.drops_reentry),
                ("toolarge", c.drops_toolarge),
            ] {
                let _ = writeln!(
                    out,
                    "saker_kernel_drops_total{{cpu=\"{cpu}\",cause=\"{cause}\"}} {n}"
                );
            }
        }
        header(
            &mut out,
            "saker_kernel_faulted_events_total",
            "counter",
            "Events stored with a parameter left empty because reading user memory faulted, per CPU.",
        );
        for (cpu, c) in cpus.iter().enumerate() {
            let _ = writeln!(
                out,
                "saker_kernel_faulted_events_total{{cpu=\"{cpu}\"}} {}",
                c.drops_fault
            );
        }

        header(
            &mut out,
            "saker_alerts_total",
            "counter",
            "Alerts raised, per rule and priority.",
        );
        if let Ok(alerts) = self.alerts.lock() {
            for ((rule, p), n) in alerts.iter() {
                let _ = writeln!(
                    out,
                    "saker_alerts_total{{rule=\"{}\",priority=\"{}\"}} {n}",
                    label(rule),
                    p.name()
                );
            }
        }

        let sinks = self.outputs.lock().map(|s| s.clone()).unwrap_or_default();
        let per_sink: [SinkMetric; 4] = [
            (
                "saker_output_queue_depth",
                "gauge",
                "Alerts waiting in an output's queue.",
                |s| s.queued as u64,
            ),
            (
                "saker_output_sent_total",
                "counter",
                "Alerts an output sent.",
                |s| s.sent,
            ),
            (
                "saker_output_dropped_total",
                "counter",
                "Alerts dropped because an output's queue was full.",
                |s| s.dropped,
            ),
            (
                "saker_output_errors_total",
                "counter",
                "Alerts an output failed to send.",
                |s| s.errors,
            ),
        ];
        for (name, kind, help, get) in per_sink {
            header(&mut out, name, kind, help);
            for s in &sinks {
                let _ = writeln!(out, "{name}{{output=\"{}\"}} {}", s.name, get(s));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_exposition_format() {
        let m = Metrics::new();
        m.events_processed.store(42, Ordering::Relaxed);
        m.state_threads.store(7, Ordering::Relaxed);
        m.state_fds.store(12, Ordering::Relaxed);
        m.set_per_cpu(vec![
            CpuCounters {
                events: 10,
                drops_full: 2,
                ..CpuCounters::default()
            },
            CpuCounters {
                events: 5,
                drops_fault: 1,
                ..CpuCounters::default()
            },
        ]);
        m.count_alert("Write below etc", Priority::Error);
        m.count_alert("Write below etc", Priority::Error);
        m.count_alert("Say \"hi\"", Priority::Notice);
        m.set_outputs(vec![SinkSnapshot {
            name: "file_output",
            queued: 3,
            sent: 9,
            dropped: 4,
            errors: 1,
        }]);
        let text = m.render();
        for line in [
            "# TYPE saker_events_processed_total counter",
            "saker_events_processed_total 42",
            "saker_state_threads 7",
            "saker_state_fds 12",
            "saker_kernel_events_total{cpu=\"0\"} 10",
            "saker_kernel_events_total{cpu=\"1\"} 5",
            "saker_kernel_drops_total{cpu=\"0\",cause=\"full\"} 2",
            "saker_kernel_faulted_events_total{cpu=\"1\"} 1",
            "saker_alerts_total{rule=\"Write below etc\",priority=\"Error\"} 2",
            "saker_alerts_total{rule=\"Say \\\"hi\\\"\",priority=\"Notice\"} 1",
            "saker_output_queue_depth{output=\"file_output\"} 3",
            "saker_output_dropped_total{output=\"file_output\"} 4",
            "saker_output_errors_total{output=\"file_output\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every sample line is `name{labels} value` with a numeric value.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let v = l.rsplit(' ').next().unwrap();
            assert!(v.parse::<u64>().is_ok(), "{l}");
        }
    }
}
