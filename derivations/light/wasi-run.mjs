// Runs a WASI (preview 1) command module under Node's node:wasi, the way slime's
// wasmtime launcher runs it under wasmtime:
//
//   node --no-warnings wasi-run.mjs PREFIX MODULE [ARG...]
//
// PREFIX (the wasm32-wasi CPython's install prefix) and the current directory are
// preopened under their own paths; the environment is inherited, plus SLIME_WASI_CWD
// (which python.wasm enters before main() and removes). The exit status is the
// module's. Node's WASI is not a sandbox: the module can reach what Node can.
// process.stdout is never touched: Node would make fd 1 non-blocking, and a WASI
// write to a full pipe would then fail instead of waiting.
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [prefix, modulePath, ...args] = process.argv.slice(2);
if (!prefix || !modulePath) {
  process.stderr.write('usage: node --no-warnings wasi-run.mjs PREFIX MODULE [ARG...]\n');
  process.exit(2);
}
const cwd = realpathSync(process.cwd());
const wasi = new WASI({
  version: 'preview1',
  args: [modulePath, ...args],
  env: { ...process.env, SLIME_WASI_CWD: cwd },
  preopens: { [prefix]: prefix, [cwd]: cwd },
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(modulePath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
