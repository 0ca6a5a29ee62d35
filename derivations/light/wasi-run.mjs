// Runs a WASI (preview 1) command module under Node's node:wasi, the way slime's
// wasmtime launcher runs it under wasmtime:
//
//   node --no-warnings wasi-run.mjs STACK PREFIX MODULE [ARG...]
//
// STACK is the bytes of stack the module's code gets (wasmtime's -W max-wasm-stack):
// the module runs in a worker thread whose stack is that size (V8's default, under
// 1 MiB on the main thread, is less than python.wasm's C recursion to python3.11's
// recursion limit needs). PREFIX (the wasm32-wasi CPython's install prefix; empty for
// a module that reads none) and the current directory are preopened under their own
// paths; the environment is inherited, plus SLIME_WASI_CWD (which the module enters
// before main() and removes). The exit status is the module's; a trap (the stack or
// memory exhausted) is printed and exits 1. Node's WASI is not a sandbox: the module
// can reach what Node can. process.stdout is never touched: Node would make fd 1
// non-blocking, and a WASI write to a full pipe would then fail instead of waiting.
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const MiB = 1024 * 1024;

if (isMainThread) {
  const [stack, prefix, modulePath, ...args] = process.argv.slice(2);
  const stackBytes = Number(stack);
  if (!modulePath || !Number.isInteger(stackBytes) || stackBytes <= 0) {
    process.stderr.write('usage: node --no-warnings wasi-run.mjs STACK-BYTES PREFIX|"" MODULE [ARG...]\n');
    process.exit(2);
  }
  const cwd = realpathSync(process.cwd());
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { prefix, modulePath, args, cwd },
    env: { ...process.env, SLIME_WASI_CWD: cwd },
    // Node keeps a safety margin below the thread's stack for V8: add it on top.
    resourceLimits: { stackSizeMb: Math.ceil(stackBytes / MiB) + 1 },
    stdout: false,
    stderr: false,
  });
  worker.on('error', (e) => {
    process.stderr.write(`wasi-run: ${modulePath}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    process.exitCode = 1;
  });
  worker.on('exit', (code) => {
    if (process.exitCode === undefined) process.exitCode = code;
  });
} else {
  const { prefix, modulePath, args, cwd } = workerData;
  const wasi = new WASI({
    version: 'preview1',
    args: [modulePath, ...args],
    env: process.env,
    preopens: { ...(prefix ? { [prefix]: prefix } : {}), [cwd]: cwd },
    returnOnExit: true,
  });
  const module = await WebAssembly.compile(await readFile(modulePath));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  process.exit(wasi.start(instance));
}
