/**
 * `<hashpart>.narinfo`: what a binary cache says about one store path, exactly as
 * Nix 2.8 writes (`NarInfo::to_string`) and reads (`NarInfo::NarInfo`) it.
 *
 * Grammar:
 *   narinfo     = { line }
 *   line        = field ": " value "\n"
 *   field       = "StorePath"    full store path                        (required)
 *               | "URL"          the NAR file, relative to the cache     (required)
 *               | "Compression"  "none" | "xz" | "zstd" | "bzip2" | ... (default "bzip2")
 *               | "FileHash"     "sha256:" base32 of the file at URL
 *               | "FileSize"     decimal bytes of the file at URL
 *               | "NarHash"      "sha256:" base32 of the NAR             (required)
 *               | "NarSize"      decimal bytes of the NAR, > 0           (required)
 *               | "References"   base names of store paths, " "-separated (may be empty)
 *               | "Deriver"      base name of the .drv, or "unknown-deriver"
 *               | "System"       e.g. "x86_64-linux"
 *               | "Sig"          key-name ":" base64(ed25519 signature)  (any number)
 *               | "CA"           "text:sha256:" base32 | "fixed:" ["r:"] algo ":" base32
 *               | other          ignored, as Nix ignores it
 * Nix writes the fields in the order above; a field other than Sig appears once.
 *
 * The signed fingerprint (Nix's `ValidPathInfo::fingerprint`):
 *   fingerprint = "1;" store-path ";" "sha256:" base32(nar-hash) ";" nar-size ";" references
 *   references  = full store paths, sorted, ","-separated
 */
import { SlimeError } from '../errors.js';
import { toNixBase32 } from '../hash/base32.js';
import { parseHash } from '../hash/digest.js';
import { isStorePathIn } from '../store/paths.js';

export interface NarInfo {
  storePath: string;
  url: string;
  compression: string;
  /** sha256 of the file at `url`, when the cache says. */
  fileHash?: Buffer;
  fileSize?: number;
  narHash: Buffer;
  narSize: number;
  /** Full store paths, sorted. */
  references: string[];
  /** Full path of the deriver `.drv`. */
  deriver?: string;
  system?: string;
  sigs: string[];
  ca?: string;
}

/** A narinfo that cannot be read: the cache served something that is not one. */
export class NarInfoError extends SlimeError {}

/** Larger than any real narinfo (they are a few hundred bytes, plus references). */
export const MAX_NARINFO_BYTES = 1 << 20;

export function parseNarInfo(text: string, storeDir: string): NarInfo {
  const bad = (why: string): NarInfoError => new NarInfoError(`malformed narinfo: ${why}`);
  const fields = new Map<string, string>();
  const sigs: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const eol = text.indexOf('\n', pos);
    if (eol < 0) throw bad('the last line does not end with a newline');
    const line = text.slice(pos, eol);
    pos = eol + 1;
    const colon = line.indexOf(': ');
    if (colon <= 0) throw bad(`line ${JSON.stringify(line.slice(0, 80))} is not "Field: value"`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 2);
    if (name === 'Sig') sigs.push(value);
    else if (fields.has(name)) throw bad(`field ${name} appears twice`);
    else fields.set(name, value);
  }
  const storePath = fields.get('StorePath');
  if (storePath === undefined) throw bad('it has no StorePath');
  const inStore = (base: string, what: string): string => {
    const p = `${storeDir}/${base}`;
    if (base.includes('/') || !isStorePathIn(storeDir, p)) throw bad(`${what} ${JSON.stringify(base)} is not a store path name`);
    return p;
  };
  const url = fields.get('URL');
  if (!url) throw bad('it has no URL');
  const narHashText = fields.get('NarHash');
  if (narHashText === undefined) throw bad('it has no NarHash');
  const narSize = decimal(fields.get('NarSize'), 'NarSize', bad);
  if (narSize === undefined || narSize === 0) throw bad('it has no NarSize, or NarSize is 0');
  const refs = fields.get('References');
  const deriver = fields.get('Deriver');
  return {
    storePath,
    url,
    compression: fields.get('Compression') || 'bzip2',
    fileHash: fields.has('FileHash') ? sha256Field(fields.get('FileHash')!, 'FileHash', bad) : undefined,
    fileSize: decimal(fields.get('FileSize'), 'FileSize', bad),
    narHash: sha256Field(narHashText, 'NarHash', bad),
    narSize,
    references: refs ? refs.split(' ').filter(Boolean).map((r) => inStore(r, 'reference')).sort() : [],
    deriver: deriver && deriver !== 'unknown-deriver' ? inStore(deriver, 'Deriver') : undefined,
    system: fields.get('System'),
    sigs,
    ca: fields.get('CA') || undefined,
  };
}

function decimal(v: string | undefined, name: string, bad: (why: string) => Error): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw bad(`${name} ${JSON.stringify(v)} is not a whole number`);
  return Number(v);
}

function sha256Field(v: string, name: string, bad: (why: string) => Error): Buffer {
  if (!v.startsWith('sha256:')) throw bad(`${name} ${JSON.stringify(v)} is not a sha256 hash`);
  try {
    return parseHash(v, 'sha256').digest;
  } catch (e) {
    throw bad(`${name}: ${(e as Error).message}`);
  }
}

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

export function serializeNarInfo(info: NarInfo): string {
  let s = `StorePath: ${info.storePath}\n`;
  s += `URL: ${info.url}\n`;
  s += `Compression: ${info.compression}\n`;
  if (info.fileHash) s += `FileHash: sha256:${toNixBase32(info.fileHash)}\n`;
  if (info.fileSize !== undefined) s += `FileSize: ${info.fileSize}\n`;
  s += `NarHash: sha256:${toNixBase32(info.narHash)}\n`;
  s += `NarSize: ${info.narSize}\n`;
  s += `References: ${[...info.references].map(base).sort().join(' ')}\n`;
  if (info.deriver) s += `Deriver: ${base(info.deriver)}\n`;
  if (info.system) s += `System: ${info.system}\n`;
  for (const sig of info.sigs) s += `Sig: ${sig}\n`;
  if (info.ca) s += `CA: ${info.ca}\n`;
  return s;
}

/** The bytes a `Sig` signs. */
export function fingerprint(info: Pick<NarInfo, 'storePath' | 'narHash' | 'narSize' | 'references'>): string {
  return `1;${info.storePath};sha256:${toNixBase32(info.narHash)};${info.narSize};${[...info.references].sort().join(',')}`;
}

/** The narinfo file name of a store path: `<hashpart>.narinfo`. */
export function narInfoFileFor(storePath: string): string {
  return `${base(storePath).slice(0, 32)}.narinfo`;
}
