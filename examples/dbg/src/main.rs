//! `cilium-dbg`: see the library's documentation and the README.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cilium_dbg::cli::Cli::parse();
    ExitCode::from(cilium_dbg::run(&cli))
}
