//! `isolate SCRIPT [ARGS]`: runs SCRIPT exactly as `python3.11 SCRIPT [ARGS]`
//! of the CPython this binary was linked against.
//!
//! Byte-for-byte equality is obtained by not reimplementing anything: this is
//! CPython's own `Py_BytesMain` (Modules/main.c, `pymain_main`), with the one
//! difference that the configuration pins `home` to that CPython's store path.
//! Command-line parsing, `sys.argv`, `sys.path[0]`, `__file__`, the traceback
//! printer, `SystemExit` handling, atexit, joining non-daemon threads at
//! finalisation, re-raising SIGINT after an unhandled KeyboardInterrupt (exit
//! status 130 as seen by a shell) and the PEP 538/540 UTF-8 handling under
//! `env -i` are therefore CPython's code paths, not copies of them.
//!
//! `home` cannot come from `PYTHONHOME` instead: that variable would be
//! visible in `os.environ` and inherited by every child process, which a plain
//! `python3.11` run does not do. For the same reason the fixed string hash seed
//! (SlimePython's determinism policy) is set in the configuration
//! (`use_hash_seed`/`hash_seed`), never as `PYTHONHASHSEED` in the environment.
//!
//! One thing differs after the script, where no Python code can see it: this
//! process ends as soon as `Py_RunMain` returns, so it asks CPython (the switch
//! of derivations/cpython/exit-without-freeing.patch) to leave the interpreter's
//! memory to the exit instead of freeing it object by object, ~8 % of the
//! instructions of a start. Threads, atexit, module teardown and the last
//! flushes of `sys.stdout` and `sys.stderr` all happen as in python3.11, and an
//! audit hook or `PYTHONMALLOCSTATS`, which could see the release, turn it off.
//!
//! `#![no_main]`: Rust's runtime start-up would install SIGSEGV/SIGBUS
//! handlers on an alternate stack before `main`; `python3.11` has none, and a
//! crash must look the same.

#![no_main]

use pyo3::ffi;
use std::ffi::{c_char, c_int, CStr};
use std::mem::MaybeUninit;

#[allow(non_upper_case_globals)]
extern "C" {
    /// Non-zero: `Py_FinalizeEx` stops once nothing Python can observe is left,
    /// leaving the interpreter's memory to the process's exit. Added to CPython
    /// by derivations/cpython/exit-without-freeing.patch; 0 in python3.11.
    static mut _Py_ExitWithoutFreeing: c_int;
}

/// The CPython installation whose `libpython3.11.a` is linked in: its
/// `lib/python3.11` is the only stdlib this binary may ever import. Fixed at
/// build time by build.rs from `SLIME_PYTHON`.
const PYTHON_HOME: &CStr = match CStr::from_bytes_with_nul(
    concat!(env!("SLIME_PYTHON"), "\0").as_bytes(),
) {
    Ok(home) => home,
    Err(_) => panic!("SLIME_PYTHON contains a NUL byte"),
};

/// Reads the configuration the way `pymain_init` does, plus `home`.
///
/// The argument vector must be set first: it pre-initialises the runtime
/// (locale coercion, UTF-8 mode, `-E`/`-I`/`-X utf8`), and any other setter
/// called before it would pre-initialise without the command line.
unsafe fn initialize(config: *mut ffi::PyConfig, argc: c_int, argv: *mut *mut c_char) -> ffi::PyStatus {
    let status = ffi::PyConfig_SetBytesArgv(config, argc as ffi::Py_ssize_t, argv as *mut *const c_char);
    if ffi::PyStatus_Exception(status) != 0 {
        return status;
    }
    let status = ffi::PyConfig_SetBytesString(config, &mut (*config).home, PYTHON_HOME.as_ptr());
    if ffi::PyStatus_Exception(status) != 0 {
        return status;
    }
    // SlimePython's determinism policy: string hashing (and so set iteration
    // order) is fixed unless the caller chose a seed. A caller's PYTHONHASHSEED
    // is left to CPython (use_hash_seed stays -1, "read the environment"), so
    // that `-E`/`-I` ignore it and a bad value fails exactly as in python3.11.
    // Without one, the seed is 0 as under `PYTHONHASHSEED=0 python3.11`, with
    // the same `sys.flags.hash_randomization` (0), but nothing is added to the
    // environment: `os.environ` and every child process see what python3.11's
    // would.
    if std::env::var_os("PYTHONHASHSEED").is_none() {
        (*config).use_hash_seed = 1;
        (*config).hash_seed = 0;
    }
    ffi::Py_InitializeFromConfig(config)
}

#[no_mangle]
pub extern "C" fn main(argc: c_int, argv: *mut *mut c_char) -> c_int {
    unsafe {
        let mut config = MaybeUninit::<ffi::PyConfig>::uninit();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let status = initialize(config.as_mut_ptr(), argc, argv);
        ffi::PyConfig_Clear(config.as_mut_ptr());

        // As pymain_main: `--version`, `-h` and usage errors end here with
        // their own exit status; a failed initialisation is fatal.
        if ffi::PyStatus_IsExit(status) != 0 {
            return status.exitcode;
        }
        if ffi::PyStatus_Exception(status) != 0 {
            ffi::Py_ExitStatusException(status);
        }
        // Py_RunMain's Py_FinalizeEx is this process's last use of CPython:
        // main returns its exit status right after.
        _Py_ExitWithoutFreeing = 1;
        ffi::Py_RunMain()
    }
}
