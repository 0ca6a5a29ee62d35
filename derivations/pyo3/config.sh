# Writes $out, a PYO3_CONFIG_FILE (pyo3-build-config's key=value format) for
# the static CPython 3.11 in $python, so that pyo3 never goes looking for an
# interpreter on the host.
#
# Run by slime's builder as `/bin/sh -e config.sh`; env contract in
# derivations/README.md. Needs no host tool: the only program run is
# $python/bin/python3.11.

: "${python:?env python (the CPython store path) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"

# -E -S: the answers must come from this CPython's sysconfig alone, whatever
# the environment or a site-packages say.
"$python/bin/python3.11" -E -S -c '
import struct, sys, sysconfig

prefix = sys.argv[1]
v = sysconfig.get_config_var

def fail(message):
    sys.exit("error: derivations/pyo3/config.sh: " + message)

if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
    fail(prefix + " is " + sys.implementation.name + " " + sys.version.split()[0] + ", not CPython 3.11: the isolate is written against 3.11")
if v("Py_ENABLE_SHARED"):
    fail(prefix + " was built with --enable-shared: the isolate links libpython statically; build it with --disable-shared")
# A prefix that differs from the store path would mean the output-path rewrite
# missed the sysconfig data, and pyo3 would be pointed at a build directory.
if v("prefix") != prefix:
    fail("sysconfig says prefix=" + v("prefix") + " but the store path is " + prefix)

# pyo3-build-config turns these into cfgs that change struct layouts; the same
# rule as its own from_interpreter(): a flag is set when its config var is 1,
# and Py_DEBUG implies Py_REF_DEBUG.
flags = [f for f in ("Py_DEBUG", "Py_REF_DEBUG", "Py_TRACE_REFS", "COUNT_ALLOCS", "Py_GIL_DISABLED") if v(f) == 1]
if "Py_DEBUG" in flags and "Py_REF_DEBUG" not in flags:
    flags.append("Py_REF_DEBUG")

lines = {
    "implementation": "CPython",
    "version": "%d.%d" % sys.version_info[:2],
    "shared": "false",
    "abi3": "false",
    "lib_name": "python" + v("LDVERSION"),
    "lib_dir": v("LIBDIR"),
    "executable": prefix + "/bin/python" + v("LDVERSION"),
    "pointer_width": str(struct.calcsize("P") * 8),
    "build_flags": ",".join(sorted(flags)),
    # The isolate links libpython itself (whole archive, --export-dynamic):
    # link arguments printed by pyo3-ffi would not reach its binary anyway.
    "suppress_build_script_link_lines": "true",
}
sys.stdout.write("".join(k + "=" + val + "\n" for k, val in lines.items()))
' "$python" > "$out"
