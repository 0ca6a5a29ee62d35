import { describeExit, fetchWithClient, type ClientExit, type CommandFetchContext } from './download-command.js';

export interface AptSourceSpec {
  package: string;
  version?: string;
  file: string;
}

export type AptSourceContext = CommandFetchContext;

/**
 * Runs `apt-get source --download-only PACKAGE[=VERSION]` and copies `file` out of what
 * it downloaded into a new file `tmp`, returning its sha256. apt-get checks the files
 * against the signed Sources index, but slime trusts only the derivation's hash.
 */
export async function fetchAptSource(spec: AptSourceSpec, tmp: string, ctx: AptSourceContext): Promise<Buffer> {
  const argument = aptArgument(spec);
  return fetchWithClient(
    {
      command: 'apt-get',
      args: () => ['source', '--download-only', argument],
      file: spec.file,
      scratchPrefix: 'apt-source-',
      notInstalled: 'apt-get is not installed: an apt-source mirror needs a Debian or Ubuntu machine',
      // apt-get also fails when only the .dsc or the Debian patches are missing from the
      // archive (security updates replace them); the orig tarball may still have arrived
      // whole, and the caller's hash check decides whether it is the right file.
      acceptFileDespiteFailure: true,
      describeFailure: (exit, output) => describeAptFailure(argument, spec.package, exit, output),
      describeMissing: (got) =>
        `apt-get source ${argument} downloaded ${got.join(', ') || 'nothing'} but no ${spec.file}; ` +
        `fix the file name in the derivation (apt-cache showsrc ${spec.package} lists the files)`,
    },
    tmp,
    ctx,
  );
}

function aptArgument(spec: AptSourceSpec): string {
  return spec.version === undefined ? spec.package : `${spec.package}=${spec.version}`;
}

function describeAptFailure(
  argument: string,
  pkg: string,
  exit: ClientExit,
  output: string,
): string {
  const errors = output
    .split('\n')
    .filter((line) => line.startsWith('E: '))
    .map((line) => line.slice(3).trim());
  const status = describeExit(exit);
  const said = errors.length > 0 ? `: ${errors.join('; ')}` : '';
  const head = `apt-get source ${argument} ${status}${said}`;
  if (/deb-src/.test(output)) {
    return `${head}; apt has no deb-src entry: run \`npm run setup\`, which adds one and runs apt-get update`;
  }
  if (/Can not find version/.test(output)) {
    return `${head}; \`apt-cache showsrc ${pkg}\` lists the versions this machine's sources have`;
  }
  if (/Unable to find a source package/.test(output)) {
    return (
      `${head}; either no source package is named ${pkg} or apt's source lists are missing: ` +
      `check the name with \`apt-cache showsrc ${pkg}\`, or run \`npm run setup\` (adds a deb-src entry and runs apt-get update)`
    );
  }
  return errors.length > 0 ? head : `${head}: ${output.trim().split('\n').slice(-3).join(' | ')}`;
}
