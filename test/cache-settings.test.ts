/**
 * Where substitution takes its caches and keys from (src/cache/settings.ts, README
 * "Where the settings come from"): the command line, then SLIME_SUBSTITUTERS /
 * SLIME_TRUSTED_PUBLIC_KEYS, then the project's slime.json (else .slime.json), then the
 * user's $XDG_CONFIG_HOME/slime/config.json, the first match winning per setting; and
 * `slime key generate`'s files, and `cache push --derivations`. Real runs of the CLI
 * against a file:// cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { slime, tempDir, writeModule } from './support/cli.js';
import { count, events, removeStore } from './support/cache.js';

const dir = tempDir('slime-cache-settings-');
const module = writeModule(dir, 'lone.ts', `export const lone = derivation({ name: 'lone', builder: '/bin/sh', args: ['-c', 'mkdir $out; echo lone > $out/f'], tools: ['mkdir', 'echo'] });
export const targets = [target('lone', 'one tiny build', [lone])];`);
const good = path.join(dir, 'good');
const empty = path.join(dir, 'empty');
/** One store dir for every run (store paths depend on it), emptied before each. */
const store = path.join(dir, 'store');
let pub = '';
let lonePath = '';
let drvPath = '';
let cases = 0;

beforeAll(async () => {
  const built = await slime(['realize', 'lone', '-f', module, '--store', store, '--no-link', '--log-format', 'json', '--no-substitute'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
  lonePath = built.stdout.trim();
  drvPath = String(events(built).find((e) => e.type === 'built')?.drvPath);
  const key = await slime(['key', 'generate', 'settings-test-1', '--dir', dir], { cwd: dir });
  expect(key.code, key.stderr).toBe(0);
  pub = key.stdout.trim();
  const push = await slime(['cache', 'push', `file://${good}`, 'lone', '-f', module, '--derivations', '--store', store, '--key', path.join(dir, 'settings-test-1.sec')], { cwd: dir });
  expect(push.code, push.stderr).toBe(0);
  // A cache that answers but holds nothing.
  fs.mkdirSync(empty);
  fs.writeFileSync(path.join(empty, 'nix-cache-info'), `StoreDir: ${path.dirname(lonePath)}\nWantMassQuery: 1\nPriority: 40\n`);
}, 120_000);

/** A project directory of its own (the cwd, so its slime.json is the project's) and a user config dir. */
function project(files: { slimeJson?: unknown; dotSlimeJson?: unknown; userConfig?: unknown } = {}): { cwd: string; xdg: string; store: string } {
  const cwd = path.join(dir, `case-${++cases}`);
  const xdg = path.join(cwd, 'xdg');
  fs.mkdirSync(path.join(xdg, 'slime'), { recursive: true });
  const write = (file: string, v: unknown) => fs.writeFileSync(file, typeof v === 'string' ? v : JSON.stringify(v));
  if (files.slimeJson !== undefined) write(path.join(cwd, 'slime.json'), files.slimeJson);
  if (files.dotSlimeJson !== undefined) write(path.join(cwd, '.slime.json'), files.dotSlimeJson);
  if (files.userConfig !== undefined) write(path.join(xdg, 'slime', 'config.json'), files.userConfig);
  return { cwd, xdg, store };
}

/** Realizes lone in the project with `args` and `env`; whether it was substituted (true) or built (false). */
async function realize(p: { cwd: string; xdg: string; store: string }, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<boolean> {
  removeStore(p.store);
  const r = await slime(['realize', 'lone', '-f', module, '--store', p.store, '--no-link', '--log-format', 'json', ...args], {
    cwd: p.cwd,
    env: { XDG_CONFIG_HOME: p.xdg, SLIME_SUBSTITUTERS: undefined, SLIME_TRUSTED_PUBLIC_KEYS: undefined, ...env },
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe(lonePath);
  const evs = events(r);
  const substituted = count(evs, 'substituted');
  expect(substituted + count(evs, 'built')).toBe(1);
  return substituted === 1;
}

const goodUrl = () => `file://${good}`;
const emptyUrl = () => `file://${empty}`;

describe('substitution settings: each source on its own', () => {
  it('nothing configured: built', async () => {
    expect(await realize(project())).toBe(false);
  });

  it('the command line', async () => {
    expect(await realize(project(), ['--substituters', goodUrl(), '--trusted-public-keys', pub])).toBe(true);
  });

  it('SLIME_SUBSTITUTERS and SLIME_TRUSTED_PUBLIC_KEYS (space-separated lists)', async () => {
    expect(await realize(project(), [], { SLIME_SUBSTITUTERS: `${emptyUrl()} ${goodUrl()}`, SLIME_TRUSTED_PUBLIC_KEYS: `other-1:${Buffer.alloc(32).toString('base64')} ${pub}` })).toBe(true);
  });

  it("the project's slime.json", async () => {
    expect(await realize(project({ slimeJson: { substituters: [goodUrl()], trustedPublicKeys: [pub] } }))).toBe(true);
  });

  it("the project's .slime.json when there is no slime.json", async () => {
    expect(await realize(project({ dotSlimeJson: { substituters: [goodUrl()], trustedPublicKeys: [pub] } }))).toBe(true);
  });

  it("the user's $XDG_CONFIG_HOME/slime/config.json", async () => {
    expect(await realize(project({ userConfig: { substituters: [goodUrl()], trustedPublicKeys: [pub] } }))).toBe(true);
  });

  it('a cache without a trusted key is not used: built, with a warning', async () => {
    const p = project();
    removeStore(p.store);
    const r = await slime(['realize', 'lone', '-f', module, '--store', p.store, '--no-link', '--log-format', 'json', '--substituters', goodUrl()], { cwd: p.cwd, env: { XDG_CONFIG_HOME: p.xdg } });
    expect(r.code, r.stderr).toBe(0);
    const evs = events(r);
    expect(count(evs, 'built')).toBe(1);
    expect(evs.filter((e) => e.type === 'cache-warning').map((e) => e.reason).join('\n')).toMatch(/not trusted|no trusted/);
  });
});

describe('substitution settings: the first source that sets a setting wins', () => {
  it('the command line over the environment', async () => {
    const p = project();
    expect(await realize(p, ['--substituters', emptyUrl()], { SLIME_SUBSTITUTERS: goodUrl(), SLIME_TRUSTED_PUBLIC_KEYS: pub })).toBe(false);
    expect(await realize(p, ['--no-substitute'], { SLIME_SUBSTITUTERS: goodUrl(), SLIME_TRUSTED_PUBLIC_KEYS: pub })).toBe(false);
  });

  it('the environment over the project', async () => {
    const p = project({ slimeJson: { substituters: [goodUrl()], trustedPublicKeys: [pub] } });
    expect(await realize(p, [], { SLIME_SUBSTITUTERS: emptyUrl() })).toBe(false);
  });

  it('slime.json over .slime.json (only the first is read)', async () => {
    const p = project({ slimeJson: { substituters: [emptyUrl()] }, dotSlimeJson: { substituters: [goodUrl()], trustedPublicKeys: [pub] } });
    expect(await realize(p)).toBe(false);
  });

  it('the project over the user', async () => {
    const p = project({ slimeJson: { substitute: false }, userConfig: { substituters: [goodUrl()], trustedPublicKeys: [pub] } });
    expect(await realize(p)).toBe(false);
  });

  it('per setting: caches from the environment, keys from the project, with the user config below both', async () => {
    const p = project({ slimeJson: { trustedPublicKeys: [pub] }, userConfig: { substituters: [emptyUrl()], trustedPublicKeys: [] } });
    expect(await realize(p, [], { SLIME_SUBSTITUTERS: goodUrl() })).toBe(true);
  });
});

describe('a bad config file', () => {
  it.each([
    ['not JSON', '{"substituters": [', /config file .*slime\.json is not valid JSON .*; fix or remove it/],
    ['a list that is not of strings', { substituters: 'file:///x' }, /config file .*slime\.json: "substituters" must be a list of strings/],
    ['substitute not a boolean', { substitute: 'no' }, /config file .*slime\.json: "substitute" must be true or false/],
  ])('%s: a one-line error naming the file, exit 1, nothing built', async (_, content, message) => {
    const p = project({ slimeJson: content });
    removeStore(p.store);
    const r = await slime(['realize', 'lone', '-f', module, '--store', p.store, '--no-link'], { cwd: p.cwd, env: { XDG_CONFIG_HOME: p.xdg } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(p.store, path.basename(lonePath)))).toBe(false);
  });
});

describe('slime key generate and cache push --derivations', () => {
  it('the secret key is 0600, the public one readable; both in Nix\'s NAME:BASE64 form; an existing key is not overwritten', async () => {
    const sec = path.join(dir, 'settings-test-1.sec');
    const pubFile = path.join(dir, 'settings-test-1.pub');
    expect(fs.statSync(sec).mode & 0o777).toBe(0o600);
    expect(fs.statSync(pubFile).mode & 0o044).toBe(0o044);
    const secret = fs.readFileSync(sec, 'utf8').trim();
    expect(secret).toMatch(/^settings-test-1:[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.split(':')[1], 'base64').length).toBe(64);
    expect(fs.readFileSync(pubFile, 'utf8').trim()).toBe(pub);
    expect(Buffer.from(pub.split(':')[1], 'base64').length).toBe(32);
    const again = await slime(['key', 'generate', 'settings-test-1', '--dir', dir], { cwd: dir });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/settings-test-1\.sec/);
    expect(fs.readFileSync(sec, 'utf8').trim()).toBe(secret);
  });

  it('--derivations puts the .drv in the cache beside the output', () => {
    const narinfos = fs.readdirSync(good).filter((f) => f.endsWith('.narinfo'));
    const storePaths = narinfos.map((f) => /^StorePath: (.*)$/m.exec(fs.readFileSync(path.join(good, f), 'utf8'))![1]);
    expect(storePaths).toContain(lonePath);
    expect(storePaths).toContain(drvPath);
  });
});
