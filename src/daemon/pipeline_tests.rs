//! Tests of the event thread: an evaluator plugged in sees every event in
//! order and its alerts reach the outputs; drop actions are limited by the
//! threshold and the token bucket.

use super::*;
use crate::daemon::source::Wanted;
use crate::event::view::EventView;
use crate::output::alert::Rendering;
use crate::output::file::FileSink;
use crate::output::queue::ErrorHook;
use crate::state::update::EventFd;
use crate::state::State;

/// Raises one alert per event, naming its number.
struct EveryEvent {
    seen: u64,
}

impl Evaluator for EveryEvent {
    fn process(&mut self, e: &EventView<'_>, _: &EventFd, _: &State, emit: &mut dyn FnMut(Alert)) {
        self.seen += 1;
        emit(Alert {
            time_ns: e.ts(),
            rule: "every event".into(),
            priority: Priority::Notice,
            source: "syscall".into(),
            hostname: "h".into(),
            output: format!("event {} {}", self.seen, e.name()),
            output_fields: Vec::new(),
            tags: Vec::new(),
        });
    }

    fn raises_alerts(&self) -> bool {
        true
    }
}

fn shared(outputs: Outputs) -> Arc<Shared> {
    Arc::new(Shared {
        stop: AtomicBool::new(false),
        next_evaluator: Mutex::new(None),
        next_interest: Mutex::new(None),
        outputs: RwLock::new(Arc::new(outputs)),
        drops: Mutex::new(DropPolicy {
            threshold: 0.1,
            actions: vec![DropAction::Log, DropAction::Alert, DropAction::Exit],
            rate: 0.03333,
            max_burst: 1,
        }),
        metrics: Arc::new(Metrics::new()),
        log: Arc::new(Logger::stderr()),
        hostname: "h".into(),
    })
}

fn quiet() -> ErrorHook {
    Arc::new(|_, _| {})
}

/// The shared reference capture `name`, or None (and a note) when missing.
fn shared_trace(name: &str) -> Option<std::path::PathBuf> {
    let trace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/traces")
        .join(name);
    if !trace.exists() {
        eprintln!(
            "skipped: {} (shared reference capture) is missing",
            trace.display()
        );
        return None;
    }
    Some(trace)
}

/// Runs `ev` over `trace` with a file output passing `min` and above;
/// returns the outcome, the lines written and the shared state.
fn run_to_file(
    trace: &std::path::Path,
    ev: Box<dyn Evaluator>,
    min: Priority,
    tag: &str,
) -> (Outcome, Vec<String>, Arc<Shared>) {
    let out = std::env::temp_dir().join(format!("saker-pipeline-{tag}-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let sink = FileSink::new(&out, true, false).unwrap();
    // The capacity holds every alert.
    let outputs = Outputs::new(
        vec![Box::new(sink)],
        min,
        Rendering::default(),
        100_000,
        quiet(),
    )
    .unwrap();
    let sh = shared(outputs);
    let mut p = Pipeline::start(
        SourceSpec::File(trace.to_path_buf()),
        Wanted::All,
        ev,
        sh.clone(),
    )
    .unwrap();
    let t0 = Instant::now();
    let outcome = loop {
        if let Some(r) = p.finished() {
            break r;
        }
        assert!(t0.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    };
    let outputs = std::mem::replace(&mut *sh.outputs.write().unwrap(), Arc::new(Outputs::none()));
    let Ok(outputs) = Arc::try_unwrap(outputs) else {
        panic!("outputs still shared");
    };
    assert!(outputs.close(Duration::from_secs(5)).is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    (outcome, text.lines().map(str::to_string).collect(), sh)
}

#[test]
fn an_evaluator_sees_every_event_and_its_alerts_reach_the_outputs() {
    let Some(trace) = shared_trace("bencer__example0_nginx.scap") else {
        return;
    };
    // Notice passes a Notice threshold.
    let ev = Box::new(EveryEvent { seen: 0 });
    let (outcome, lines, sh) = run_to_file(&trace, ev, Priority::Notice, "every");
    assert_eq!(outcome, Ok(143));
    assert_eq!(lines.len(), 143);
    // In event order.
    for (i, l) in lines.iter().enumerate() {
        assert!(l.contains(&format!(": Notice event {} ", i + 1)), "{l}");
    }
    assert!(sh
        .metrics
        .render()
        .contains("saker_alerts_total{rule=\"every event\",priority=\"Notice\"} 143"));
}

fn counters(events: u64, drops: u64) -> Vec<CpuCounters> {
    vec![CpuCounters {
        events,
        drops_full: drops,
        ..CpuCounters::default()
    }]
}

#[test]
fn drop_actions_follow_threshold_and_rate() {
    let sh = shared(Outputs::none());
    let mut bucket = Bucket {
        tokens: 1.0,
        last: Instant::now(),
    };
    let mut prev = counters(1000, 0);
    // (events, drops) totals after each second, and whether exit is asked.
    let cases = [
        ((2000, 0), false),   // no drops
        ((2990, 10), false),  // 1% dropped: below the 10% threshold
        ((3040, 60), true),   // 50%: acts (the bucket had a token)
        ((3090, 110), false), // 50% again: the bucket is empty
    ];
    for ((events, drops), exits) in cases {
        let now = counters(events, drops);
        assert_eq!(
            check_drops(&sh, &mut prev, now, &mut bucket),
            exits,
            "{events} {drops}"
        );
    }
    let text = sh.metrics.render();
    assert!(
        text.contains(
            "saker_alerts_total{rule=\"saker internal: syscall event drop\",priority=\"Debug\"} 1"
        ),
        "{text}"
    );
}

/// The alerts a rule set raises on a trace through the event thread with
/// `workers` rule workers, as the file output writes them.
fn alerts_with_workers(trace: &std::path::Path, workers: usize) -> Vec<String> {
    const RULES: &str = "\
- rule: file opened
  desc: d
  condition: evt.type in (open, openat) and evt.dir = < and fd.typechar = f
  output: opened %fd.name by %proc.name (%proc.pname) event %evt.num
  priority: NOTICE
- rule: socket activity
  desc: d
  condition: fd.type in (ipv4, ipv6) and evt.dir = <
  output: socket %evt.type on %fd.name by %proc.name event %evt.num
  priority: WARNING
";
    let mut l = crate::rules::Loader::new();
    l.load_str("t.yaml", RULES);
    let loaded = l.finish();
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let ev = crate::daemon::evaluator::for_rules(&loaded, "h", workers);
    let (outcome, lines, _) = run_to_file(trace, ev, Priority::Debug, &format!("w{workers}"));
    assert!(outcome.is_ok(), "{outcome:?}");
    lines
}

#[test]
fn rule_workers_raise_the_same_alerts_in_the_same_order() {
    let Some(trace) = shared_trace("sysdig-inspect__502Error.scap") else {
        return;
    };
    let one = alerts_with_workers(&trace, 1);
    assert!(one.len() > 100, "{} alerts", one.len());
    assert!(one.iter().any(|l| l.contains("Warning")), "no socket alert");
    for workers in [2, 3] {
        assert_eq!(
            alerts_with_workers(&trace, workers),
            one,
            "{workers} workers"
        );
    }
}

#[test]
fn rules_see_the_path_of_a_failed_open() {
    // The paths sysdig 0.29.3 shows as fd.name for these events
    // (`sysdig -r TRACE "evt.type in (open,openat,openat2) and evt.dir=<
    // and evt.rawres<0" -p "%evt.num %fd.name %proc.name"`): the descriptor
    // is not in the state, the name is the update's for this event alone.
    let Some(trace) = shared_trace("bencer__example4-1_php_mysql.scap") else {
        return;
    };
    const RULES: &str = "\
- rule: failed open
  desc: d
  condition: evt.type in (open, openat, openat2) and evt.dir = < and evt.rawres < 0
  output: failed open of %fd.name by %proc.name event %evt.num
  priority: NOTICE
";
    let want = [
        "3167 /usr/lib/locale/es_ES.UTF-8/LC_IDENTIFICATION curl",
        "3169 /usr/lib/locale/es_ES.utf8/LC_IDENTIFICATION curl",
        "3171 /usr/lib/locale/es_ES/LC_IDENTIFICATION curl",
        "3173 /usr/lib/locale/es.UTF-8/LC_IDENTIFICATION curl",
        "3175 /usr/lib/locale/es.utf8/LC_IDENTIFICATION curl",
        "3177 /usr/lib/locale/es/LC_IDENTIFICATION curl",
        "3179 /home/ubuntu/.curlrc curl",
        "3500 /var/www/.htaccess apache2",
        "3502 /var/www/html/.htaccess apache2",
        "3504 /var/www/html/index.php/.htaccess apache2",
    ];
    let mut l = crate::rules::Loader::new();
    l.load_str("t.yaml", RULES);
    let loaded = l.finish();
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    for workers in [1, 2] {
        let ev = crate::daemon::evaluator::for_rules(&loaded, "h", workers);
        let (outcome, lines, _) = run_to_file(
            &trace,
            ev,
            Priority::Debug,
            &format!("failed-open-{workers}"),
        );
        assert!(outcome.is_ok(), "{outcome:?}");
        let got: Vec<String> = lines
            .iter()
            .filter_map(|l| {
                let rest = l.split("failed open of ").nth(1)?;
                let (path, rest) = rest.split_once(" by ")?;
                let (proc, num) = rest.split_once(" event ")?;
                Some(format!("{num} {path} {proc}"))
            })
            .collect();
        assert_eq!(got, want, "{workers} workers");
    }
}
