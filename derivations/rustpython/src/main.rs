//! RustPython's own command-line entry point. 0.5.0's `run` takes the interpreter's
//! builder (no longer an init closure): the standard library, frozen into the binary by
//! the `freeze-stdlib` feature, is added to it here.
use rustpython::{InterpreterBuilder, InterpreterBuilderExt};

pub fn main() -> std::process::ExitCode {
    rustpython::run(InterpreterBuilder::new().init_stdlib())
}
