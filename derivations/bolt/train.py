"""BOLT's training run: runs the bench workloads (at smaller sizes) and every sample
under this interpreter (the instrumented isolate, sys.executable), each in its own
process, so that each writes its profile. Usage: isolate.instr train.py SAMPLES WORKLOADS WORK

The samples run as verify.py runs them (a fresh copy of SAMPLES as the working
directory, stdin /dev/null, PYTHONHASHSEED=0 LC_ALL=C TZ=UTC); their output is not
kept and their exit status is not checked (some samples exit non-zero on purpose).
"""
import json
import os
import shutil
import subprocess
import sys

samples, workloads, work = sys.argv[1:4]
env = {"PYTHONHASHSEED": "0", "LC_ALL": "C", "TZ": "UTC", "PATH": os.environ.get("PATH", os.defpath),
       "HOME": os.environ.get("HOME", work)}


def run(args, cwd):
    subprocess.run([sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)


for script, arg in (("pure_int_loop.py", "300000"), ("dynamic_workload.py", "100000"), ("startup.py", None)):
    run([os.path.join(workloads, script)] + ([arg] if arg else []), workloads)
with open(os.path.join(samples, "manifest.json"), encoding="utf-8") as f:
    manifest = json.load(f)
for sample in manifest["samples"]:
    copy = os.path.join(work, "run")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(samples, copy)
    for root, dirs, files in os.walk(copy):
        os.chmod(root, 0o755)
    run([sample["file"], *sample.get("args", [])], copy)
print(f"slime-bolt: trained on 3 workloads and {len(manifest['samples'])} samples", flush=True)
