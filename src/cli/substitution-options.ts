/**
 * The options of `slime realize` and `slime tui` that choose binary caches to
 * substitute from (see src/cache/settings.ts for the lookup order).
 */
import type { Substituter } from '../cache/substituter.js';
import { substitutionSettings } from '../cache/settings.js';
import type { Store } from '../store/store.js';
import type { CliContext } from './command.js';

export const substitutionOptions = {
  substituters: { type: 'string', multiple: true },
  'trusted-public-keys': { type: 'string', multiple: true },
  'no-substitute': { type: 'boolean' },
} as const;

export const SUBSTITUTION_HELP = `      --substituters URL...          binary caches to substitute from before building
                                     (file:///dir, http(s)://...; space-separated or repeated)
      --trusted-public-keys KEY...   NAME:BASE64 keys whose signatures are trusted
      --no-substitute                build everything, ask no cache
  Without the flags: $SLIME_SUBSTITUTERS and $SLIME_TRUSTED_PUBLIC_KEYS, then
  slime.json (or .slime.json) in the project, then ~/.config/slime/config.json:
  {"substituters": [...], "trustedPublicKeys": [...]}.`;

const LOOKS_LIKE = {
  '--substituters': /^[a-z][a-z0-9+]*:\/\//,
  '--trusted-public-keys': /^[^\s:]+:[A-Za-z0-9+/]{43}=$/,
} as const;

/**
 * `--substituters A B` and `--trusted-public-keys K1 K2`: the words after the flag
 * that look like URLs (or keys) belong to it, as the usage `URL...` says; they are
 * joined into one space-separated value. Targets never look like either.
 */
export function gatherListArgs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i] as keyof typeof LOOKS_LIKE;
    const pattern = LOOKS_LIKE[flag];
    if (pattern === undefined || i + 1 >= args.length) {
      out.push(args[i]);
      continue;
    }
    const values = [args[++i]];
    while (i + 1 < args.length && pattern.test(args[i + 1])) values.push(args[++i]);
    out.push(flag, values.join(' '));
  }
  return out;
}

/** The cache client is loaded only when caches are configured: a run without them loads none of it. */
export async function substituterFor(
  values: { substituters?: string[]; 'trusted-public-keys'?: string[]; 'no-substitute'?: boolean },
  ctx: CliContext,
  store: Store,
): Promise<Substituter | undefined> {
  const settings = substitutionSettings(
    { substituters: values.substituters, trustedPublicKeys: values['trusted-public-keys'], noSubstitute: values['no-substitute'] },
    ctx.cwd,
    ctx.env,
  );
  if (!settings.enabled) return undefined;
  const { Substituter } = await import('../cache/substituter.js');
  return new Substituter(store, settings.substituters, settings.trustedPublicKeys, ctx.env);
}
