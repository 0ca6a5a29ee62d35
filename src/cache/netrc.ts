/**
 * Credentials for HTTP binary caches from a netrc file (`$NETRC`, else `~/.netrc`),
 * as curl and Nix read it.
 *
 * Grammar (tokens separated by any whitespace; `#` starts a comment line):
 *   netrc   = { entry }
 *   entry   = ("machine" host | "default") { "login" user | "password" secret | "account" x | "port" n }
 *   "macdef" name starts a macro that runs to the next empty line and is skipped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Credentials {
  login: string;
  password: string;
}

export function netrcFile(env: NodeJS.ProcessEnv): string {
  return env.NETRC ?? path.join(env.HOME ?? os.homedir(), '.netrc');
}

/** The login and password for `host`, or undefined when the file has none (or does not exist). */
export function credentialsFor(host: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(netrcFile(env), 'utf8');
  } catch {
    return undefined;
  }
  return lookup(parseNetrc(text), host);
}

interface Entry {
  machine?: string;
  login?: string;
  password?: string;
}

export function parseNetrc(text: string): Entry[] {
  const lines = text.split('\n');
  const tokens: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*#/.test(line)) continue;
    const words = line.split(/\s+/).filter(Boolean);
    const macdef = words.indexOf('macdef');
    if (macdef >= 0) {
      tokens.push(...words.slice(0, macdef));
      while (i + 1 < lines.length && lines[i + 1].trim() !== '') i++;
      continue;
    }
    tokens.push(...words);
  }
  const entries: Entry[] = [];
  let current: Entry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine') entries.push((current = { machine: tokens[++i] }));
    else if (t === 'default') entries.push((current = {}));
    else if (current && (t === 'login' || t === 'password')) current[t] = tokens[++i];
    else if (t === 'account' || t === 'port') i++;
  }
  return entries;
}

function lookup(entries: Entry[], host: string): Credentials | undefined {
  const e = entries.find((x) => x.machine === host) ?? entries.find((x) => x.machine === undefined);
  return e && e.password !== undefined ? { login: e.login ?? '', password: e.password } : undefined;
}
