import { SlimeError } from '../errors.js';
import { pipPackageName, pipVersion } from './pip-download.js';

/**
 * One place a fixed-output file can come from. A derivation lists several; the fetcher
 * tries them in order and trusts none of them: every byte is checked against the hash.
 */
export type Mirror =
  /** `https://`, `http://` (through Node's fetch) or `file://`. */
  | { url: string }
  /**
   * `apt-get source --download-only PACKAGE[=VERSION]`, then the named file out of what it
   * downloaded (a source package is several files: `.dsc`, orig tarball, debian tarball).
   */
  | { aptSource: { package: string; version?: string; file: string } }
  /**
   * `pip download --no-deps PACKAGE==VERSION`, then the named wheel or source archive out
   * of what it downloaded (src/fetch/pip-download.ts): pip's own configuration says which
   * index it reaches.
   */
  | { pip: { package: string; version: string; file: string } };

/** How a mirror is named in progress lines, logs and errors. */
export function describeMirror(m: Mirror): string {
  if ('url' in m) return m.url;
  if ('pip' in m) return `pip ${m.pip.package}==${m.pip.version} (${m.pip.file})`;
  const { package: pkg, version, file } = m.aptSource;
  return `apt-source ${version === undefined ? pkg : `${pkg}=${version}`} (${file})`;
}

const urlSchemes = new Set(['https:', 'http:', 'file:']);
// Debian policy: source package names are lowercase alphanumerics and + - . ; starting
// alphanumeric. Checking here keeps a stray space or option from reaching apt-get's argv.
const debianPackageName = /^[a-z0-9][a-z0-9+.-]+$/;
const debianVersion = /^[A-Za-z0-9.+~:-]+$/;

/**
 * Rejects a mirror that could never work, before anything is downloaded, so that a typo
 * in a derivation is reported as such rather than as a network failure.
 */
export function checkMirror(m: Mirror, name: string): void {
  const bad = (what: string): never => {
    throw new SlimeError(`invalid mirror for ${name}: ${what}; fix the mirror list in the derivation`);
  };
  if ('url' in m) {
    let url: URL;
    try {
      url = new URL(m.url);
    } catch {
      return bad(`${JSON.stringify(m.url)} is not a URL`);
    }
    if (!urlSchemes.has(url.protocol)) {
      bad(`${m.url} uses ${url.protocol} but only https:, http: and file: are supported`);
    }
    return;
  }
  if ('pip' in m && typeof m.pip === 'object' && m.pip !== null) {
    const { package: pkg, version, file } = m.pip;
    if (typeof pkg !== 'string' || !pipPackageName.test(pkg)) bad(`pip package ${JSON.stringify(pkg)} is not a Python project name`);
    if (typeof version !== 'string' || !pipVersion.test(version)) {
      bad(`pip version ${JSON.stringify(version)} of ${pkg} must be one exact version such as 1.2.3`);
    }
    if (typeof file !== 'string' || file === '' || file.includes('/') || file === '.' || file === '..') {
      bad(`pip file ${JSON.stringify(file)} of ${pkg} must be a plain file name such as ${pkg.replace(/-/g, '_')}-${version}-py3-none-any.whl`);
    }
    return;
  }
  if (!('aptSource' in m) || typeof m.aptSource !== 'object' || m.aptSource === null) {
    return bad(`${JSON.stringify(m)} has neither "url", "aptSource" nor "pip"`);
  }
  const { package: pkg, version, file } = m.aptSource;
  if (typeof pkg !== 'string' || !debianPackageName.test(pkg)) {
    bad(`apt-source package ${JSON.stringify(pkg)} is not a Debian source package name`);
  }
  if (version !== undefined && (typeof version !== 'string' || !debianVersion.test(version))) {
    bad(`apt-source version ${JSON.stringify(version)} of ${pkg} is not a Debian version`);
  }
  if (typeof file !== 'string' || file === '' || file.includes('/') || file === '.' || file === '..') {
    bad(`apt-source file ${JSON.stringify(file)} of ${pkg} must be a plain file name such as ${pkg}_1.0.orig.tar.gz`);
  }
}
