//! The real `kipina` program, built inside the test crate so its tests can start it as a child
//! process (and kill it) through `CARGO_BIN_EXE_kipina-under-test`.

fn main() -> std::process::ExitCode {
    kipina_server::cli::main()
}
