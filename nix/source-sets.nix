# The flake's source sets as lib.fileset values, from the roots nix/sources.nix declares.
# flake.nix builds its sources from these; ci/source-set-check.py evaluates this same file
# with nixpkgs' lib and crane's fileset functions where their trees are on the machine, and
# holds its own computation of the sets (the one that runs everywhere) to the result.
{
  lib,
  # crane's `fileset.commonCargoSources`: every Cargo.toml, Cargo.lock, *.rs and *.toml.
  commonCargoSources,
  # The repository root (in a flake: its git-tracked files).
  root,
  sources ? import ./sources.nix,
}:
let
  inherit (lib) fileset;
  # A declared root that does not exist fails evaluation (lib.fileset refuses it).
  rootsOf = map (name: root + "/${name}");
  setOf =
    names:
    fileset.difference (fileset.unions ([ (commonCargoSources root) ] ++ rootsOf names)) (
      fileset.unions (map fileset.maybeMissing (rootsOf sources.exclude))
    );
in
{
  # What building the binaries reads.
  crate = setOf sources.crate;
  # What the checks read: the crate, the tests and their fixtures.
  checks = setOf (sources.crate ++ sources.checks);
  # The dependency-only build: the manifest and the lock.
  deps = fileset.unions (rootsOf sources.deps);
}
