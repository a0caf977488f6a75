//! The `rfrisk` command line: parse, run one subcommand (src/cli/), print, exit with its code.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::parse().and_then(cli::run) {
        Ok(stdout) => {
            print!("{stdout}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
