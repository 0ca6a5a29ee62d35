"""Benchmark workload: start-up and shutdown alone.

    python3.11 startup.py

Does nothing, so what is measured is what every run pays before the first line of a
script and after its last: loading the interpreter, reading its configuration, importing
the start-up modules (site, encodings, ...), and finalising. A difference between the
isolate and its own python3.11 here is a link or start-up difference, not the
interpreter loop.

For a WebAssembly runner it is also what loading (and for a JIT, compiling) the module
costs before the first line of a program.
"""
