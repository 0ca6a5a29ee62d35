/**
 * Nix 2.8's `hashDerivationModulo` and the paths that follow from it.
 *
 * The modulo hash of a fixed-output derivation is
 *   sha256("fixed:out:" hash-algo ":" hex-hash ":" out-path)
 * so that changing how a fixed output is fetched does not change anything that
 * depends on it. For any other derivation it is sha256 of its ATerm with every
 * input `.drv` path replaced by the hex of that input's modulo hash.
 */
import { SlimeError } from '../errors.js';
import { hashBytes, isHashAlgo } from '../hash/digest.js';
import { makeFixedOutputPath, makeOutputPath, makeTextPath } from '../store/paths.js';
import { type DrvData, serializeDrv } from './aterm.js';

/** The single `out` output of a fixed-output derivation, or undefined if `d` is not one. */
function fixedOutput(d: DrvData): DrvData['outputs'][string] | undefined {
  const names = Object.keys(d.outputs);
  const out = d.outputs.out;
  return names.length === 1 && out !== undefined && out.hash !== '' ? out : undefined;
}

/**
 * The modulo hash of `d` as it stands (output paths included), which is what a
 * derivation depending on `d` needs from `inputDrvModulo`.
 */
export function hashDerivationModulo(d: DrvData, inputDrvModulo: (drvPath: string) => Buffer): Buffer {
  const fixed = fixedOutput(d);
  if (fixed !== undefined) return hashBytes(`fixed:out:${fixed.hashAlgo}:${fixed.hash}:${fixed.path}`);
  const inputs: Record<string, Set<string>> = {};
  for (const [drvPath, outputs] of Object.entries(d.inputDrvs)) {
    const hex = inputDrvModulo(drvPath).toString('hex');
    inputs[hex] ??= new Set();
    for (const o of outputs) inputs[hex].add(o);
  }
  const inputDrvs = Object.fromEntries(Object.entries(inputs).map(([hex, outs]) => [hex, [...outs]]));
  return hashBytes(serializeDrv({ ...d, inputDrvs }));
}

/**
 * `d` with its output paths computed and written into `outputs` and `env`, as Nix's
 * `derivation` builtin does. `d.outputs` names the outputs; their paths may be blank.
 */
export function fillOutputPaths(
  storeDir: string,
  name: string,
  d: DrvData,
  inputDrvModulo: (drvPath: string) => Buffer,
): DrvData {
  const fixed = fixedOutput(d);
  if (fixed !== undefined) {
    const path = makeFixedOutputPath(storeDir, name, fixedOutputAddress(name, fixed.hashAlgo, fixed.hash));
    return { ...d, outputs: { out: { ...fixed, path } }, env: { ...d.env, out: path } };
  }
  const names = Object.keys(d.outputs);
  const hashed = names.filter((o) => d.outputs[o].hash !== '');
  if (hashed.length > 0) {
    throw new SlimeError(
      `derivation '${name}' gives a fixed hash for output${hashed.length > 1 ? 's' : ''} ${hashed.join(', ')}, but a fixed-output ` +
        `derivation has exactly one output, "out"; drop the other outputs or the hash.`,
    );
  }
  if (names.length === 0) {
    throw new SlimeError(`derivation '${name}' has no outputs; give it at least one (usually "out").`);
  }
  const blank = (value: (output: string) => string): Pick<DrvData, 'outputs' | 'env'> => ({
    outputs: Object.fromEntries(names.map((o) => [o, { path: value(o), hashAlgo: '', hash: '' }])),
    env: { ...d.env, ...Object.fromEntries(names.map((o) => [o, value(o)])) },
  });
  const modulo = hashDerivationModulo({ ...d, ...blank(() => '') }, inputDrvModulo);
  const paths = Object.fromEntries(names.map((o) => [o, makeOutputPath(storeDir, name, o, modulo)]));
  return { ...d, ...blank((o) => paths[o]) };
}

function fixedOutputAddress(name: string, hashAlgo: string, hash: string) {
  const recursive = hashAlgo.startsWith('r:');
  const algo = recursive ? hashAlgo.slice(2) : hashAlgo;
  if (!isHashAlgo(algo)) {
    throw new SlimeError(
      `fixed-output derivation '${name}' has hash algorithm '${hashAlgo}'; use sha256, sha512, sha1 or md5, ` +
        `with "r:" in front for a recursive (NAR) hash.`,
    );
  }
  if (!/^[0-9a-f]+$/.test(hash)) {
    throw new SlimeError(`fixed-output derivation '${name}' has hash '${hash}', which is not lowercase base16; write it in hex.`);
  }
  return { method: recursive ? ('recursive' as const) : ('flat' as const), algo, digest: Buffer.from(hash, 'hex') };
}

/** The `.drv` path of `d`: a text path whose references are its sources and input derivations. */
export function drvPathOf(storeDir: string, name: string, d: DrvData): string {
  return makeTextPath(storeDir, `${name}.drv`, serializeDrv(d), [...d.inputSrcs, ...Object.keys(d.inputDrvs)]);
}
