"""A child started with an explicit environment sees exactly that environment: env={} gives an empty one (but the LC_CTYPE that C locale coercion adds), env={"ONLY": "1"} gives ONLY. An interpreter that put PYTHONHASHSEED (or PYTHONHOME) into its own environment would hand it to every child.

The child is this interpreter itself (sys.executable), as in CPython's
test_subprocess.test_empty_env.
"""
import subprocess
import sys

SHOW = "import os; print(sorted(os.environ))"

for env in ({}, {"ONLY": "1"}):
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, stdout=subprocess.PIPE, check=True).stdout
    print(sorted(env), "->", out.decode().strip())
