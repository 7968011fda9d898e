//! Every case of every spec, as a test: `cargo test --test specs`.

/// mimalloc rather than the system allocator. Reading a large spec makes
/// some fifteen small allocations a case on two threads; glibc grows the
/// second thread's heap a page (and a system call) at a time, while
/// mimalloc takes memory in large aligned regions, backed by transparent
/// huge pages where the kernel allows them, so a 10,000-case spec loads
/// with a few hundred page faults instead of thousands (README,
/// Performance). `xtask` uses the same allocator, so the bench compares
/// this binary with baselines on the same one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    grantspec_runner::harness::main()
}
