# Shared by profile.sh and build.sh (sourced): the functions BOLT 19 must leave alone,
# the check that the input keeps its relocations, and where BOLT's real binary is.

# BOLT 19 cannot instrument functions that dispatch by computed goto (CPython's
# interpreter loop and sre's matchers: "unable to get new address corresponding to
# input address", in instrumentation and in optimisation alike); they are left as
# they are, everything else is laid out anew. In an LTO build (the PGO+LTO isolate) GCC
# renames the local matchers `sre_ucsN_match.lto_priv.0`; BOLT names each local symbol
# NAME/K, so both spellings are listed.
BOLT_SKIP=_PyEval_EvalFrameDefault,sre_ucs1_match/1,sre_ucs2_match/1,sre_ucs4_match/1,sre_ucs1_match/2,sre_ucs2_match/2,sre_ucs4_match/2
BOLT_SKIP=$BOLT_SKIP,sre_ucs1_match.lto_priv.0/1,sre_ucs2_match.lto_priv.0/1,sre_ucs4_match.lto_priv.0/1,sre_ucs1_match.lto_priv.0/2,sre_ucs2_match.lto_priv.0/2,sre_ucs4_match.lto_priv.0/2

check_relocs() {
  if ! readelf -S "$1" | grep -q '\.rela\.text'; then
    echo "slime-bolt: error: $1 has no .rela.text: it was not linked with -Wl,--emit-relocs; build the isolate with linkArgs=-Wl,--emit-relocs" >&2
    exit 2
  fi
}

# BOLT looks for its instrumentation runtime in ../lib of the directory it was run
# from: run the real binary, not the builder's link to it.
find_bolt() {
  b=$(readlink -f "$(command -v llvm-bolt-19)")
  if [ ! -f "$(dirname "$b")/../lib/libbolt_rt_instr.a" ]; then
    echo "slime-bolt: error: $(dirname "$b")/../lib/libbolt_rt_instr.a does not exist; install Debian's bolt-19 (the setup does)" >&2
    exit 2
  fi
  echo "$b"
}
