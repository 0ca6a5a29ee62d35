/**
 * Store metadata: registering and querying N paths in the SQLite database
 * (src/store/db.ts) side by side with the per-path JSON files slime used before
 * (write to a temporary, rename; read and parse), on the same disk.
 *
 *   npm run build && node dist/bench/store-db.js [N]
 *
 * Prints milliseconds for each and the ratio; the numbers are quoted in db.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreDb, type PathInfo } from '../src/store/db.js';

const n = Number(process.argv[2] ?? 1000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-bench-db-'));
const hash = 'sha256-' + Buffer.alloc(32, 7).toString('base64');
const p = (i: number) => `/store/${String(i).padStart(32, '0')}-p${i}`;
const info = (i: number): PathInfo => ({
  path: p(i),
  narHash: hash,
  narSize: 1000 + i,
  references: [i, i - 1, i - 2, i - 3].filter((j) => j >= 0).map(p),
  deriver: `${p(i)}.drv`,
  registrationTime: 1,
  signatures: [],
});

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

// JSON files, as src/store/store.ts wrote them before.
const jsonDir = path.join(dir, 'json');
fs.mkdirSync(jsonDir);
const jsonFile = (i: number) => path.join(jsonDir, `${String(i).padStart(32, '0')}.json`);
const jsonRegister = time(() => {
  for (let i = 0; i < n; i++) {
    const tmp = `${jsonFile(i)}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(info(i), null, 1));
    fs.renameSync(tmp, jsonFile(i));
  }
});
const jsonValid = time(() => {
  for (let i = 0; i < n; i++) if (!fs.existsSync(jsonFile(i))) throw new Error('missing');
});
const jsonQuery = time(() => {
  for (let i = 0; i < n; i++) JSON.parse(fs.readFileSync(jsonFile(i), 'utf8'));
});

let db!: StoreDb;
const open = time(() => (db = new StoreDb(path.join(dir, 'db.sqlite'))));
const sqlRegister = time(() => {
  for (let i = 0; i < n; i++) db.register(info(i));
});
const sqlValid = time(() => {
  for (let i = 0; i < n; i++) if (!db.isValid(p(i))) throw new Error('missing');
});
const sqlQuery = time(() => {
  for (let i = 0; i < n; i++) db.queryInfo(p(i));
});
db.close();
const reopen = time(() => new StoreDb(path.join(dir, 'db.sqlite')).close());
fs.rmSync(dir, { recursive: true, force: true });

const row = (what: string, json: number, sql: number) =>
  console.log(`${what.padEnd(28)} json ${json.toFixed(1).padStart(8)} ms   sqlite ${sql.toFixed(1).padStart(8)} ms   sqlite/json ${(sql / json).toFixed(2)}`);
console.log(`${n} paths, 4 references each (one a self-reference for path 0), in ${os.tmpdir()}`);
row(`register ${n}`, jsonRegister, sqlRegister);
row(`isValid ${n}`, jsonValid, sqlValid);
row(`queryInfo ${n}`, jsonQuery, sqlQuery);
console.log(`open (first, creates schema) ${open.toFixed(1)} ms; reopen ${reopen.toFixed(1)} ms`);
