//! The saker command line: parses arguments, installs signal handlers, runs the
//! chosen command and turns library errors into messages and exit codes.
//!
//! Each subcommand is one variant of `Command` and one `run_*` function below.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// saker: host runtime-security agent (kernel capture, Falco-language rules, alerts).
#[derive(Debug, Parser)]
#[command(name = "saker", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => {
            eprintln!("saker: no command given; see `saker --help`");
            ExitCode::from(2)
        }
        Some(Command::Dump { file, format }) => run_dump(&file, format.as_deref()),
    }
}

/// `saker dump`: prints a capture's events with a format.
fn run_dump(file: &std::path::Path, format: Option<&str>) -> ExitCode {
    use saker::output::{dump, format::Format};
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
    match dump::dump(&mut reader, &fmt, &mut out) {
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
