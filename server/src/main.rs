//! The `kipina` binary: hands over to `kipina_server::cli`.

/// mimalloc instead of the system allocator: the store's threads allocate what other threads
/// free, which glibc's allocator pays for dearly (ADR 0010).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kipina_server::cli::main()
}
