/** Stores with a few registered paths, made through the Store itself (no build). */
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../src/store/store.js';
import { tempDir } from './cli.js';

/** A well-formed NAR hash; what it hashes does not matter to the tests that use it. */
export const SOME_HASH = `sha256-${'A'.repeat(43)}=`;

/** Writes a one-byte file at `p` and registers it, with `references` (valid paths, or `p`). */
export function registerFile(store: Store, p: string, references: string[] = []): void {
  fs.writeFileSync(p, 'x');
  store.register({ path: p, narHash: SOME_HASH, narSize: 112, references, registrationTime: 1, signatures: [] });
}

/** A new store with a path `<name padded to 32 with a>-<name>` registered per name, closed. */
export function storeWith(names: string[]): { dir: string; paths: string[] } {
  const dir = path.join(tempDir(), 'store');
  const store = new Store(dir);
  store.init();
  const paths = names.map((n) => path.join(dir, `${n.padEnd(32, 'a')}-${n}`));
  for (const p of paths) registerFile(store, p);
  store.close();
  return { dir, paths };
}

/**
 * Sets the store database's times a minute back, as if nothing had written it since: a
 * realize then keeps its validity memo (src/store/validity-memo.ts keeps none for a
 * database written less than a second before), whenever the test runs it.
 */
export function settleDatabase(storeDir: string): void {
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(path.join(storeDir, '.slime', 'db.sqlite'), past, past);
}
