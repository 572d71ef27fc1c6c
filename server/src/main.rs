//! The `sparkboard` binary: parse the command line, set up logging, run the command.

use clap::Parser;
use sparkboard::config::Cli;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        // `demo` is the default: parse again with it, so its flags' env vars still apply.
        cli = Cli::parse_from(std::env::args_os().chain(["demo".into()]));
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let Some(command) = cli.command else { return ExitCode::FAILURE };
    match sparkboard::run::run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sparkboard: {error:#}");
            ExitCode::FAILURE
        }
    }
}
