/**
 * Store.closure: the registered paths reachable from some roots, which a build asks of
 * its inputs. The database connection keeps the references it walked (src/store/db.ts,
 * refsById); these tests change references behind it, through its own connection and
 * through another one (another process's, as SQLite sees it), and require every answer
 * to be the database's as it is now.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { tempDir } from './support/cli.js';
import { registerFile as register } from './support/store.js';

const open: Store[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function storeAt(dir: string): Store {
  const store = new Store(dir);
  store.init();
  open.push(store);
  return store;
}

describe('Store.closure', () => {
  const dir = path.join(tempDir('slime-closure-'), 'store');
  const at = (n: string) => path.join(dir, `${n.padEnd(32, 'a')}-${n}`);
  const [a, b, c, d, e, f] = ['a', 'b', 'c', 'd', 'e', 'f'].map(at);
  const sorted = (s: Set<string>) => [...s].sort();

  it('follows references to the end, a self-reference and an unregistered root included', () => {
    const store = storeAt(dir);
    register(store, c, []);
    register(store, b, [c]);
    register(store, a, [b]);
    register(store, d, []);
    register(store, e, [e, d]);
    expect(sorted(store.closure([a]))).toEqual([a, b, c]);
    expect(sorted(store.closure([e]))).toEqual([d, e]);
    expect(sorted(store.closure([a, e]))).toEqual([a, b, c, d, e]);
    // A root that is not registered is its own closure (a build's source that is not valid yet).
    expect(sorted(store.closure([f]))).toEqual([f]);
  });

  it('sees its own registrations: a new path, and a path registered again with other references', () => {
    const store = storeAt(dir);
    expect(sorted(store.closure([a]))).toEqual([a, b, c]);
    register(store, f, [a]);
    expect(sorted(store.closure([f]))).toEqual([a, b, c, f]);
    // As a repair registers a path again: b's references are now d's, not c's.
    register(store, b, [d]);
    expect(sorted(store.closure([f]))).toEqual([a, b, d, f]);
    register(store, b, [c]);
    expect(sorted(store.closure([f]))).toEqual([a, b, c, f]);
  });

  it("sees another connection's changes: references registered again, and paths forgotten and registered anew", () => {
    const store = storeAt(dir);
    const other = storeAt(dir);
    expect(sorted(store.closure([f]))).toEqual([a, b, c, f]);
    register(other, b, [e]);
    expect(sorted(store.closure([f]))).toEqual([a, b, d, e, f]);
    other.forget([f]);
    expect(sorted(store.closure([f]))).toEqual([f]);
    register(other, f, [c]);
    expect(sorted(store.closure([f]))).toEqual([c, f]);
    expect(sorted(store.closure([a]))).toEqual([a, b, d, e]);
  });

  it('sees its own forgetting', () => {
    const store = storeAt(dir);
    expect(sorted(store.closure([a, f]))).toEqual([a, b, c, d, e, f]);
    store.forget([a]);
    expect(sorted(store.closure([a, f]))).toEqual([a, c, f]);
  });
});
