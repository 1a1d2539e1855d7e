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
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => {
            eprintln!("saker: no command given; see `saker --help`");
            ExitCode::from(2)
        }
    }
}
