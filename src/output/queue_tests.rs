//! Tests of the output queue with sinks that record, block and fail.

use super::*;
use crate::output::testutil::alert;
use std::sync::Mutex;

/// What a test sink saw: lines, reopens, closes.
#[derive(Default)]
struct Seen {
    lines: Vec<String>,
    reopens: u32,
    closed: bool,
}

struct Recording {
    seen: Arc<Mutex<Seen>>,
    /// When set, each send waits for a token.
    gate: Option<Receiver<()>>,
    /// Sends fail while this is true.
    fail: Arc<AtomicBool>,
}

impl Sink for Recording {
    fn name(&self) -> &'static str {
        "test_output"
    }

    fn send(&mut self, a: &Rendered) -> io::Result<()> {
        if let Some(g) = &self.gate {
            let _ = g.recv();
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("down"));
        }
        self.seen.lock().unwrap().lines.push(a.line.clone());
        Ok(())
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.seen.lock().unwrap().reopens += 1;
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        self.seen.lock().unwrap().closed = true;
        Ok(())
    }
}

fn recording() -> (Recording, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let r = Recording {
        seen: seen.clone(),
        gate: None,
        fail: Arc::new(AtomicBool::new(false)),
    };
    (r, seen)
}

fn quiet() -> ErrorHook {
    Arc::new(|_, _| {})
}

fn text() -> Rendering {
    Rendering::default()
}

fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn a_blocked_sink_drops_and_counts_without_stalling_the_others() {
    let (mut slow, slow_seen) = recording();
    let (gate_tx, gate_rx) = mpsc::channel();
    slow.gate = Some(gate_rx);
    let (fast, fast_seen) = recording();
    let out = Outputs::new(
        vec![Box::new(slow), Box::new(fast)],
        Priority::Debug,
        text(),
        2,
        quiet(),
    )
    .unwrap();
    let t0 = Instant::now();
    for i in 0..10 {
        out.submit(alert(&format!("a{i}"), Priority::Warning));
        // Let the fast sink keep up so only the slow one overflows.
        assert!(wait_until(|| fast_seen.lock().unwrap().lines.len() == i + 1));
        if i == 0 {
            // The blocked sink has taken the first alert and waits in send.
            assert!(wait_until(|| out.stats()[0].queued == 0));
        }
    }
    // Submitting never waited for the blocked sink.
    assert!(t0.elapsed() < Duration::from_secs(5));
    let stats = out.stats();
    assert_eq!((stats[1].sent, stats[1].dropped), (10, 0));
    // The blocked sink holds one alert in send and two in its queue.
    assert_eq!(stats[0].dropped, 7, "{stats:?}");
    assert_eq!(stats[0].queued, 2);
    for _ in 0..3 {
        gate_tx.send(()).unwrap();
    }
    assert!(out.close(Duration::from_secs(5)).is_empty());
    let slow_seen = slow_seen.lock().unwrap();
    assert_eq!(
        slow_seen.lines,
        [
            "16:17:57.882054739: Warning a0",
            "16:17:57.882054739: Warning a1",
            "16:17:57.882054739: Warning a2"
        ]
    );
    assert!(slow_seen.closed);
}

#[test]
fn the_priority_threshold_filters() {
    let cases = [
        (Priority::Warning, Priority::Critical, true),
        (Priority::Warning, Priority::Warning, true),
        (Priority::Warning, Priority::Notice, false),
        (Priority::Debug, Priority::Debug, true),
        (Priority::Emergency, Priority::Alert, false),
    ];
    for (threshold, p, passes) in cases {
        let (sink, seen) = recording();
        let out = Outputs::new(vec![Box::new(sink)], threshold, text(), 8, quiet()).unwrap();
        let s = out.submit(alert("x", p));
        assert_eq!(s.passed, passes, "{p} at {threshold}");
        assert_eq!(out.filtered(), u64::from(!passes));
        out.close(Duration::from_secs(5));
        assert_eq!(seen.lock().unwrap().lines.len(), usize::from(passes));
    }
}

#[test]
fn json_rendering_reaches_the_sinks() {
    let (sink, seen) = recording();
    let r = Rendering {
        json: true,
        ..Rendering::default()
    };
    let out = Outputs::new(vec![Box::new(sink)], Priority::Debug, r, 8, quiet()).unwrap();
    let a = alert("x", Priority::Error);
    out.submit(a.clone());
    out.close(Duration::from_secs(5));
    let lines = &seen.lock().unwrap().lines;
    let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(v, a.to_json(&r));
}

#[test]
fn reopen_requests_reach_idle_sinks() {
    let (sink, seen) = recording();
    let out = Outputs::new(vec![Box::new(sink)], Priority::Debug, text(), 8, quiet()).unwrap();
    out.reopen();
    assert!(wait_until(|| seen.lock().unwrap().reopens == 1));
    out.close(Duration::from_secs(5));
}

#[test]
fn failures_are_reported_once_and_recovery_too() {
    let (sink, seen) = recording();
    let fail = sink.fail.clone();
    fail.store(true, Ordering::SeqCst);
    let reports: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let r2 = reports.clone();
    let hook: ErrorHook = Arc::new(move |name, e| {
        r2.lock().unwrap().push((name.to_string(), e.is_some()));
    });
    let out = Outputs::new(vec![Box::new(sink)], Priority::Debug, text(), 8, hook).unwrap();
    for _ in 0..3 {
        out.submit(alert("x", Priority::Error));
    }
    assert!(wait_until(|| out.stats()[0].errors == 3));
    fail.store(false, Ordering::SeqCst);
    out.submit(alert("y", Priority::Error));
    assert!(wait_until(|| out.stats()[0].sent == 1));
    out.close(Duration::from_secs(5));
    assert_eq!(
        *reports.lock().unwrap(),
        [
            ("test_output".to_string(), true),
            ("test_output".to_string(), false)
        ]
    );
    assert_eq!(seen.lock().unwrap().lines.len(), 1);
}

#[test]
fn the_rate_limit_holds_back_bursts() {
    let (sink, seen) = recording();
    // One alert a day, bursts of three: three pass, the rest are held back.
    let out = Outputs::new(vec![Box::new(sink)], Priority::Debug, text(), 64, quiet())
        .unwrap()
        .with_rate_limit(1.0 / 86_400.0, 3);
    let limited: Vec<bool> = (0..5)
        .map(|_| out.submit(alert("x", Priority::Error)).limited)
        .collect();
    assert_eq!(limited, [false, false, false, true, true]);
    out.close(Duration::from_secs(5));
    assert_eq!(seen.lock().unwrap().lines.len(), 3);
    // A rate of 0 is no limit.
    let (sink, _) = recording();
    let out = Outputs::new(vec![Box::new(sink)], Priority::Debug, text(), 64, quiet())
        .unwrap()
        .with_rate_limit(0.0, 1);
    assert!((0..5).all(|_| !out.submit(alert("x", Priority::Error)).limited));
}
