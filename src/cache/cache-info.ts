/**
 * `nix-cache-info`: the file at the root of a binary cache that says which store it
 * is for, as Nix 2.8 reads (`BinaryCacheStore::init`) and writes it.
 *
 * Grammar:
 *   nix-cache-info = { line }
 *   line           = "StoreDir: " absolute-path "\n"    the store dir the paths belong to
 *                  | "WantMassQuery: " ("0" | "1") "\n" whether clients may query many paths
 *                  | "Priority: " decimal "\n"          lower is tried first (Nix's default 50)
 *                  | other-field ": " value "\n"        ignored
 * A cache that Nix created holds just the StoreDir line.
 */
import { SlimeError } from '../errors.js';

export interface CacheInfo {
  storeDir: string;
  wantMassQuery?: boolean;
  priority?: number;
}

export const DEFAULT_PRIORITY = 50;

export function parseCacheInfo(text: string): CacheInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const storeDir = fields.get('StoreDir');
  if (!storeDir || !storeDir.startsWith('/')) {
    throw new SlimeError('malformed nix-cache-info: it has no StoreDir line with an absolute path');
  }
  const priority = fields.get('Priority');
  if (priority !== undefined && !/^\d+$/.test(priority)) {
    throw new SlimeError(`malformed nix-cache-info: Priority ${JSON.stringify(priority)} is not a whole number`);
  }
  const want = fields.get('WantMassQuery');
  return {
    storeDir: storeDir.replace(/\/+$/, ''),
    wantMassQuery: want === undefined ? undefined : want === '1',
    priority: priority === undefined ? undefined : Number(priority),
  };
}

export function serializeCacheInfo(info: CacheInfo): string {
  let s = `StoreDir: ${info.storeDir}\n`;
  if (info.wantMassQuery !== undefined) s += `WantMassQuery: ${info.wantMassQuery ? 1 : 0}\n`;
  if (info.priority !== undefined) s += `Priority: ${info.priority}\n`;
  return s;
}
