use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(prebake::cli::run(std::env::args_os()))
}
