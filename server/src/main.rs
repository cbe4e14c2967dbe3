//! The `kipina` binary: hands over to `kipina_server::cli`.

fn main() -> std::process::ExitCode {
    kipina_server::cli::main()
}
