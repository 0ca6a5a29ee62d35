//! Links the static libpython3.11.a of the CPython named by `SLIME_PYTHON`.
//!
//! pyo3's own link lines are suppressed (`suppress_build_script_link_lines`
//! in the PyO3 config file): they cannot say `+whole-archive` and their
//! `rustc-link-arg`s would not reach this binary anyway.

use std::env;
use std::path::Path;
use std::process::{exit, Command};

fn fail(message: &str) -> ! {
    eprintln!("error: isolate build.rs: {message}");
    exit(1);
}

fn main() {
    println!("cargo:rerun-if-env-changed=SLIME_PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    let python = env::var("SLIME_PYTHON").unwrap_or_else(|_| {
        fail("SLIME_PYTHON is not set: set it to the CPython 3.11 installation (its prefix, containing lib/libpython3.11.a) to embed")
    });
    if !Path::new(&python).is_absolute() {
        fail(&format!("SLIME_PYTHON={python} is not an absolute path: it is compiled in as the interpreter's home"));
    }
    let lib_dir = format!("{python}/lib");
    let archive = format!("{lib_dir}/libpython3.11.a");
    if !Path::new(&archive).is_file() {
        fail(&format!("{archive} does not exist: SLIME_PYTHON must be a CPython 3.11 built with --disable-shared"));
    }

    println!("cargo:rustc-link-search=native={lib_dir}");
    // Whole archive, as CPython links its own `python`: the lib-dynload
    // extensions call C-API functions that nothing in the core references,
    // and an archive member that is not pulled in cannot be exported to them.
    println!("cargo:rustc-link-lib=static:+whole-archive=python3.11");
    // Extension modules are shared objects that resolve the C API against the
    // executable, so every libpython symbol must be in the dynamic symbol table.
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic");

    // The system libraries libpython needs are the ones CPython's own link of
    // `python` used: LIBS, MODLIBS (built-in modules) and SYSLIBS.
    let interpreter = format!("{python}/bin/python3.11");
    // Second line: the flags CPython's own link of `python` gave the compiler
    // (PY_LDFLAGS_NODIST), of which the LTO ones govern how libpython's code is
    // generated at this link.
    let query = "import sysconfig; print(' '.join(sysconfig.get_config_var(v) or '' for v in ('LIBS', 'MODLIBS', 'SYSLIBS'))); print(sysconfig.get_config_var('PY_LDFLAGS_NODIST') or '')";
    let output = Command::new(&interpreter)
        .args(["-E", "-S", "-c", query])
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run {interpreter} to read its link libraries: {e}")));
    if !output.status.success() {
        fail(&format!(
            "{interpreter} failed to report its link libraries ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8(output.stdout).unwrap_or_else(|_| fail("sysconfig's link libraries are not UTF-8"));
    let mut lines = text.lines();
    let libs = lines.next().unwrap_or("");
    let ldflags = lines.next().unwrap_or("");
    // An --with-lto CPython's libpython3.11.a holds GCC's LTO bytecode, compiled into
    // machine code at this link: link it as CPython linked python3.11
    // (`-flto -fuse-linker-plugin -ffat-lto-objects -flto-partition=none`). Without
    // `-flto-partition=none` GCC splits the program into partitions and optimises across
    // them less: the isolate ran 0.2% more instructions than its own python3.11, with
    // more mispredicted branches, and 2-4% more wall time (derivations/README.md). `-g`
    // and anything else are left out: the isolate is stripped.
    for flag in ldflags.split_whitespace() {
        if flag.starts_with("-flto") || flag == "-fuse-linker-plugin" || flag == "-ffat-lto-objects" || flag == "-fno-semantic-interposition" {
            println!("cargo:rustc-link-arg-bins={flag}");
        }
    }
    for flag in libs.split_whitespace() {
        match flag.strip_prefix("-l") {
            Some(name) => println!("cargo:rustc-link-lib=dylib={name}"),
            None => fail(&format!(
                "unexpected link flag {flag:?} in {interpreter}'s LIBS/MODLIBS/SYSLIBS: only -lNAME is understood; teach build.rs what it means"
            )),
        }
    }
}
