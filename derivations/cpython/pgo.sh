# A PGO+LTO static CPython 3.11, bit for bit, in two derivations:
#
#   pgoStage=profile   configure, the instrumented build and CPython's PGO task
#                      (`make profile-run-stamp` without its final clean), then
#                      the broader training run: the
#                      bench workloads and every sample under the instrumented
#                      ./python (bolt/train.py, $train), whose counters add to the
#                      PGO task's; then $out is the tree of .gcda files,
#                      by their paths relative to the source directory. The
#                      counters depend on timing: this one is nondeterministic.
#   pgoStage=optimize  pristine source, the same configure, the .gcda tree of
#                      $profile restored, `touch profile-run-stamp`, then the
#                      optimized (-fprofile-use, LTO) build and `make altinstall`
#                      into $out, with CFLAGS_NODIST=-frandom-seed=$randomSeed so
#                      that GCC's random LTO section names are fixed.
#
# Both stages must run in the same absolute build directory (setup.py compiles the
# extension modules by absolute path, and GCC names their counters so): the
# derivations share `slimeBuildDir`, a function of the source and the configure
# flags, which the builder turns into NIX_BUILD_TOP: /build in the sandbox,
# /tmp/slime-build-<uid>/$slimeBuildDir with --no-sandbox. The optimize stage
# refuses a profile taken in another directory, where GCC would build every
# extension module without its counters and only warn (-Wmissing-profile).
#
# Run by slime's builder as `/bin/sh -e pgo.sh`; the rest of the env contract is
# cpython/build.sh's (derivations/README.md).

: "${src:?env src (the Python-3.11.x.tgz source tarball) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"
: "${pgoStage:?env pgoStage is not set: profile or optimize}"
: "${NIX_BUILD_CORES:=1}"
# shellcheck source=derivations/cpython/steps.sh
. "${steps:?env steps (derivations/cpython/steps.sh) is not set: the derivation must pass it}"

case "$pgoStage" in
  profile)
    : "${train:?env train (bolt/train.py) is not set for pgoStage=profile}"
    : "${samples:?env samples (the samples/ directory) is not set for pgoStage=profile}"
    : "${workloads:?env workloads (bench/workloads/) is not set for pgoStage=profile}"
    ;;
  optimize)
    : "${profile:?env profile (the .gcda tree of the pgo-profile derivation) is not set for pgoStage=optimize}"
    : "${randomSeed:?env randomSeed is not set for pgoStage=optimize}"
    # Where the profile run happened, from an extension module's counters:
    # build/temp.<platform>/<build directory>/Python-<version>/Modules/<name>.gcda
    # (libpython's are named relative to the source directory, wherever it is).
    counters=
    if [ -d "$profile/build" ]; then
      counters=$(cd "$profile" && find build -path '*/Python-*/Modules/*.gcda' | head -n 1)
    fi
    if [ -n "$counters" ]; then
      taken_in=/${counters#build/temp.*/}
      taken_in=${taken_in%%/Python-*}
      if [ "$taken_in" != "$NIX_BUILD_TOP" ]; then
        echo "slime: error: the PGO profile $profile was taken in the build directory $taken_in," \
          "and this build runs in $NIX_BUILD_TOP: GCC would build every extension module without its" \
          "profile, and the output would differ from a build in $taken_in. A sandboxed build runs in" \
          "/build, one with --no-sandbox in /tmp/slime-build-<uid>/. Build this derivation as its" \
          "profile was built, or take the profile here too: \`slime store delete $profile\`," \
          "then realize again with --no-substitute" >&2
        exit 1
      fi
    fi
    ;;
  *)
    echo "slime: error: pgoStage must be profile or optimize, not \"$pgoStage\"" >&2
    exit 1
    ;;
esac

export PYTHONHASHSEED=0
export PYTHONSTRICTEXTENSIONBUILD=1

cpython_unpack
cpython_patch
cpython_configure_static

if [ "$pgoStage" = profile ]; then
  # What `make profile-run-stamp` does, minus its last step: that one ends with
  # `make clean-retain-profile`, which deletes the instrumented build's extension
  # modules that the training run below still needs (and this stage keeps only the
  # .gcda files anyway).
  echo "slime: phase make"
  if ! make -j"$NIX_BUILD_CORES" profile-gen-stamp; then
    echo "slime: error: the instrumented build failed; see the log above" >&2
    exit 1
  fi
  # CPython's PGO task (its own recipe ends in `|| true`: a failing test does not stop it).
  make run_profile_task
  make build_all_merge_profile
  # CPython's --pgo task is its regression tests; the isolate's users run programs like
  # the samples and the bench workloads, so those train the profile too (issue 14's
  # "broader PGO training run"). gcc adds the new counters to the task's .gcda files.
  echo "slime: phase train"
  mkdir -p "$NIX_BUILD_TOP/home"
  if ! HOME="$NIX_BUILD_TOP/home" ./python "$train" "$samples" "$workloads" "$NIX_BUILD_TOP/train"; then
    echo "slime: error: the broader PGO training run (bolt/train.py under the instrumented ./python) failed; see the log above" >&2
    exit 1
  fi
  echo "slime: phase install"
  count=$(find . -name '*.gcda' | wc -l)
  if [ "$count" -eq 0 ]; then
    echo "slime: error: the PGO task wrote no .gcda files; was CPython configured with --enable-optimizations?" >&2
    exit 1
  fi
  mkdir -p "$out"
  find . -name '*.gcda' | sort | tar -cf - -T - | (cd "$out" && tar -xf -)
  echo "slime: kept $count .gcda files"
  exit 0
fi

cpython_unchecked_hash_pycs

echo "slime: restoring the profile from $profile"
(cd "$profile" && tar -cf - .) | tar -xf -
chmod -R u+w .
touch profile-run-stamp

echo "slime: phase make"
# CONFIGURE_CFLAGS_NODIST keeps configure's flags (-flto ...); CFLAGS_NODIST is ours.
if ! make -j"$NIX_BUILD_CORES" CFLAGS_NODIST="-frandom-seed=$randomSeed"; then
  echo "slime: error: the optimized build failed. A coverage-mismatch error means the profile was taken" \
    "from other sources or another build directory than this one ($PWD)" >&2
  exit 1
fi

echo "slime: phase install"
# altinstall re-enters the build (libinstall: all): the same flags, or it recompiles.
make altinstall CFLAGS_NODIST="-frandom-seed=$randomSeed"
