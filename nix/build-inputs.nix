# The declared build inputs (nix/build-inputs.toml), turned into what the Nix build
# passes to cargo. Builtins only, no nixpkgs: ci/build-inputs-check.py evaluates this
# file with a bare `nix-instantiate` and compares the result with what
# ci/build-arm64.sh actually runs, so both builds are held to the same declaration.
let
  declared = builtins.fromTOML (builtins.readFile ./build-inputs.toml);

  placeholders = [
    "{checkout}"
    "{target_dir}"
    "{cargo_home}"
  ];

  # Replace the placeholders with one build's paths, e.g.
  # render { checkout = ...; target_dir = ...; cargo_home = ...; } declared.rustflags
  render =
    paths:
    map (builtins.replaceStrings placeholders [
      paths.checkout
      paths.target_dir
      paths.cargo_home
    ]);
in
declared
// {
  inherit render;

  # The target cargo-zigbuild links for: the rustc target plus the glibc floor. Always
  # explicit, because zig's default glibc changes between zig releases.
  zigTarget = "${declared.target}.${declared.glibc}";

  # cargo's arguments after the subcommand, for a given --target spelling (the plain
  # triple for cargo, the glibc-suffixed one for cargo-zigbuild).
  cargoArgsFor = target: [
    "--locked"
    "--profile"
    declared.profile
    "--target"
    target
    "--package"
    declared.package
    "--bin"
    declared.bin
  ];

  # Bash that exports the declared flags with one build's paths in place of the
  # placeholders: CARGO_ENCODED_RUSTFLAGS (0x1f-separated, as ci/build-arm64.sh passes
  # them) and CFLAGS_<target>. The Nix build runs it before cargo; ci/build-inputs-check.py
  # runs it too, with a stand-in rustc, and compares what it exports with what
  # ci/build-arm64.sh exports. `cargoHome` is where the crates.io sources are (for crane,
  # its vendor directory); the other paths are the build's own.
  flagsScript =
    { cargoHome }:
    let
      words =
        flags:
        builtins.concatStringsSep " " (
          map (f: "\"${f}\"") (render {
            checkout = "\${checkout}";
            target_dir = "\${target_dir}";
            cargo_home = "\${cargo_home}";
          } flags)
        );
    in
    ''
      checkout=$PWD
      target_dir=''${CARGO_TARGET_DIR:-$PWD/target}
      cargo_home=${cargoHome}
      rustflags=(${words declared.rustflags})
      cflags=(${words declared.cflags})
      CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; printf '%s' "''${rustflags[*]}")
      export CARGO_ENCODED_RUSTFLAGS
      export CFLAGS_${builtins.replaceStrings [ "-" ] [ "_" ] declared.target}="''${cflags[*]}"
      unset RUSTFLAGS
    ''
    + builtins.concatStringsSep "" (
      map (name: "export ${name}=\"${declared.env.${name}}\"\n") (builtins.attrNames declared.env)
    );
}
