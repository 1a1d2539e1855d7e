//! The saker command line: parses arguments, installs signal handlers, runs the
//! chosen command and turns library errors into messages and exit codes.
//!
//! Each subcommand is one variant of `Command` and one `run_*` function below.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// saker: host runtime-security agent (kernel capture, Falco-language rules, alerts).
#[derive(Debug, Parser)]
#[command(
    name = "saker",
    version,
    about,
    args_conflicts_with_subcommands = true,
    disable_version_flag = true
)]
struct Cli {
    /// Print the version and exit.
    #[arg(long = "version")]
    version: bool,
    /// Validate rule files or directories, in order: print errors and
    /// warnings with file:line:col and exit non-zero on errors. Repeatable.
    #[arg(short = 'V', long = "validate", value_name = "RULES", num_args = 1..)]
    validate: Vec<std::path::PathBuf>,
    /// Rule file or directory to load; repeatable, later ones override earlier ones.
    #[arg(short = 'r', value_name = "RULES")]
    rules: Vec<std::path::PathBuf>,
    /// List the rules loaded with -r, with their descriptions.
    #[arg(short = 'L')]
    list_rules: bool,
    /// With -L: also print each rule's fully expanded condition.
    #[arg(long = "expanded", requires = "list_rules")]
    expanded: bool,
    /// List the fields conditions and outputs can use.
    #[arg(long = "list")]
    list_fields: bool,
    /// Service: configuration file (default /etc/saker/saker.yaml).
    #[arg(short = 'c', value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Service: override a configuration key, dotted for nested keys
    /// (-o json_output=true -o file_output.enabled=true). Repeatable.
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Run the service detached from the terminal.
    #[arg(short = 'd', long = "daemon")]
    daemon: bool,
    /// Run the service in the foreground (systemd).
    #[arg(long = "foreground", conflicts_with = "daemon")]
    foreground: bool,
    /// Service: pidfile to lock and write (a second instance refuses to start).
    #[arg(long = "pidfile", value_name = "FILE")]
    pidfile: Option<std::path::PathBuf>,
    /// Service: read events from a capture file instead of the kernel module.
    #[arg(short = 'e', value_name = "FILE")]
    events_file: Option<std::path::PathBuf>,
    /// Service: load the configuration and rules, report, and exit.
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// Replay (-r RULES -e FILE): evaluate every event, including those
    /// Falco skips by default (EF_DROP_SIMPLE_CONS).
    #[arg(short = 'A')]
    all_events: bool,
    /// Replay: rule evaluation threads.
    #[arg(long = "workers", value_name = "N", default_value_t = 1)]
    workers: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print the events of a capture file, like `sysdig -r FILE [-p FORMAT]`.
    Dump {
        /// Capture file (scap, raw or gzip).
        file: std::path::PathBuf,
        /// Output format of `%field` names (default: sysdig's line format).
        #[arg(short = 'p', long = "print")]
        format: Option<String>,
        /// Filter expression: print only the events it matches.
        filter: Option<String>,
    },
    /// Capture live events from saker.ko into a scap file until SIGINT,
    /// SIGTERM or -M seconds.
    Capture(CaptureArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.version {
        emit(&format!("saker {}\n", env!("CARGO_PKG_VERSION")));
        return ExitCode::SUCCESS;
    }
    if cli.list_fields {
        return run_list_fields();
    }
    if !cli.validate.is_empty() {
        return run_validate(&cli.validate);
    }
    if cli.list_rules {
        return run_list_rules(&cli.rules, cli.expanded);
    }
    if let (Some(file), false) = (
        &cli.events_file,
        cli.daemon || cli.foreground || cli.dry_run || cli.config.is_some() || cli.rules.is_empty(),
    ) {
        return run_replay(&cli, file);
    }
    if cli.daemon
        || cli.foreground
        || cli.dry_run
        || cli.config.is_some()
        || cli.events_file.is_some()
    {
        return run_service(cli);
    }
    match cli.command {
        None => {
            eprintln!("saker: no command given; see `saker --help`");
            ExitCode::from(2)
        }
        Some(Command::Dump {
            file,
            format,
            filter,
        }) => run_dump(&file, format.as_deref(), filter.as_deref()),
        Some(Command::Capture(args)) => run_capture(&args),
    }
}

/// The service (`--daemon`, `--foreground`, `-c`, `-e`, `--dry-run`).
fn run_service(cli: Cli) -> ExitCode {
    use saker::daemon::{self, source::SourceSpec};
    let source = match cli.events_file {
        Some(f) => SourceSpec::File(f),
        None => SourceSpec::Live {
            device: saker::sys::SakerDevice::PATH.into(),
            ring_bytes: None,
        },
    };
    let opts = daemon::Options {
        config: cli.config,
        overrides: cli.overrides,
        rules: cli.rules,
        detach: cli.daemon,
        pidfile: cli.pidfile,
        source,
        dry_run: cli.dry_run,
    };
    match daemon::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("saker: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `saker dump`: prints a capture's events with a format.
fn run_dump(file: &std::path::Path, format: Option<&str>, filter: Option<&str>) -> ExitCode {
    use saker::output::{dump, format::Format};
    let mut filter = match filter.map(saker::engine::filter::Filter::new).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("saker: {e}");
            return ExitCode::from(2);
        }
    };
    let text = format.unwrap_or(saker::output::format::DEFAULT_FORMAT);
    let fmt = match Format::parse(text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("saker: -p {text:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut reader = match saker::capture::Reader::open(file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("saker: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut keep =
        |c: &saker::filter::fields::Ctx<'_>| filter.as_mut().is_none_or(|f| f.matches(c));
    match dump::dump_filtered(&mut reader, &fmt, &mut keep, &mut out) {
        Ok(_) => ExitCode::SUCCESS,
        Err(dump::DumpError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("saker: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Replay (`-r RULES... -e FILE`): evaluates the capture's events against
/// the rules, prints alerts to stdout and Falco's summary to stderr.
fn run_replay(cli: &Cli, file: &std::path::Path) -> ExitCode {
    use saker::engine::{replay, summary::Summary, Engine, Options};
    use saker::output::alert::{Priority, Rendering};
    use std::io::Write as _;
    let mut opts = Options {
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        all_events: cli.all_events,
        ..Options::default()
    };
    let mut rendering = Rendering::default();
    for o in &cli.overrides {
        let (k, v) = o.split_once('=').unwrap_or((o.as_str(), ""));
        let flag = || v.eq_ignore_ascii_case("true");
        match k {
            "json_output" => rendering.json = flag(),
            "json_include_output_property" => rendering.include_output = flag(),
            "json_include_tags_property" => rendering.include_tags = flag(),
            "time_format_iso_8601" => rendering.iso_time = flag(),
            "priority" => match v.parse::<Priority>() {
                Ok(p) => opts.min_priority = p,
                Err(e) => {
                    eprintln!("saker: -o {o}: {e}");
                    return ExitCode::from(2);
                }
            },
            _ => eprintln!("saker: -o {k}: ignored when replaying a capture"),
        }
    }
    let loaded = saker::rules::load_paths(&cli.rules);
    let mut failed = false;
    for d in &loaded.diagnostics {
        eprintln!("{}", d.render());
        failed |= d.is_error();
    }
    if failed {
        return ExitCode::FAILURE;
    }
    let engine = match Engine::new(&loaded.rules, opts) {
        Ok(e) => std::sync::Arc::new(e),
        Err(errs) => {
            for e in errs {
                eprintln!("saker: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    let mut reader = match saker::capture::Reader::open(file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("saker: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut summary = Summary::default();
    let mut emit = |a: saker::output::alert::Alert| {
        summary.add(&a);
        let _ = writeln!(out, "{}", a.render(&rendering));
    };
    let res = replay::replay(&mut reader, &engine, cli.workers.max(1), &mut emit);
    let _ = out.flush();
    eprint!("{}", summary.render());
    match res {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("saker: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `text` to stdout; a closed pipe (`saker -L | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `saker --list`: prints the field catalog.
fn run_list_fields() -> ExitCode {
    let mut text = String::new();
    if saker::filter::catalog::write_list(&mut text).is_err() {
        return ExitCode::FAILURE;
    }
    emit(&text);
    ExitCode::SUCCESS
}

/// `saker -V RULES...`: loads the files in order and reports, per file, its
/// errors and warnings.
fn run_validate(paths: &[std::path::PathBuf]) -> ExitCode {
    use std::fmt::Write;
    let loaded = saker::rules::load_paths(paths);
    let mut out = String::new();
    for file in &loaded.files {
        let diags: Vec<_> = loaded.diagnostics_of(&file.name).collect();
        let errors = diags.iter().filter(|d| d.is_error()).count();
        let warnings = diags.len() - errors;
        let _ = match (errors, warnings) {
            (0, 0) => writeln!(out, "{}: Ok", file.name),
            (0, w) => writeln!(out, "{}: Ok, with {w} warnings:", file.name),
            (e, w) => writeln!(out, "{}: {e} errors, {w} warnings:", file.name),
        };
        for d in diags {
            let _ = writeln!(out, "{d}");
        }
    }
    for d in loaded.diagnostics.iter().filter(|d| d.location.is_none()) {
        let _ = writeln!(out, "{d}");
    }
    emit(&out);
    if loaded.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `saker -L -r RULES...`: lists the loaded rules with their descriptions.
fn run_list_rules(paths: &[std::path::PathBuf], expanded: bool) -> ExitCode {
    use std::fmt::Write;
    if paths.is_empty() {
        eprintln!("saker: -L needs rule files given with -r");
        return ExitCode::from(2);
    }
    let loaded = saker::rules::load_paths(paths);
    for d in loaded.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!("{d}");
    }
    let mut out = String::new();
    let _ = writeln!(out, "{:<50} Description", "Rule");
    let _ = writeln!(out, "{:<50} -----------", "----");
    for r in &loaded.rules {
        let state = if r.enabled { "" } else { " (disabled)" };
        let desc = r.desc.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(out, "{:<50} {desc}{state}", r.name);
        if expanded {
            let _ = writeln!(out, "    condition: {}", r.condition_text);
        }
    }
    emit(&out);
    if loaded.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Options of `saker capture`.
#[derive(Debug, clap::Args)]
struct CaptureArgs {
    /// Capture file to write (scap, readable by `saker dump` and `sysdig -r`).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    write: std::path::PathBuf,
    /// Stop after this many seconds (default: run until SIGINT or SIGTERM).
    #[arg(short = 'M', long = "seconds", value_name = "SECONDS")]
    seconds: Option<u64>,
    /// Event types or syscall names to capture, comma-separated, or `all`.
    /// The set state tracking needs (process, fd and identity events) is
    /// always added.
    #[arg(
        short = 's',
        long = "syscalls",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "all"
    )]
    syscalls: Vec<String>,
    /// Bytes of I/O buffers captured per event.
    #[arg(long, value_name = "N", default_value_t = 80)]
    snaplen: u32,
    /// The capture device.
    #[arg(long, value_name = "PATH", default_value = saker::sys::SakerDevice::PATH)]
    device: std::path::PathBuf,
}

/// `saker capture`: live events from saker.ko into a capture file.
fn run_capture(args: &CaptureArgs) -> ExitCode {
    match capture(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("saker capture: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn capture(args: &CaptureArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    use saker::ring::{capture_loop, session, Interest, Session};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    let mut session = Session::new(session::open_device(&args.device)?)?;
    let interest = if args.syscalls.iter().any(|s| s == "all") {
        Interest::all()
    } else {
        let map = session.syscall_map()?;
        let (chosen, unmatched) = Interest::from_names(&args.syscalls, &map)?;
        if !unmatched.is_empty() {
            eprintln!(
                "saker capture: no syscall produces {}; ignored",
                unmatched.join(", ")
            );
        }
        // A capture file has both events of each call, as sysdig expects.
        chosen.union(&Interest::state_tracking(&map)).paired()
    };
    session.set_interest(&interest)?;
    session.set_snaplen(args.snaplen)?;
    let meta = saker::state::procfs::snapshot().context("reading /proc")?;
    let file = std::fs::File::create(&args.write)
        .with_context(|| format!("creating {}", args.write.display()))?;
    let out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut writer = saker::capture::writer::Writer::new(out, &meta)
        .with_context(|| format!("writing {}", args.write.display()))?;

    let start = Instant::now();
    let deadline = args.seconds.map(|s| start + Duration::from_secs(s));
    let own = u64::from(std::process::id());
    let summary = capture_loop::run::<_, anyhow::Error, _>(
        &mut session,
        Some(own),
        || stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d),
        |cpu, event| Ok(writer.write_event(cpu, event)?),
    )?;
    let out = writer
        .finish()
        .with_context(|| format!("finishing {}", args.write.display()))?;
    // Devices such as /dev/null cannot be synced (EINVAL); that is fine.
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| match f.sync_all() {
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
            r => r,
        })
        .with_context(|| format!("writing {}", args.write.display()))?;

    eprintln!(
        "saker capture: {} events written to {} in {:.1} s ({} of its own left out)",
        summary.events,
        args.write.display(),
        start.elapsed().as_secs_f64(),
        summary.own_events
    );
    eprintln!(
        "{:>4} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "cpu", "events", "drop-full", "faulted", "drop-reent", "drop-large"
    );
    for (cpu, c) in summary.per_cpu.iter().enumerate() {
        eprintln!(
            "{cpu:>4} {:>12} {:>10} {:>10} {:>10} {:>10}",
            c.events, c.drops_full, c.drops_fault, c.drops_reentry, c.drops_toolarge
        );
    }
    Ok(())
}
