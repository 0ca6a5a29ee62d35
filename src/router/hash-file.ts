import fs from 'node:fs';
import { createHash } from 'node:crypto';

/** sha256 hex of a file's bytes: how the router keys scripts (runs, verification results). */
export function hashFileHex(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
