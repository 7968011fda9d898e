//! Every case of every spec, as a test: `cargo test --test specs`.

fn main() -> std::process::ExitCode {
    grantspec_runner::harness::main()
}
