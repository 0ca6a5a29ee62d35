/**
 * The `pip` mirror kind: a file of a Python package index, fetched through pip's own
 * client, so that no index host is written in a derivation (pip's configuration says
 * where the index is, as apt's sources say where Debian is).
 *
 *   mirror  = { pip: { package: NAME, version: VERSION, file: FILE } }
 *   in .drv = "pip:" NAME "==" VERSION "/" FILE        (one entry of env.urls)
 *   FILE    = NAME "-" VERSION "-" PYTAG "-" ABITAG "-" PLATTAG ".whl"   a wheel (PEP 427)
 *           | anything else                                              a source archive
 *
 * For a wheel, `pip download --no-deps --only-binary=:all: --platform TAG...` with each
 * of the file name's platform tags (`manylinux_2_17_x86_64.manylinux2014_x86_64` gives
 * two), so the same file is chosen whatever machine runs the fetch; for a source archive
 * `--no-binary=:all:`. pip checks the index's hashes, but slime trusts only the
 * derivation's.
 */
import { describeExit, fetchWithClient, type ClientExit, type CommandFetchContext } from './download-command.js';

export interface PipSpec {
  package: string;
  version: string;
  file: string;
}

/** PEP 508 project names. */
export const pipPackageName = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** The characters PEP 440 versions use (an exact pin: no operators, no wildcards). */
export const pipVersion = /^[A-Za-z0-9][A-Za-z0-9.+!_-]*$/;

/** The platform tags of a wheel file name, or undefined for anything that is not a wheel. */
export function wheelPlatforms(file: string): string[] | undefined {
  const m = /^[^-]+-[^-]+(?:-\d[^-]*)?-[^-]+-[^-]+-([^-]+)\.whl$/.exec(file);
  return m ? m[1].split('.') : undefined;
}

export function pipRequirement(spec: PipSpec): string {
  return `${spec.package}==${spec.version}`;
}

export function pipDownloadArgs(spec: PipSpec, dir: string): string[] {
  const platforms = wheelPlatforms(spec.file);
  const select = platforms
    ? ['--only-binary=:all:', ...platforms.flatMap((p) => ['--platform', p])]
    : ['--no-binary=:all:'];
  return ['download', '--no-deps', '--no-input', '--disable-pip-version-check', '--dest', dir, ...select, pipRequirement(spec)];
}

/** Runs `pip download` and copies `file` out of what it downloaded into a new file `tmp`, returning its sha256. */
export async function fetchPip(spec: PipSpec, tmp: string, ctx: CommandFetchContext): Promise<Buffer> {
  const requirement = pipRequirement(spec);
  return fetchWithClient(
    {
      command: 'pip',
      args: (dir) => pipDownloadArgs(spec, dir),
      file: spec.file,
      scratchPrefix: 'pip-download-',
      notInstalled: 'pip is not installed: a pip mirror needs pip on PATH (Debian: python3-pip, which `npm run setup` installs)',
      describeFailure: (exit, output) => describePipFailure(requirement, exit, output),
      describeMissing: (got) =>
        `pip download ${requirement} downloaded ${got.join(', ') || 'nothing'} but no ${spec.file}; ` +
        `fix the file name in the derivation (it must be the exact wheel or source archive name the index lists)`,
    },
    tmp,
    ctx,
  );
}

function describePipFailure(requirement: string, exit: ClientExit, output: string): string {
  const errors = output
    .split('\n')
    .filter((line) => line.startsWith('ERROR: '))
    .map((line) => line.slice('ERROR: '.length).trim());
  const head = `pip download ${requirement} ${describeExit(exit)}${errors.length > 0 ? `: ${errors.join('; ')}` : ''}`;
  if (/No matching distribution|Could not find a version/.test(output)) {
    return `${head}; check the version and the file's platform tags (\`pip download --no-deps ${requirement}\` shows what the index offers)`;
  }
  return errors.length > 0 ? head : `${head}: ${output.trim().split('\n').slice(-3).join(' | ')}`;
}
