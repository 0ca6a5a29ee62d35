# For Nix users: `nix develop` gives a shell with what slime and the SlimePython
# pipeline use (the Debian setup script, `npm run setup`, does the same on bookworm).
# slime itself does not need Nix; nix is here as the reference implementation its
# tests compare NAR bytes, .drv files and store paths against.
{
  description = "slime: declarative, content-addressed builds of SlimePython's bit-exact isolate";

  inputs.nixpkgs.url = "nixpkgs/nixos-24.05";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
    in {
      devShells.${system}.default = pkgs.mkShell {
        packages = with pkgs; [
          nodejs_20
          cargo rustc
          python311
          gcc gnumake pkg-config
          zlib libffi sqlite bzip2 xz openssl ncurses readline libuuid gdbm
          nix tmux nginx
          clang lld wasi-libc
        ];
      };

    };
}
