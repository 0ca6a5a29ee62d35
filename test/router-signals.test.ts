/**
 * The router's static pass: analyze.py under a real CPython 3.11 finds each signal the
 * policy acts on, at the right line, and stays quiet where there is nothing to find.
 * (slime run uses the Full tier's own python3.11; Debian's 3.11 has the same grammar.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeScript, type StaticAnalysis } from '../src/router/signals.js';
import { tempDir } from './support/cli.js';

const PYTHON = '/usr/bin/python3.11';
const dir = tempDir('slime-router-');

function analyze(source: string): StaticAnalysis {
  const file = path.join(dir, `s${Math.random().toString(36).slice(2)}.py`);
  fs.writeFileSync(file, source);
  return analyzeScript(PYTHON, file);
}

function kinds(a: StaticAnalysis): string[] {
  if (!a.ok) throw new Error(`did not parse: ${a.error}`);
  return a.signals.map((s) => `${s.kind}@${s.line}`);
}

describe('router static signals', () => {
  it('finds exception text read through str(), repr(), .args, f-strings and traceback', () => {
    const a = analyze(`import traceback
try:
    {}['k']
except KeyError as e:
    print(str(e))
    print(e.args)
    print(f"got {e}")
try:
    1/0
except Exception as err:
    traceback.print_exc()
`);
    expect(kinds(a)).toEqual(expect.arrayContaining(['exception-text@1', 'exception-text@5', 'exception-text@6', 'exception-text@7', 'exception-text@11']));
  });

  it('does not flag a caught exception that is only counted', () => {
    expect(kinds(analyze(`n = 0
try:
    int("x")
except ValueError:
    n += 1
print(n)
`))).toEqual([]);
  });

  it('finds dynamic code: eval, exec, computed __import__ and import_module', () => {
    const a = analyze(`import importlib, sys
eval("1+1")
exec("x = 1")
m = __import__(sys.argv[1])
j = importlib.import_module("js" + "on")
k = importlib.import_module("json")
`);
    expect(kinds(a)).toEqual(['dynamic-code@2', 'dynamic-code@3', 'dynamic-code@4', 'dynamic-code@5']);
    expect(a.ok && a.imports).toEqual(expect.arrayContaining(['importlib', 'sys', 'json']));
  });

  it('finds hot loops: a large constant range, nested loops that multiply, while True', () => {
    const a = analyze(`for i in range(3_000_000):
    pass
for i in range(1000):
    for j in range(1000):
        pass
for i in range(10):
    pass
while True:
    break
`);
    expect(kinds(a)).toEqual(['hot-loop@1', 'hot-loop@4', 'hot-loop@8']);
  });

  it('notes what only the run can tell: a range bound from argv, and recursion', () => {
    const a = analyze(`import sys
def f(n):
    return 1 if n < 2 else f(n - 1) + f(n - 2)
for i in range(int(sys.argv[1])):
    f(10)
`);
    expect(kinds(a)).toEqual(['recursion@3', 'recursion@3', 'unknown-bound@4']);
  });

  it('collects every imported module name, from-imports included', () => {
    const a = analyze(`import os.path, json as j
from collections import OrderedDict
from . import sibling
`);
    expect(a.ok && a.imports).toEqual(['collections', 'collections.OrderedDict', 'json', 'os.path']);
  });

  it('reports a syntax error with its line instead of failing', () => {
    expect(analyze('x = 1\ndef (:\n')).toEqual({ ok: false, error: 'invalid syntax', line: 2 });
  });
});

describe('router static signals: the host', () => {
  it('finds reads of what a wasm host answers differently: sys.platform, os.getpid(), platform.*', () => {
    const a = analyze(`import sys, os, platform
print(sys.platform)
print(os.getpid())
print(platform.machine())
print(sys.argv[1:])
`);
    expect(kinds(a)).toEqual(['host-query@2', 'host-query@3', 'host-query@4']);
  });
});
