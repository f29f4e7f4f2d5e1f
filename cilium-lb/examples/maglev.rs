//! Prints the Maglev table of the backends given on the command line as a JSON array of
//! backend indices (their position among the arguments).
//!
//! ```text
//! cargo run -q --release -p cilium-lb --example maglev -- \
//!     --table-size 251 0.0.0.1:1/TCP@2 0.0.0.3:3/TCP@13 0.0.0.4:4/TCP@111 0.0.0.5:5/TCP@10
//! ```
//!
//! A bad argument prints a message naming it and exits with code 2.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => {
                eprintln!("maglev: argument {arg:?} is not UTF-8");
                return ExitCode::from(2);
            }
        }
    }
    match cilium_lb::cli::run(&args) {
        Ok(out) => {
            println!("{}", out.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("maglev: {e}");
            ExitCode::from(2)
        }
    }
}
