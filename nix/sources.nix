# Which files of the checkout the flake's builds see, declared once. nix/source-sets.nix
# turns these lists into the lib.fileset source sets flake.nix builds from;
# ci/source-set-check.py (`make source-set-check`) computes the same sets from git's
# tracked files and compiles the crate from exactly them, so a file the crate reads at
# compile time (include_str!, include_bytes!) that the flake would leave out fails CI
# instead of a user's first `nix build`.
#
# Builtins only, no nixpkgs: the check evaluates this file with Debian's Nix 2.8.
#
# Every set starts from crane's commonCargoSources (each Cargo.toml, Cargo.lock, *.rs
# and *.toml anywhere in the tree). The roots below are added whole, whatever the files'
# names, so an asset, a template or a certificate put under them is in without an edit
# here. Paths are relative to the repository root.
{
  # The workspace's two packages: what building their binaries (and examples) reads,
  # the function's (src/, examples/) and the owner's command's (admin/src/). A change
  # here rebuilds a binary; a change anywhere else cannot.
  crate = [
    "src"
    "examples"
    "admin/src"
  ];

  # What the checks (clippy, tests, audit) read on top of the crate: the tests and
  # their fixtures, which unit tests may include too.
  checks = [
    "tests"
    "admin/tests"
  ];

  # Never in any set: cargo-fuzz's own crate (nightly, built by `make fuzz` only).
  exclude = [ "fuzz" ];

  # The dependency-only build (crane's buildDepsOnly, through a dummy source): nothing
  # but the manifests and the lock, so that editing the crates' sources never rebuilds
  # the dependencies. The Dockerfile copies exactly these (with the flake and nix/)
  # before its cached dependency layer.
  deps = [
    "Cargo.toml"
    "Cargo.lock"
    "admin/Cargo.toml"
  ];
}
