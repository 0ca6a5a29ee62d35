/**
 * flake.nix parses with nix 2.8 and its outputs have the shape Nix users rely on:
 * packages.default (buildNpmPackage over the lock file), apps.default running it, and
 * the dev shell with the four -dev libraries src/setup/install.sh installs. nixpkgs
 * cannot be fetched here, so the outputs function is evaluated against a stand-in
 * package set that records what it is given.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './support/cli.js';

const hasNix = (() => {
  try {
    execFileSync('nix-instantiate', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const nixEnv = () => {
  const state = tempDir('slime-nix-');
  return { ...process.env, NIX_STATE_DIR: path.join(state, 'state'), NIX_STORE_DIR: path.join(state, 'store'), NIX_LOG_DIR: path.join(state, 'log') };
};

describe.skipIf(!hasNix)('flake.nix', () => {
  it('parses with nix 2.8', () => {
    execFileSync('nix-instantiate', ['--parse', path.join(ROOT, 'flake.nix')], { stdio: ['ignore', 'ignore', 'pipe'], env: nixEnv() });
  });

  it('has packages.default, apps.default and the dev shell with the setup\'s -dev libraries', () => {
    const text = fs.readFileSync(path.join(ROOT, 'flake.nix'), 'utf8');
    const shellBlock = /packages = with pkgs; \[([\s\S]*?)\];/.exec(text)![1]!.replace(/#.*$/gm, '');
    const names = shellBlock.split(/\s+/).filter(Boolean);
    const expr = `
      let
        flake = import ${path.join(ROOT, 'flake.nix')};
        base = builtins.listToAttrs (map (n: { name = n; value = "pkg-" + n; }) [ ${names.map((n) => JSON.stringify(n)).join(' ')} ]);
        pkgs = base // {
          buildNpmPackage = a: { outPath = "/nix/store/00000000000000000000000000000000-slime"; inherit (a) pname version npmDeps npmConfigHook installPhase; };
          importNpmLock = { __functor = self: a: "npm-deps-of-lock"; npmConfigHook = "import-npm-lock-hook"; };
          makeWrapper = "make-wrapper"; nodejs_20 = "/node20";
          lib.licenses.mit = "mit";
          mkShell = a: a;
        };
        out = flake.outputs { self = out; nixpkgs = { legacyPackages.x86_64-linux = pkgs; }; };
        p = out.packages.x86_64-linux.default;
      in {
        pname = p.pname; version = p.version; npmDeps = p.npmDeps; hook = p.npmConfigHook;
        wraps = builtins.match ".*makeWrapper /node20/bin/node .*/bin/slime.*dist/src/cli/main.js.*" p.installPhase != null;
        app = out.apps.x86_64-linux.default;
        shell = out.devShells.x86_64-linux.default.packages;
      }`;
    const json = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], { encoding: 'utf8', env: nixEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = JSON.parse(json);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(out).toMatchObject({ pname: 'slime', version: pkg.version, npmDeps: 'npm-deps-of-lock', hook: 'import-npm-lock-hook', wraps: true });
    expect(out.app).toEqual({ type: 'app', program: '/nix/store/00000000000000000000000000000000-slime/bin/slime' });
    const install = fs.readFileSync(path.join(ROOT, 'src/setup/install.sh'), 'utf8');
    for (const [deb, nix] of [['tk-dev', 'tk'], ['libnsl-dev', 'libnsl'], ['libtirpc-dev', 'libtirpc'], ['libcrypt-dev', 'libxcrypt']]) {
      expect(install).toContain(deb);
      expect(out.shell).toContain(`pkg-${nix}`);
    }
  });
});
