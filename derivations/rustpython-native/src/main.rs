//! RustPython's own command-line entry point.
pub fn main() -> std::process::ExitCode {
    rustpython::run(|_vm| {})
}
