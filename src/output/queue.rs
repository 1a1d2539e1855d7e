//! The output queue: alerts at or above the priority threshold are rendered
//! once and handed to every sink through its own bounded queue and thread,
//! so a slow or dead sink never stalls event processing: when a sink's queue
//! is full the alert is dropped for that sink and counted.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::alert::{Alert, Priority, Rendering};
use super::sink::{Rendered, Sink};

/// Called by a sink's thread when the sink starts failing (with the error)
/// and when it works again (`None`).
pub type ErrorHook = Arc<dyn Fn(&'static str, Option<&io::Error>) + Send + Sync>;

/// Counters of one sink.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Alerts waiting in the sink's queue.
    pub queued: AtomicUsize,
    /// Alerts the sink took.
    pub sent: AtomicU64,
    /// Alerts dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Alerts the sink failed to send.
    pub errors: AtomicU64,
}

/// A copy of one sink's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkSnapshot {
    /// The sink's name.
    pub name: &'static str,
    /// Queue depth.
    pub queued: usize,
    /// Alerts sent.
    pub sent: u64,
    /// Alerts dropped (queue full).
    pub dropped: u64,
    /// Send errors.
    pub errors: u64,
}

/// What became of a submitted alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitted {
    /// Whether it passed the priority threshold.
    pub passed: bool,
    /// Whether the rate limit held it back (config `outputs.rate`).
    pub limited: bool,
    /// Sinks whose queue took it.
    pub queued: usize,
    /// Sinks whose queue was full.
    pub dropped: usize,
}

struct Worker {
    name: &'static str,
    tx: Option<SyncSender<Arc<Rendered>>>,
    stats: Arc<SinkStats>,
    reopen: Arc<AtomicBool>,
    flush: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// A token bucket: `rate` alerts a second, bursts of `burst`.
#[derive(Debug)]
struct Limit {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Limit {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The sinks behind their queues.
pub struct Outputs {
    workers: Vec<Worker>,
    threshold: Priority,
    rendering: Rendering,
    filtered: AtomicU64,
    limit: Option<std::sync::Mutex<Limit>>,
}

/// How often an idle sink thread looks at reopen/flush requests.
const TICK: Duration = Duration::from_millis(100);

struct Ctx {
    stats: Arc<SinkStats>,
    reopen: Arc<AtomicBool>,
    flush: Arc<AtomicBool>,
    on_error: ErrorHook,
    failing: bool,
}

impl Ctx {
    fn outcome(&mut self, name: &'static str, r: io::Result<()>) {
        match r {
            Ok(()) if self.failing => {
                self.failing = false;
                (self.on_error)(name, None);
            }
            Ok(()) => {}
            Err(e) => {
                if !self.failing {
                    self.failing = true;
                    (self.on_error)(name, Some(&e));
                }
            }
        }
    }

    fn requests(&mut self, sink: &mut dyn Sink) {
        if self.reopen.swap(false, Ordering::AcqRel) {
            let r = sink.reopen();
            self.outcome(sink.name(), r);
        }
        if self.flush.swap(false, Ordering::AcqRel) {
            let r = sink.flush();
            self.outcome(sink.name(), r);
        }
    }
}

fn run_sink(mut sink: Box<dyn Sink>, rx: Receiver<Arc<Rendered>>, mut ctx: Ctx) {
    loop {
        ctx.requests(sink.as_mut());
        match rx.recv_timeout(TICK) {
            Ok(a) => {
                ctx.stats.queued.fetch_sub(1, Ordering::Relaxed);
                let r = sink.send(&a);
                if r.is_ok() {
                    ctx.stats.sent.fetch_add(1, Ordering::Relaxed);
                } else {
                    ctx.stats.errors.fetch_add(1, Ordering::Relaxed);
                }
                ctx.outcome(sink.name(), r);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let r = sink.close();
    ctx.outcome(sink.name(), r);
}

impl Outputs {
    /// Starts one thread per sink, each behind a queue of `capacity`
    /// alerts. Alerts less severe than `threshold` are not sent.
    pub fn new(
        sinks: Vec<Box<dyn Sink>>,
        threshold: Priority,
        rendering: Rendering,
        capacity: usize,
        on_error: ErrorHook,
    ) -> io::Result<Outputs> {
        let mut workers = Vec::with_capacity(sinks.len());
        for sink in sinks {
            let name = sink.name();
            let (tx, rx) = mpsc::sync_channel(capacity.max(1));
            let stats = Arc::new(SinkStats::default());
            let reopen = Arc::new(AtomicBool::new(false));
            let flush = Arc::new(AtomicBool::new(false));
            let ctx = Ctx {
                stats: stats.clone(),
                reopen: reopen.clone(),
                flush: flush.clone(),
                on_error: on_error.clone(),
                failing: false,
            };
            let handle = std::thread::Builder::new()
                .name(format!("saker-{name}"))
                .spawn(move || run_sink(sink, rx, ctx))?;
            workers.push(Worker {
                name,
                tx: Some(tx),
                stats,
                reopen,
                flush,
                handle: Some(handle),
            });
        }
        Ok(Outputs {
            workers,
            threshold,
            rendering,
            filtered: AtomicU64::new(0),
            limit: None,
        })
    }

    /// Outputs without sinks (alerts are counted as sent nowhere).
    pub fn none() -> Outputs {
        Outputs {
            workers: Vec::new(),
            threshold: Priority::Debug,
            rendering: Rendering::default(),
            filtered: AtomicU64::new(0),
            limit: None,
        }
    }

    /// Limits alerts to `rate` a second with bursts of `burst` (Falco's
    /// `outputs.rate` and `outputs.max_burst`); a rate of 0 is no limit.
    pub fn with_rate_limit(mut self, rate: f64, burst: u32) -> Outputs {
        self.limit = (rate > 0.0).then(|| {
            std::sync::Mutex::new(Limit {
                rate,
                burst: f64::from(burst.max(1)),
                tokens: f64::from(burst.max(1)),
                last: Instant::now(),
            })
        });
        self
    }

    /// Queues `alert` for every sink, never blocking.
    pub fn submit(&self, alert: Alert) -> Submitted {
        let mut s = Submitted {
            passed: alert.priority.passes(self.threshold),
            limited: false,
            queued: 0,
            dropped: 0,
        };
        if !s.passed {
            self.filtered.fetch_add(1, Ordering::Relaxed);
            return s;
        }
        if let Some(l) = &self.limit {
            if !l.lock().map(|mut l| l.take()).unwrap_or(true) {
                s.limited = true;
                return s;
            }
        }
        let line = alert.render(&self.rendering);
        let r = Arc::new(Rendered { alert, line });
        for w in &self.workers {
            let Some(tx) = &w.tx else { continue };
            w.stats.queued.fetch_add(1, Ordering::Relaxed);
            match tx.try_send(r.clone()) {
                Ok(()) => s.queued += 1,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                    w.stats.queued.fetch_sub(1, Ordering::Relaxed);
                    w.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    s.dropped += 1;
                }
            }
        }
        s
    }

    /// Asks every sink to reopen what it keeps open (SIGUSR1).
    pub fn reopen(&self) {
        for w in &self.workers {
            w.reopen.store(true, Ordering::Release);
        }
    }

    /// Asks every sink to flush its buffers.
    pub fn flush(&self) {
        for w in &self.workers {
            w.flush.store(true, Ordering::Release);
        }
    }

    /// Alerts below the priority threshold so far.
    pub fn filtered(&self) -> u64 {
        self.filtered.load(Ordering::Relaxed)
    }

    /// The counters of every sink.
    pub fn stats(&self) -> Vec<SinkSnapshot> {
        self.workers
            .iter()
            .map(|w| SinkSnapshot {
                name: w.name,
                queued: w.stats.queued.load(Ordering::Relaxed),
                sent: w.stats.sent.load(Ordering::Relaxed),
                dropped: w.stats.dropped.load(Ordering::Relaxed),
                errors: w.stats.errors.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Stops taking alerts, lets every sink send what is queued and close,
    /// waiting at most `deadline` in all. Returns the sinks that did not
    /// finish in time (their threads are left to the process's exit).
    pub fn close(mut self, deadline: Duration) -> Vec<&'static str> {
        for w in &mut self.workers {
            w.tx = None;
        }
        let end = Instant::now() + deadline;
        let mut late = Vec::new();
        for w in &mut self.workers {
            let Some(h) = w.handle.take() else { continue };
            while !h.is_finished() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            } else {
                late.push(w.name);
            }
        }
        late
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
