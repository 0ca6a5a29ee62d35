"""Benchmark workload: start-up alone (launch, initialise, run nothing, exit).

    python3.11 startup.py

What a WebAssembly runner pays before the first line of a program: loading (and for a
JIT, compiling) the module, and CPython's own initialisation.
"""
