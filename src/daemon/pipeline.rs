//! The event thread: reads the source, applies each event to the state in
//! order, hands it to the evaluator and queues the alerts; watches the
//! module's drop counters (`syscall_event_drops`); takes a new evaluator or
//! new outputs between events on reload.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::evaluator::Evaluator;
use super::log::Logger;
use super::source::{Captured, Poll, Source, SourceSpec, Wanted};
use crate::config::{DropAction, DropPolicy};
use crate::metrics::Metrics;
use crate::output::alert::{now_ns, Alert, FieldValue, Priority};
use crate::output::queue::Outputs;
use crate::ring::session::Backoff;
use crate::ring::CpuCounters;

/// What the event thread shares with the daemon's main thread.
pub struct Shared {
    /// Set to stop the thread.
    pub stop: AtomicBool,
    /// An evaluator to switch to before the next event (reload).
    pub next_evaluator: Mutex<Option<Box<dyn Evaluator>>>,
    /// Event types to capture from now on (reload).
    pub next_interest: Mutex<Option<Wanted>>,
    /// Where alerts go; replaced on reload.
    pub outputs: RwLock<Arc<Outputs>>,
    /// The drop policy; replaced on reload.
    pub drops: Mutex<DropPolicy>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Daemon messages.
    pub log: Arc<Logger>,
    /// The machine's host name, for the daemon's own alerts.
    pub hostname: String,
}

/// How the event thread ended: events processed, or why it failed.
pub type Outcome = Result<u64, String>;

/// The running event thread.
pub struct Pipeline {
    shared: Arc<Shared>,
    done: Receiver<Outcome>,
    handle: Option<JoinHandle<()>>,
}

/// Token bucket limiting drop actions (`rate` per second, `max_burst`).
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, p: &DropPolicy) -> bool {
        let now = Instant::now();
        let max = f64::from(p.max_burst);
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * p.rate).min(max);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Compares the module's counters with the previous second's and runs the
/// drop actions. Returns true if the daemon must exit.
fn check_drops(
    sh: &Shared,
    prev: &mut Vec<CpuCounters>,
    now: Vec<CpuCounters>,
    b: &mut Bucket,
) -> bool {
    let sum = |c: &[CpuCounters]| {
        c.iter()
            .fold((0u64, 0u64), |(e, d), x| (e + x.events, d + x.drops()))
    };
    let (e0, d0) = sum(prev);
    let (e1, d1) = sum(&now);
    let same_cpus = prev.len() == now.len();
    *prev = now;
    let (events, drops) = (e1.saturating_sub(e0), d1.saturating_sub(d0));
    if !same_cpus || drops == 0 {
        return false;
    }
    let Ok(policy) = sh.drops.lock().map(|p| p.clone()) else {
        return false;
    };
    let ratio = drops as f64 / (events + drops) as f64;
    if ratio <= policy.threshold || !b.take(&policy) {
        return false;
    }
    let msg = format!(
        "syscall event drop: {drops} system calls dropped in the last second \
         ({:.1}% of {} events)",
        ratio * 100.0,
        events + drops
    );
    let mut exit = false;
    for a in &policy.actions {
        match a {
            DropAction::Ignore => {}
            DropAction::Log => sh.log.warn(&msg),
            DropAction::Alert => {
                let alert = Alert {
                    time_ns: now_ns(),
                    rule: "saker internal: syscall event drop".into(),
                    priority: Priority::Debug,
                    source: "internal".into(),
                    hostname: sh.hostname.clone(),
                    output: msg.clone(),
                    output_fields: vec![
                        ("n_drops".into(), FieldValue::U64(drops)),
                        ("n_evts".into(), FieldValue::U64(events + drops)),
                    ],
                    tags: Vec::new(),
                };
                submit(sh, alert);
            }
            DropAction::Exit => exit = true,
        }
    }
    exit
}

fn submit(sh: &Shared, alert: Alert) {
    sh.metrics.count_alert(&alert.rule, alert.priority);
    let outputs = match sh.outputs.read() {
        Ok(o) => o.clone(),
        Err(_) => return,
    };
    let s = outputs.submit(alert);
    if !s.passed {
        sh.metrics.alerts_filtered.fetch_add(1, Ordering::Relaxed);
    }
    if s.limited {
        sh.metrics
            .alerts_rate_limited
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Logs what the module captures after an interest change.
fn report_captured(sh: &Shared, captured: Option<Captured>) {
    let Some(c) = captured else {
        return;
    };
    sh.log.info(&format!(
        "capturing {} syscalls ({} of their {} enter and exit events{})",
        c.syscalls,
        c.events,
        2 * c.syscalls,
        if c.late_enter {
            "; enter events written as their calls return"
        } else {
            ""
        }
    ));
    if !c.unmatched.is_empty() {
        sh.log.warn(&format!(
            "rules use event types this module does not capture: {}",
            c.unmatched.join(", ")
        ));
    }
}

/// The thread's loop, after the source opened.
fn run(
    sh: &Shared,
    mut source: Source,
    mut state: crate::state::State,
    mut ev: Box<dyn Evaluator>,
) -> Outcome {
    // Live, the daemon's own activity (writing alerts) is not judged.
    let live = matches!(source, Source::Live(_));
    let own_pid = match source {
        Source::Live(_) => Some(u64::from(std::process::id())),
        Source::File(_) => None,
    };
    let mut backoff = Backoff::default();
    let mut last = Instant::now();
    let mut prev = source.counters().unwrap_or_default();
    sh.metrics.set_per_cpu(prev.clone());
    let mut bucket = Bucket {
        tokens: 1.0,
        last: Instant::now(),
    };
    let mut processed = 0u64;
    let mut last_sizes = Instant::now();
    // This thread is the counter's only writer: a plain store per event
    // (no atomic add), current even while a poll waits for input.
    let counted = sh.metrics.events_processed.load(Ordering::Relaxed);
    let mut step = |source: &mut Source, ev: &mut Box<dyn Evaluator>| {
        let polled = source.poll(&mut |view| {
            let efd = state.update(view);
            processed += 1;
            sh.metrics
                .events_processed
                .store(counted + processed, Ordering::Relaxed);
            if own_pid.is_some_and(|own| state.thread(view.tid()).is_some_and(|t| t.pid == own)) {
                return;
            }
            ev.process(view, &efd, &state, &mut |a| submit(sh, a));
        });
        if last_sizes.elapsed() >= Duration::from_secs(1) {
            last_sizes = Instant::now();
            sh.metrics.set_state_sizes(&state);
        }
        polled
    };
    while !sh.stop.load(Ordering::Acquire) {
        if let Some(next) = sh.next_evaluator.lock().ok().and_then(|mut n| n.take()) {
            // Events given to the old rules finish under them.
            ev.finish(&mut |a| submit(sh, a));
            ev = next;
        }
        if let Some(w) = sh.next_interest.lock().ok().and_then(|mut n| n.take()) {
            report_captured(sh, source.set_interest(&w)?);
        }
        let polled = match step(&mut source, &mut ev) {
            Ok(p) => p,
            Err(e) => {
                ev.finish(&mut |a| submit(sh, a));
                return Err(e);
            }
        };
        ev.flush(&mut |a| submit(sh, a));
        match polled {
            Poll::Idle => backoff.pace(0),
            // A file is read as fast as it goes; live rings in batches.
            Poll::Events(_, waiting) if live => backoff.pace(waiting),
            Poll::Events(..) => {}
            Poll::End => break,
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            if let Some(now) = source.counters() {
                sh.metrics.set_per_cpu(now.clone());
                if check_drops(sh, &mut prev, now, &mut bucket) {
                    ev.finish(&mut |a| submit(sh, a));
                    return Err("exiting: syscall event drops above the threshold \
                                (syscall_event_drops.actions has exit)"
                        .into());
                }
            }
        }
    }
    // Stop the module, then take what the rings still hold.
    source.stop();
    for _ in 0..1000 {
        if step(&mut source, &mut ev)? != Poll::Idle {
            continue;
        }
        break;
    }
    ev.finish(&mut |a| submit(sh, a));
    if let Some(now) = source.counters() {
        sh.metrics.set_per_cpu(now);
    }
    Ok(processed)
}

impl Pipeline {
    /// Opens the source on a new thread and starts processing; returns once
    /// the source is open, or why it could not be.
    pub fn start(
        spec: SourceSpec,
        wanted: Wanted,
        ev: Box<dyn Evaluator>,
        shared: Arc<Shared>,
    ) -> Result<Pipeline, String> {
        let (ready_tx, ready) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let sh = shared.clone();
        let handle = std::thread::Builder::new()
            .name("saker-events".into())
            .spawn(move || {
                let (source, state, captured) = match Source::open(&spec, &wanted) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                sh.metrics.set_state_sizes(&state);
                report_captured(&sh, captured);
                let _ = ready_tx.send(Ok(()));
                let r = run(&sh, source, state, ev);
                let _ = done_tx.send(r);
            })
            .map_err(|e| format!("starting the event thread: {e}"))?;
        match ready.recv() {
            Ok(Ok(())) => Ok(Pipeline {
                shared,
                done,
                handle: Some(handle),
            }),
            Ok(Err(e)) => {
                let _ = handle.join();
                Err(e)
            }
            Err(_) => Err("the event thread ended while opening the source".into()),
        }
    }

    /// How the thread ended, if it has.
    pub fn finished(&mut self) -> Option<Outcome> {
        match self.done.try_recv() {
            Ok(r) => {
                if let Some(h) = self.handle.take() {
                    let _ = h.join();
                }
                Some(r)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err("the event thread died".into())),
        }
    }

    /// Stops the thread and waits up to `deadline` for it to drain; `None`
    /// if it did not finish (blocked in a read).
    pub fn stop(mut self, deadline: Duration) -> Option<Outcome> {
        self.shared.stop.store(true, Ordering::Release);
        match self.done.recv_timeout(deadline) {
            Ok(r) => {
                if let Some(h) = self.handle.take() {
                    let _ = h.join();
                }
                Some(r)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Err("the event thread died".into())),
        }
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
