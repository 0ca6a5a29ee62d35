# For Nix users: `nix build` builds slime, `nix run . -- realize full-x86_64-quick`
# runs it, and `nix develop` gives a shell with what slime and the SlimePython
# pipeline use (the Debian setup script, `npm run setup`, does the same on bookworm).
# slime itself does not need Nix; nix is here as the reference implementation its
# tests compare NAR bytes, .drv files and store paths against.
#
# The npm dependencies come from package-lock.json through nixpkgs' importNpmLock:
# each package is fetched by the `integrity` hash the lock file already records, so
# there is no separate npmDepsHash to keep in step with the lock. (The hash form,
# `npmDepsHash = "sha256-...";` in place of npmDeps/npmConfigHook, needs
# prefetch-npm-deps over the registry; it cannot be computed offline.)
#
# What has been tried, and what not (test/flake-outputs.test.ts):
# - nix 2.8 parses it, and `nix flake check`, `nix flake show` and `nix eval` pass on
#   it with its nixpkgs input overridden by a stand-in flake whose buildNpmPackage,
#   importNpmLock, mkShell and packages are trivial derivations: the outputs are
#   where and what Nix users expect (packages.default, apps.default, devShells.default).
# - Never tried: building or running it with the real nixpkgs 24.05, which cannot be
#   fetched on the machine it was written on. Known to be in the way: the lock file
#   here is written with npm's `omit-lockfile-registry-resolved`, so its entries have
#   an `integrity` but no `resolved` URL, and importNpmLock fetches each package from
#   its `resolved` URL (an entry without one is left for npm to fetch, which the build
#   sandbox forbids). A Nix build needs a lock written with the URLs (npm's
#   `omit-lockfile-registry-resolved=false`, from an empty lock: npm 11's
#   `npm install --package-lock-only` does not add them to existing entries, tried).
{
  description = "slime: declarative, content-addressed builds of SlimePython's bit-exact isolate";

  inputs.nixpkgs.url = "nixpkgs/nixos-24.05";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      slime = pkgs.buildNpmPackage {
        pname = "slime";
        version = (builtins.fromJSON (builtins.readFile ./package.json)).version;
        src = ./.;
        nodejs = pkgs.nodejs_20;
        npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
        npmConfigHook = pkgs.importNpmLock.npmConfigHook;
        # `npm run build` (tsc) makes dist/; .gitignore leaves dist/ out of `npm pack`,
        # so install the tree as it is rather than what npm would pack.
        installPhase = ''
          runHook preInstall
          mkdir -p $out/lib/slime $out/bin
          cp -r dist node_modules package.json derivations samples tui src $out/lib/slime/
          makeWrapper ${pkgs.nodejs_20}/bin/node $out/bin/slime \
            --add-flags $out/lib/slime/dist/src/cli/main.js
          runHook postInstall
        '';
        nativeBuildInputs = [ pkgs.makeWrapper ];
        meta = {
          description = "Declarative, content-addressed builds with Nix-compatible derivations and store paths";
          license = pkgs.lib.licenses.mit;
          mainProgram = "slime";
        };
      };
    in {
      packages.${system}.default = slime;

      apps.${system}.default = {
        type = "app";
        program = "${slime}/bin/slime";
      };

      devShells.${system}.default = pkgs.mkShell {
        packages = with pkgs; [
          nodejs_20
          cargo rustc
          python311
          gcc gnumake pkg-config
          zlib libffi sqlite bzip2 xz openssl ncurses readline libuuid gdbm
          # The four CPython's strict build also needs (src/setup/install.sh: tk-dev,
          # libnsl-dev, libtirpc-dev, libcrypt-dev).
          tk libnsl libtirpc libxcrypt
          nix tmux nginx
          clang lld wasi-libc
        ];
      };

    };
}
