//! The `tradesim` binary: parse arguments, call the library, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = tradesim::cli::Cli::parse();
    if let Err(e) = tradesim::cli::main(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
