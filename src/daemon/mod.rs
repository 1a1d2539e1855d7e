//! The service: `saker --daemon` (detached, with a locked pidfile) or in the
//! foreground for systemd. Loads the configuration and rules, opens the event
//! source (loading the module if needed), runs the event thread and the
//! outputs, serves health and metrics, and handles signals: SIGHUP reloads
//! configuration and rules (keeping the old ones if the new are invalid),
//! SIGUSR1 reopens output files, SIGTERM and SIGINT stop, drain and exit 0.

pub mod evaluator;
pub mod log;
pub mod pidfile;
pub mod pipeline;
pub mod source;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

use crate::config::{self, Config};
use crate::metrics::Metrics;
use crate::output::alert::Rendering;
use crate::output::file::FileSink;
use crate::output::http::HttpSink;
use crate::output::program::ProgramSink;
use crate::output::queue::{ErrorHook, Outputs};
use crate::output::sink::Sink;
use crate::output::stdout::StdoutSink;
use crate::output::syslog::SyslogSink;
use crate::rules::{self, Loaded};
use crate::webserver::{Routes, Webserver};
use log::Logger;
use pidfile::{Pidfile, PidfileError};
use pipeline::{Pipeline, Shared};
use source::SourceSpec;

/// How the service was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Configuration file (`-c`); the packaged path if it exists otherwise.
    pub config: Option<PathBuf>,
    /// `-o key=value` overrides.
    pub overrides: Vec<String>,
    /// Rule files given with `-r`, replacing the configured ones.
    pub rules: Vec<PathBuf>,
    /// Detach from the terminal (`--daemon`).
    pub detach: bool,
    /// Pidfile to lock and write.
    pub pidfile: Option<PathBuf>,
    /// Where events come from.
    pub source: SourceSpec,
    /// Load configuration and rules, report, and exit.
    pub dry_run: bool,
}

/// Why the service could not start or stopped with an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is invalid (each error positioned).
    Config(Vec<config::Error>),
    /// The rules did not load (rendered diagnostics).
    Rules(Vec<String>),
    /// Another instance holds the pidfile.
    AlreadyRunning {
        /// The pidfile.
        pidfile: PathBuf,
        /// The other instance's pid, if it wrote one.
        pid: Option<u32>,
    },
    /// Something the service needs failed to start (pidfile, detaching,
    /// outputs, web server, signals, event source).
    Start(String),
    /// The event thread failed while running.
    Runtime(String),
}

/// A service error.
#[derive(Debug)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    fn start(m: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Start(m.into()),
        }
    }
}

impl Error {
    /// The error on one line (for syslog): positions without source lines.
    pub fn summary(&self) -> String {
        match &self.kind {
            ErrorKind::Config(errors) => {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                format!("invalid configuration: {}", text.join("; "))
            }
            ErrorKind::Rules(d) => {
                let first: Vec<&str> = d.iter().filter_map(|m| m.lines().next()).collect();
                format!("rules did not load: {}", first.join("; "))
            }
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Config(errors) => {
                let text: Vec<String> = errors.iter().map(config::Error::render).collect();
                write!(f, "invalid configuration:\n{}", text.join("\n"))
            }
            ErrorKind::Rules(d) => write!(f, "rules did not load:\n{}", d.join("\n")),
            ErrorKind::AlreadyRunning { pidfile, pid } => match pid {
                Some(p) => write!(
                    f,
                    "another saker is already running (pid {p}, pidfile {} is locked)",
                    pidfile.display()
                ),
                None => write!(
                    f,
                    "another saker is already running (pidfile {} is locked)",
                    pidfile.display()
                ),
            },
            ErrorKind::Start(m) => write!(f, "{m}"),
            ErrorKind::Runtime(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

/// A loaded configuration and rule set.
struct Settings {
    config: Config,
    config_name: String,
    rules: Loaded,
}

/// Makes `p` absolute against the current directory (before detaching
/// changes it to /).
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn load_settings(opts: &Options, log: &Logger) -> Result<Settings, Error> {
    let path = opts.config.clone().or_else(|| {
        let p = PathBuf::from(config::DEFAULT_PATH);
        p.exists().then_some(p)
    });
    let loaded = match &path {
        Some(p) => config::load(p, &opts.overrides),
        None => config::from_text("(defaults)", None, &opts.overrides),
    }
    .map_err(|e| Error {
        kind: ErrorKind::Config(e),
    })?;
    for w in &loaded.warnings {
        log.warn(&w.to_string());
    }
    let mut config = loaded.config;
    if !opts.rules.is_empty() {
        config.rules_files = opts.rules.clone();
    }
    config.rules_files = config.rules_files.iter().map(|p| absolute(p)).collect();
    config.file_output.filename = absolute(&config.file_output.filename);
    let rules = rules::load_paths(&config.rules_files);
    if rules.has_errors() {
        let d = rules
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render())
            .collect();
        return Err(Error {
            kind: ErrorKind::Rules(d),
        });
    }
    for d in &rules.diagnostics {
        log.log(config::LogLevel::Debug, &d.render());
    }
    let config_name = match &path {
        Some(p) => absolute(p).display().to_string(),
        None => "(none: defaults)".into(),
    };
    Ok(Settings {
        config,
        config_name,
        rules,
    })
}

fn rendering(c: &Config) -> Rendering {
    Rendering {
        json: c.json_output,
        include_output: c.json_include_output_property,
        include_tags: c.json_include_tags_property,
        iso_time: c.time_format_iso_8601,
    }
}

/// The enabled sinks of `c`, behind their queues.
fn build_outputs(c: &Config, log: &Arc<Logger>) -> Result<Outputs, String> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if c.stdout_output {
        sinks.push(Box::new(StdoutSink::new(c.buffered_outputs)));
    }
    if c.syslog_output.enabled {
        let s =
            SyslogSink::new(&c.syslog_output.path).map_err(|e| format!("syslog_output: {e}"))?;
        sinks.push(Box::new(s));
    }
    if c.file_output.enabled {
        let f = &c.file_output;
        let s = FileSink::new(&f.filename, f.keep_alive, c.buffered_outputs)
            .map_err(|e| format!("file_output: {}: {e}", f.filename.display()))?;
        sinks.push(Box::new(s));
    }
    if c.program_output.enabled {
        let p = &c.program_output;
        if p.program.trim().is_empty() {
            return Err("program_output: no program given".into());
        }
        sinks.push(Box::new(ProgramSink::new(
            &p.program,
            p.keep_alive,
            c.buffered_outputs,
        )));
    }
    if c.http_output.enabled {
        let h = &c.http_output;
        if h.url.is_empty() {
            return Err("http_output: no url given".into());
        }
        sinks.push(Box::new(HttpSink::new(&h.url, &h.user_agent, rendering(c))));
    }
    let l = log.clone();
    let hook: ErrorHook = Arc::new(move |name, e| match e {
        Some(e) => l.error(&format!("{name}: {e} (alerts to it are failing)")),
        None => l.info(&format!("{name}: working again")),
    });
    Outputs::new(
        sinks,
        c.priority,
        rendering(c),
        c.outputs_queue_capacity,
        hook,
    )
    .map(|o| o.with_rate_limit(c.outputs_rate, c.outputs_max_burst))
    .map_err(|e| format!("starting the outputs: {e}"))
}

fn start_webserver(c: &Config, metrics: &Arc<Metrics>) -> Result<Option<Webserver>, String> {
    if !c.webserver.enabled {
        return Ok(None);
    }
    let w = &c.webserver;
    let routes = Routes {
        healthz: w.k8s_healthz_endpoint.clone(),
        metrics: c.metrics,
    };
    Webserver::start(&w.listen_address, w.listen_port, routes, metrics.clone())
        .map(Some)
        .map_err(|e| e.to_string())
}

fn log_loaded(log: &Logger, s: &Settings) {
    for f in &s.rules.files {
        if f.loaded {
            log.info(&format!("Parsed rules from file {}", f.name));
        }
    }
    let enabled = s.rules.rules.iter().filter(|r| r.enabled).count();
    log.info(&format!("{enabled} rules enabled"));
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Runs the service until it is stopped (or, for a capture file, until the
/// file ends).
pub fn run(mut opts: Options) -> Result<(), Error> {
    let log = Arc::new(Logger::stderr());
    opts.config = opts.config.as_deref().map(absolute);
    if let SourceSpec::File(p) = &opts.source {
        opts.source = SourceSpec::File(absolute(p));
    }
    let settings = load_settings(&opts, &log)?;
    if opts.dry_run {
        log.info(&format!(
            "configuration file {} and rules are valid",
            settings.config_name
        ));
        log_loaded(&log, &settings);
        return Ok(());
    }
    // Load the module before detaching, so `service saker start` reports
    // a module that cannot load.
    if let SourceSpec::Live { device, .. } = &opts.source {
        source::ensure_module(device, settings.config.ring_bytes()).map_err(Error::start)?;
    }
    let pidfile = match &opts.pidfile {
        None => None,
        Some(p) => {
            let p = absolute(p);
            match Pidfile::acquire(&p) {
                Ok(f) => Some(f),
                Err(PidfileError::Locked { pid }) => {
                    return Err(Error {
                        kind: ErrorKind::AlreadyRunning { pidfile: p, pid },
                    })
                }
                Err(PidfileError::Io(e)) => {
                    return Err(Error::start(format!("pidfile {}: {e}", p.display())))
                }
            }
        }
    };
    if opts.detach {
        nix::unistd::daemon(false, false).map_err(|e| Error::start(format!("detaching: {e}")))?;
    }
    let mut pidfile = pidfile;
    if let Some(p) = pidfile.as_mut() {
        p.write_pid()
            .map_err(|e| Error::start(format!("pidfile {}: {e}", p.path().display())))?;
    }
    serve(&opts, settings, &log)
}

/// Everything after the pidfile: outputs, web server, event thread, signals.
fn serve(opts: &Options, settings: Settings, log: &Arc<Logger>) -> Result<(), Error> {
    let mut settings = settings;
    log.configure(&settings.config);
    log.info(&format!("saker version {}", env!("CARGO_PKG_VERSION")));
    log.info(&format!(
        "saker initialized with configuration file {}",
        settings.config_name
    ));
    log_loaded(log, &settings);
    let host = hostname();
    let metrics = Arc::new(Metrics::new());
    let enabled = settings.rules.rules.iter().filter(|r| r.enabled).count();
    metrics
        .rules_loaded
        .store(enabled as u64, Ordering::Relaxed);
    let outputs = build_outputs(&settings.config, log).map_err(Error::start)?;
    let mut web = start_webserver(&settings.config, &metrics).map_err(Error::start)?;
    if let Some(w) = &web {
        log.info(&format!("web server listening on {}", w.addr()));
    }
    let ev = evaluator::for_rules(&settings.rules, &host, settings.config.rule_workers);
    if !ev.raises_alerts() {
        log.warn(
            "no rule is enabled: events are read and state is tracked, but no alerts are raised",
        );
    }
    let mut signals = Signals::new([SIGHUP, SIGUSR1, SIGTERM, SIGINT])
        .map_err(|e| Error::start(format!("installing signal handlers: {e}")))?;
    let shared = Arc::new(Shared {
        stop: Default::default(),
        next_evaluator: Mutex::new(None),
        next_interest: Mutex::new(None),
        outputs: RwLock::new(Arc::new(outputs)),
        drops: Mutex::new(settings.config.syscall_event_drops.clone()),
        metrics: metrics.clone(),
        log: log.clone(),
        hostname: host.clone(),
    });
    let source = match &opts.source {
        SourceSpec::Live { device, .. } => SourceSpec::Live {
            device: device.clone(),
            ring_bytes: settings.config.ring_bytes(),
        },
        s => s.clone(),
    };
    let wanted = source::wanted_by(&settings.rules, ev.as_ref());
    let mut pipeline = Pipeline::start(source, wanted, ev, shared.clone()).map_err(Error::start)?;
    log.info("event processing started");

    let mut outcome = None;
    let mut last_stats = Instant::now();
    'run: loop {
        for sig in signals.pending() {
            match sig {
                SIGHUP => reload(opts, log, &shared, &mut settings, &mut web, &host),
                SIGUSR1 => {
                    log.info("SIGUSR1: reopening outputs");
                    if let Ok(o) = shared.outputs.read() {
                        o.reopen();
                    }
                }
                _ => {
                    log.info(&format!("signal {sig} received, stopping"));
                    break 'run;
                }
            }
        }
        if let Some(r) = pipeline.finished() {
            outcome = Some(r);
            break;
        }
        if last_stats.elapsed() >= Duration::from_secs(1) {
            last_stats = Instant::now();
            if let Ok(o) = shared.outputs.read() {
                metrics.set_outputs(o.stats());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let outcome = match outcome {
        Some(r) => Some(r),
        None => {
            let r = pipeline.stop(Duration::from_secs(5));
            if r.is_none() {
                log.warn("the event source did not stop within 5 s; exiting without it");
            }
            r
        }
    };
    let outputs = match shared.outputs.write() {
        Ok(mut o) => std::mem::replace(&mut *o, Arc::new(Outputs::none())),
        Err(_) => return Err(Error::start("outputs lock poisoned")),
    };
    close_outputs(outputs, log);
    if let Some(w) = web.take() {
        w.stop();
    }
    match outcome {
        Some(Err(e)) => {
            log.error(&e);
            Err(Error {
                kind: ErrorKind::Runtime(e),
            })
        }
        Some(Ok(n)) => {
            log.info(&format!("saker stopped after {n} events"));
            Ok(())
        }
        None => {
            log.info("saker stopped");
            Ok(())
        }
    }
}

/// Closes outputs once nothing else holds them, letting them drain.
fn close_outputs(outputs: Arc<Outputs>, log: &Logger) {
    let mut outputs = outputs;
    for _ in 0..100 {
        match Arc::try_unwrap(outputs) {
            Ok(o) => {
                for name in o.close(Duration::from_secs(5)) {
                    log.warn(&format!("{name} did not finish sending within 5 s"));
                }
                return;
            }
            Err(o) => {
                outputs = o;
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// SIGHUP: loads configuration and rules again; on any error keeps the
/// current ones and logs why.
fn reload(
    opts: &Options,
    log: &Arc<Logger>,
    shared: &Shared,
    settings: &mut Settings,
    web: &mut Option<Webserver>,
    host: &str,
) {
    log.info("SIGHUP: reloading configuration and rules");
    let refuse = |why: String| {
        shared
            .metrics
            .reload_failures
            .fetch_add(1, Ordering::Relaxed);
        log.error(&format!(
            "reload failed, keeping the current configuration and rules: {why}"
        ));
    };
    let next = match load_settings(opts, log) {
        Ok(s) => s,
        Err(e) => return refuse(e.summary()),
    };
    let outputs = match build_outputs(&next.config, log) {
        Ok(o) => o,
        Err(e) => return refuse(e),
    };
    if next.config.webserver != settings.config.webserver
        || next.config.metrics != settings.config.metrics
    {
        if let Some(w) = web.take() {
            w.stop();
        }
        match start_webserver(&next.config, &shared.metrics) {
            Ok(w) => *web = w,
            Err(e) => log.error(&format!("web server: {e}")),
        }
    }
    if next.config.syscall_buf_size_preset != settings.config.syscall_buf_size_preset {
        log.warn("syscall_buf_size_preset takes effect at the next start");
    }
    log.configure(&next.config);
    if let Ok(mut d) = shared.drops.lock() {
        *d = next.config.syscall_event_drops.clone();
    }
    let ev = evaluator::for_rules(&next.rules, host, next.config.rule_workers);
    let wanted = source::wanted_by(&next.rules, ev.as_ref());
    if let Ok(mut n) = shared.next_evaluator.lock() {
        *n = Some(ev);
    }
    if let Ok(mut n) = shared.next_interest.lock() {
        *n = Some(wanted);
    }
    let old = match shared.outputs.write() {
        Ok(mut o) => std::mem::replace(&mut *o, Arc::new(outputs)),
        Err(_) => return refuse("outputs lock poisoned".into()),
    };
    close_outputs(old, log);
    let enabled = next.rules.rules.iter().filter(|r| r.enabled).count();
    shared
        .metrics
        .rules_loaded
        .store(enabled as u64, Ordering::Relaxed);
    shared.metrics.reloads.fetch_add(1, Ordering::Relaxed);
    log.info(&format!(
        "saker reloaded configuration file {}",
        next.config_name
    ));
    log_loaded(log, &next);
    *settings = next;
}
