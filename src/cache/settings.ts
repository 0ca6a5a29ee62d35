/**
 * Where slime learns which binary caches to substitute from and which keys to trust.
 *
 * Each setting is taken from the first of these that sets it:
 *   1. the command line: --substituters URL..., --trusted-public-keys KEY...
 *   2. the environment: SLIME_SUBSTITUTERS, SLIME_TRUSTED_PUBLIC_KEYS (space-separated)
 *   3. the project's config: slime.json, else .slime.json, in the project root
 *   4. the user's config: $XDG_CONFIG_HOME/slime/config.json (default ~/.config/slime/config.json)
 * `--no-substitute` (or "substitute": false in a config file) turns substitution off.
 *
 * Config file grammar (JSON; every key optional):
 *   { "substituters": [URL, ...], "trustedPublicKeys": [NAME:BASE64, ...], "substitute": true|false }
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SlimeError } from '../errors.js';

export interface SubstitutionSettings {
  enabled: boolean;
  substituters: string[];
  trustedPublicKeys: string[];
  /** Where each setting came from, for messages. */
  sources: string[];
}

interface ConfigFile {
  substituters?: string[];
  trustedPublicKeys?: string[];
  substitute?: boolean;
}

export function configFiles(projectRoot: string, env: NodeJS.ProcessEnv): string[] {
  const xdg = env.XDG_CONFIG_HOME || path.join(env.HOME ?? os.homedir(), '.config');
  return [path.join(projectRoot, 'slime.json'), path.join(projectRoot, '.slime.json'), path.join(xdg, 'slime', 'config.json')];
}

function readConfig(file: string): ConfigFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SlimeError(`config file ${file} is not valid JSON (${(e as Error).message}); fix or remove it`);
  }
  const c = data as Record<string, unknown>;
  const list = (k: string): string[] | undefined => {
    if (c[k] === undefined) return undefined;
    if (!Array.isArray(c[k]) || !(c[k] as unknown[]).every((x) => typeof x === 'string')) {
      throw new SlimeError(`config file ${file}: "${k}" must be a list of strings`);
    }
    return c[k] as string[];
  };
  if (c.substitute !== undefined && typeof c.substitute !== 'boolean') throw new SlimeError(`config file ${file}: "substitute" must be true or false`);
  return { substituters: list('substituters'), trustedPublicKeys: list('trustedPublicKeys'), substitute: c.substitute as boolean | undefined };
}

const words = (s: string | undefined): string[] | undefined => (s === undefined ? undefined : s.split(/\s+/).filter(Boolean));

export function substitutionSettings(
  flags: { substituters?: string[]; trustedPublicKeys?: string[]; noSubstitute?: boolean },
  projectRoot: string,
  env: NodeJS.ProcessEnv,
): SubstitutionSettings {
  const files = configFiles(projectRoot, env);
  // slime.json wins over .slime.json: only the first project file that exists is read.
  const project = fs.existsSync(files[0]) ? files[0] : files[1];
  const layers: { source: string; c: ConfigFile | undefined }[] = [
    {
      source: 'the command line',
      c: { substituters: flags.substituters?.flatMap((s) => words(s)!), trustedPublicKeys: flags.trustedPublicKeys?.flatMap((s) => words(s)!), substitute: flags.noSubstitute ? false : undefined },
    },
    { source: 'the environment', c: { substituters: words(env.SLIME_SUBSTITUTERS), trustedPublicKeys: words(env.SLIME_TRUSTED_PUBLIC_KEYS) } },
    { source: project, c: readConfig(project) },
    { source: files[2], c: readConfig(files[2]) },
  ];
  const sources: string[] = [];
  const first = <K extends keyof ConfigFile>(k: K): ConfigFile[K] | undefined => {
    for (const l of layers) {
      if (l.c?.[k] !== undefined) {
        sources.push(`${k} from ${l.source}`);
        return l.c[k];
      }
    }
    return undefined;
  };
  const substituters = first('substituters') ?? [];
  const trustedPublicKeys = first('trustedPublicKeys') ?? [];
  const enabled = first('substitute') ?? true;
  return { enabled: enabled && substituters.length > 0, substituters, trustedPublicKeys, sources };
}
