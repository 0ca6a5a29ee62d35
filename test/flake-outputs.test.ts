/**
 * flake.nix parses with nix 2.8 and its outputs have the shape Nix users rely on:
 * packages.default (buildNpmPackage over the lock file), apps.default running it, and
 * the dev shell with the four -dev libraries src/setup/install.sh installs. nixpkgs
 * cannot be fetched here, so the outputs function is evaluated against a stand-in
 * package set that records what it is given; and nix 2.8's own `nix flake check`,
 * `nix flake show` and `nix eval` run on the flake as a Nix user would, its nixpkgs
 * input overridden by a stand-in flake whose functions make real (trivial) derivations.
 * What that cannot show (nixpkgs' own buildNpmPackage and importNpmLock building slime)
 * is said in flake.nix.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
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
  it('passes nix flake check, and nix flake show and nix eval see its outputs, with a stand-in nixpkgs', () => {
    const dir = tempDir('slime-flake-');
    const flake = path.join(dir, 'slime');
    const standIn = path.join(dir, 'nixpkgs');
    fs.mkdirSync(flake);
    fs.mkdirSync(standIn);
    // What the flake reads: itself, package.json (the version), package-lock.json (importNpmLock).
    for (const f of ['flake.nix', 'package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(flake, f));
    const text = fs.readFileSync(path.join(ROOT, 'flake.nix'), 'utf8');
    const shellBlock = /packages = with pkgs; \[([\s\S]*?)\];/.exec(text)![1]!.replace(/#.*$/gm, '');
    const names = shellBlock.split(/\s+/).filter(Boolean);
    fs.writeFileSync(path.join(standIn, 'flake.nix'), `{
  outputs = { self }: let
    system = "x86_64-linux";
    drv = name: extra: derivation ({ inherit name system; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; } // extra);
    pkg = name: drv name { };
  in {
    legacyPackages.\${system} = {
      buildNpmPackage = a: drv "\${a.pname}-\${a.version}" { inherit (a) installPhase npmDeps npmConfigHook; nativeBuildInputs = a.nativeBuildInputs; };
      # As importNpmLock: the lock file of npmRoot, in the lockfileVersion 2/3 form (a "packages" map).
      importNpmLock = {
        __functor = self: { npmRoot }: let lock = builtins.fromJSON (builtins.readFile (npmRoot + "/package-lock.json")); in
          assert lock.lockfileVersion >= 2 && lock.packages ? "node_modules/execa"; pkg "npm-deps";
        npmConfigHook = pkg "npm-config-hook";
      };
      makeWrapper = pkg "make-wrapper"; nodejs_20 = pkg "nodejs-20";
      lib.licenses.mit = "mit";
      mkShell = a: drv "shell" { buildInputs = a.packages; };
    } // builtins.listToAttrs (map (n: { name = n; value = pkg n; }) [ ${names.map((n) => JSON.stringify(n)).join(' ')} ]);
  };
}
`);
    const registry = path.join(dir, 'registry.json');
    fs.writeFileSync(registry, '{"flakes":[],"version":2}');
    const nix = (args: string[]) =>
      spawnSync('nix', ['--extra-experimental-features', 'nix-command flakes', '--option', 'flake-registry', registry, ...args,
        '--override-input', 'nixpkgs', `path:${standIn}`, '--no-write-lock-file'], { encoding: 'utf8', env: nixEnv(), timeout: 240_000 });
    const check = nix(['flake', 'check', `path:${flake}`]);
    expect(check.stderr).not.toMatch(/^error/m);
    expect(check.status).toBe(0);
    const show = nix(['flake', 'show', '--json', `path:${flake}`]);
    expect(show.status).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(JSON.parse(show.stdout)).toEqual({
      apps: { 'x86_64-linux': { default: { type: 'app' } } },
      devShells: { 'x86_64-linux': { default: { name: 'shell', type: 'derivation' } } },
      packages: { 'x86_64-linux': { default: { name: `slime-${pkg.version}`, type: 'derivation' } } },
    });
    const app = nix(['eval', '--json', `path:${flake}#apps.x86_64-linux.default.program`]);
    expect(JSON.parse(app.stdout)).toMatch(new RegExp(`/[0-9a-z]{32}-slime-${pkg.version.replace(/\./g, '\\.')}/bin/slime$`));

    // The check can fail: a package that is not a derivation is refused.
    fs.writeFileSync(path.join(flake, 'flake.nix'), text.replace('packages.${system}.default = slime;', 'packages.${system}.default = { };'));
    const bad = nix(['flake', 'check', `path:${flake}`]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("flake attribute 'packages.x86_64-linux.default' is not a derivation");
  }, 300_000);
});
