#!/usr/bin/env python3
"""The flake's source sets hold every file the crate reads at compile time.

`nix build` and `nix flake check` cannot run on this machine or in CI, so this check
does the closest thing that can: it computes the flake's source sets the way the flake
does, and compiles the crate from exactly those files.

  1. The sets. nix/sources.nix (evaluated with nix-instantiate, as flake.nix imports it)
     names the roots; crane v0.23.4's commonCargoSources keeps, anywhere in the tree,
     files named Cargo.toml or Cargo.lock and files whose names end in .rs or .toml
     (lib/fileset/{cargoTomlAndLock,rust,toml}.nix: `file.hasExt "rs"`, `file.hasExt
     "toml"`). A flake sees only files that git tracks, so only those count.
       crate  = tracked ∩ (commonCargoSources ∪ crate roots) − exclude      (crateSrc)
       checks = tracked ∩ (commonCargoSources ∪ crate + check roots) − exclude (checkSrc)
       deps   = the deps roots alone (the dependency-only build's dummy source)
  2. Where nixpkgs' lib and crane's trees are on the machine (git mirrors under
     $FLAKE_LOCK_MIRRORS, default /work/.mirror; not on a fresh CI machine), the sets are
     also evaluated for real: nix/source-sets.nix, the file flake.nix builds its sources
     from, with lib.fileset and crane's commonCargoSources, on a copy of the tracked files;
     any difference from step 1 fails.
  3. The Dockerfile's dependency layer copies exactly the `deps` roots and the flake
     (flake.nix, flake.lock, nix/), then `COPY . .` before building the crate.
  4. Static: every include_str!/include_bytes!/include! with a literal path (or
     concat!(env!("CARGO_MANIFEST_DIR"), "...")) in the check set's .rs files names a
     file of the check set. This sees code that the compile below does not (other cfgs,
     features); which includes only tests may make is the compile's call.
  5. Compile, in a temporary copy of each set, with the checkout's target directory so
     that only the crate itself is compiled (its path differs; the dependencies'
     artifacts are reused):
       crate:  cargo check --locked --bins --examples   (what the flake's packages build)
               and again with the shipped binary's own cargo arguments (its package),
               from nix/build-inputs.nix, without --profile and --target, and with
               packages.admin's (the owner's `rust-aws` command, package rust-aws-admin)
       checks: cargo check --locked --workspace --all-targets  (what the flake's clippy
                                                                and tests checks compile)
       deps:   cargo tree --locked --offline on the manifests and Cargo.lock alone, with
               each package's declared targets stubbed as crane's mkDummySrc does
  --self-test plants compile-time includes outside the sets in a throwaway git copy of
  the checkout and fails unless the check reports each one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARGO_NAMES = {"Cargo.toml", "Cargo.lock"}
CARGO_EXTS = (".rs", ".toml")

# include_str!("x"), include_bytes!("x"), include!("x"), and the same with
# concat!(env!("CARGO_MANIFEST_DIR"), "/x").
INCLUDE = re.compile(
    r"""\binclude(?:_str|_bytes)?!\s*\(\s*
        (?:"(?P<rel>[^"\\]*)"
          |concat!\s*\(\s*env!\s*\(\s*"CARGO_MANIFEST_DIR"\s*\)\s*,\s*"(?P<abs>[^"\\]*)"\s*\)
          |(?P<other>[^)\s][^)]*))""",
    re.VERBOSE,
)


def log(msg: str) -> None:
    print(f"source-set-check: {msg}", flush=True)


# A private, throwaway Nix store, as ci/nix-check.sh uses: no /nix, no daemon, any user.
_NIX_STATE = tempfile.TemporaryDirectory(prefix="rust-aws-source-set-nix.")


def nix_instantiate(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NIX_REMOTE=f"local?root={_NIX_STATE.name}/nix-root")
    return subprocess.run(["nix-instantiate", *args], capture_output=True, text=True, env=env)


def declaration(root: Path) -> dict[str, list[str]]:
    out = nix_instantiate(["--eval", "--strict", "--json", str(root / "nix" / "sources.nix")])
    if out.returncode != 0:
        sys.exit(f"source-set-check: nix/sources.nix does not evaluate:\n{out.stderr}")
    decl = json.loads(out.stdout)
    for key in ("crate", "checks", "exclude", "deps"):
        if not isinstance(decl.get(key), list) or not all(isinstance(x, str) for x in decl[key]):
            sys.exit(f"source-set-check: nix/sources.nix: `{key}` must be a list of strings")
    return decl


def tracked_files(root: Path) -> list[str]:
    """What a git flake sees: the files in git's index, with their working-tree content."""
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached"], capture_output=True, check=True
    ).stdout.decode()
    return sorted(f for f in out.split("\0") if f and (root / f).is_file())


def under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def common_cargo_source(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in CARGO_NAMES or name.endswith(CARGO_EXTS)


def source_sets(root: Path, decl: dict[str, list[str]]) -> tuple[dict[str, set[str]], list[str]]:
    tracked = tracked_files(root)
    problems = []
    # lib.fileset refuses a root that does not exist: the flake would not evaluate.
    for key in ("crate", "checks", "deps"):
        for r in decl[key]:
            if not any(under(f, [r]) for f in tracked):
                problems.append(f"nix/sources.nix: {key} root {r!r} has no file tracked by git")

    def keep(roots: list[str]) -> set[str]:
        return {
            f
            for f in tracked
            if (common_cargo_source(f) or under(f, roots)) and not under(f, decl["exclude"])
        }

    sets = {
        "crate": keep(decl["crate"]),
        "checks": keep(decl["crate"] + decl["checks"]),
        "deps": {f for f in tracked if under(f, decl["deps"])},
    }
    return sets, problems


def shipped_args(root: Path) -> list[str]:
    """The cargo arguments the flake builds `bootstrap` with (nix/build-inputs.nix), for the host.

    Which package and features it builds decide which code is compiled; the profile and
    target do not change which files are read.
    """
    out = nix_instantiate(["--eval", "--strict", "--json", "--expr",
                           f'(import {root}/nix/build-inputs.nix).cargoArgsFor "TARGET"'])
    if out.returncode != 0:
        sys.exit(f"source-set-check: nix/build-inputs.nix does not evaluate:\n{out.stderr}")
    args, kept = json.loads(out.stdout), []
    while args:
        a = args.pop(0)
        if a in ("--profile", "--target"):
            args.pop(0)
        else:
            kept.append(a)
    return kept


# How flake.nix builds the owner's command (packages.admin); held to flake.nix below.
ADMIN_ARGS = "--locked --package rust-aws-admin"


def admin_args(root: Path) -> list[str]:
    """The admin package's cargo arguments, when the workspace has that package."""
    if not (root / "admin" / "Cargo.toml").is_file():
        return []
    if f'cargoExtraArgs = "{ADMIN_ARGS}";' not in (root / "flake.nix").read_text():
        sys.exit(f"source-set-check: flake.nix no longer builds packages.admin with {ADMIN_ARGS!r}: update ADMIN_ARGS")
    return [ADMIN_ARGS]


def static_includes(root: Path, files: set[str], tracked: set[str]) -> tuple[list[str], int]:
    """Literal include paths in the set's .rs files that point outside the set."""
    problems, seen = [], 0
    for f in sorted(x for x in files if x.endswith(".rs")):
        text = (root / f).read_text(errors="replace")
        for m in INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            if m.group("other") is not None:
                continue  # a path built some other way: the compile step judges it
            seen += 1
            if m.group("rel") is not None:
                target = os.path.normpath(os.path.join(os.path.dirname(f), m.group("rel")))
            else:
                target = os.path.normpath(m.group("abs").lstrip("/"))
            if target in files:
                continue
            if target in tracked:
                why = "outside the set"
            elif (root / target).exists():
                why = "not tracked by git, so no flake sees it"
            else:
                why = "missing"
            problems.append(f"{f}:{line} includes {target} ({why})")
    return problems, seen


# The real evaluation, where the trees are on this machine: nixpkgs' lib (from the
# nix-community/nixpkgs.lib mirror, which follows nixpkgs' lib; not the locked nixpkgs
# revision, whose 4 GiB tree is not here) and crane's fileset functions at the locked rev.
REAL_EVAL = """
let
  lib = import (LIBDIR + "/lib");
  craneFileset = rec {
    cargoTomlAndLock = import (CRANE + "/lib/fileset/cargoTomlAndLock.nix") { inherit lib; };
    rust = import (CRANE + "/lib/fileset/rust.nix") { inherit lib; };
    toml = import (CRANE + "/lib/fileset/toml.nix") { inherit lib; };
    commonCargoSources = import (CRANE + "/lib/fileset/commonCargoSources.nix") {
      inherit lib;
      fileset = craneFileset;
    };
  };
  sets = import (ROOT + "/nix/source-sets.nix") {
    inherit lib;
    inherit (craneFileset) commonCargoSources;
    root = ROOT;
  };
  rel = set: map (p: lib.removePrefix (toString ROOT + "/") (toString p)) (lib.fileset.toList set);
in
lib.mapAttrs (_: rel) sets
"""


def real_fileset_sets(root: Path, tracked: list[str], tmp: Path) -> dict[str, set[str]] | str:
    """The sets as lib.fileset and crane compute them from nix/source-sets.nix, or why not."""
    mirrors = Path(os.environ.get("FLAKE_LOCK_MIRRORS", "/work/.mirror"))
    lib_git, crane_git = mirrors / "nix-community+nixpkgs.lib" / "repo", mirrors / "ipetkov+crane" / "repo"
    if not (lib_git.is_dir() and crane_git.is_dir()):
        return f"no nixpkgs lib and crane trees under {mirrors}"
    lock = json.loads((root / "flake.lock").read_text())
    crane_rev = lock["nodes"]["crane"]["locked"]["rev"]
    trees = {"lib": (lib_git, "HEAD", "lib"), "crane": (crane_git, crane_rev, "lib/fileset")}
    for name, (git_dir, rev, path) in trees.items():
        (tmp / name).mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(git_dir), "archive", rev, path], capture_output=True)
        if archive.returncode != 0:
            return f"{git_dir} has no {rev}"
        subprocess.run(["tar", "-x", "-C", str(tmp / name)], input=archive.stdout, check=True)
    # Nix < 2.14 has no builtins.readFileType; nixpkgs' lib used this fallback before it.
    fs_nix = tmp / "lib" / "lib" / "filesystem.nix"
    fs_nix.write_text(fs_nix.read_text().replace(
        "pathType = builtins.readFileType;",
        'pathType = builtins.readFileType or (p: if dirOf p == p then "directory" '
        "else (builtins.readDir (dirOf p)).${baseNameOf p});",
    ))
    # The flake's view of the checkout: its tracked files.
    copy_set(root, set(tracked), tmp / "root")
    expr = (REAL_EVAL.replace("LIBDIR", str(tmp / "lib")).replace("CRANE", str(tmp / "crane"))
            .replace("ROOT", str(tmp / "root")))
    out = nix_instantiate(["--eval", "--strict", "--json", "--expr", expr])
    if out.returncode != 0:
        return "lib.fileset did not evaluate: " + out.stderr.strip().splitlines()[-1]
    return {k: set(v) for k, v in json.loads(out.stdout).items()}


# What the flake needs to evaluate the dependency build, besides the `deps` roots.
FLAKE_FILES = {"flake.nix", "flake.lock", "nix"}


def dockerfile_layers(root: Path, deps: list[str]) -> list[str]:
    """The Dockerfile's dependency layer copies exactly what the dependency build reads.

    More would rebuild the dependencies on a source change; less would fail to evaluate
    the flake, or build a different derivation than the final `nix build` wants.
    """
    path = root / "Dockerfile"
    if not path.exists():
        return []
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    copied: set[str] = set()
    deps_built = whole_copy = crate_built = False
    problems = []
    for l in lines:
        word = l.split()[0].upper()
        if word == "COPY" and not l.split()[1].startswith("--from") and not deps_built:
            copied |= {x.rstrip("/") or "." for x in l.split()[1:-1]}
        elif word == "COPY" and l.split()[1:] == [".", "."]:
            whole_copy = True
        elif word == "RUN" and ".#bootstrap-deps" in l:
            deps_built = True
        elif word == "RUN" and ".#bootstrap" in l and deps_built:
            crate_built = True
            if not whole_copy:
                problems.append("Dockerfile: `COPY . .` must come between the dependency layer and `nix build .#bootstrap`")
    if not deps_built or not crate_built:
        return ["Dockerfile: the builder must `nix build .#bootstrap-deps` (its own layer), then `.#bootstrap`"]
    want = FLAKE_FILES | {d.rstrip("/") for d in deps}
    if copied != want:
        extra, missing = sorted(copied - want), sorted(want - copied)
        problems.append(
            "Dockerfile: the dependency layer must copy exactly "
            f"{' '.join(sorted(want))} (nix/sources.nix `deps` and the flake)"
            + (f"; also copies {' '.join(extra)}, so a change there rebuilds every dependency" if extra else "")
            + (f"; misses {' '.join(missing)}" if missing else "")
        )
    return problems


def copy_set(root: Path, files: set[str], dest: Path) -> None:
    """Copies with new modification times, so that cargo always compiles the crate again."""
    for f in files:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / f, dest / f)


def cargo(args: list[str], cwd: Path, target_dir: Path) -> tuple[bool, str]:
    # No incremental state for these throwaway compiles: it is most of their disk use.
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir), CARGO_TERM_COLOR="never", CARGO_INCREMENTAL="0")
    out = subprocess.run(["cargo", *args], cwd=cwd, env=env, capture_output=True, text=True)
    return out.returncode == 0, out.stdout + out.stderr


def stub_targets(dest: Path) -> None:
    """Stub the declared targets of every package's Cargo.toml as crane's mkDummySrc does."""
    paths = []
    for manifest_path in sorted(dest.rglob("Cargo.toml")):
        manifest = tomllib.loads(manifest_path.read_text())
        base = manifest_path.parent.relative_to(dest)
        for kind, default in (("bin", "src/bin"), ("example", "examples"), ("test", "tests"), ("bench", "benches")):
            for t in manifest.get(kind, []):
                paths.append(base / (t.get("path") or f"{default}/{t['name']}.rs"))
        if "lib" in manifest:
            paths.append(base / manifest["lib"].get("path", "src/lib.rs"))
    for p in paths:
        (dest / p).parent.mkdir(parents=True, exist_ok=True)
        (dest / p).write_text("fn main() {}\n")


def compile_errors(output: str) -> str:
    lines = [l for l in output.splitlines() if l.startswith(("error", "  -->", " --> "))]
    return "\n".join("    " + l for l in lines[:12]) or "\n".join("    " + l for l in output.splitlines()[-12:])


def check(root: Path, target_dir: Path) -> list[str]:
    """Every problem found, one entry each (empty: the sets are complete)."""
    start = time.monotonic()
    decl = declaration(root)
    sets, problems = source_sets(root, decl)
    for name in ("crate", "checks", "deps"):
        log(f"{name} set: {len(sets[name])} files (roots {', '.join(decl[name]) or '-'})")
    if problems:
        return problems

    with tempfile.TemporaryDirectory(prefix="rust-aws-fileset.") as tmp:
        real = real_fileset_sets(root, tracked_files(root), Path(tmp))
    if isinstance(real, str):
        log(f"lib.fileset evaluation: skipped ({real})")
    else:
        for name in ("crate", "checks", "deps"):
            if real[name] != sets[name]:
                extra, missing = sorted(real[name] - sets[name]), sorted(sets[name] - real[name])
                problems.append(f"{name} set: lib.fileset keeps {extra[:5]} that this script does not, "
                                f"and not {missing[:5]} that it does")
        log(f"lib.fileset evaluation of nix/source-sets.nix: {'the same sets' if not problems else 'DIFFERENT sets'}")
        if problems:
            return problems

    problems = dockerfile_layers(root, decl["deps"])
    log(f"Dockerfile: dependency layer {'as declared' if not problems else 'NOT as declared'}")
    if problems:
        return problems

    # Against the check set: a unit test may include a fixture under tests/, which the
    # crate set rightly lacks; whether non-test code does is the crate compile's call.
    found, seen = static_includes(root, sets["checks"], set(tracked_files(root)))
    log(f"checks set: {seen} literal include paths, {len(found)} outside the set")
    if found:
        return [f"checks set: {p}" for p in found]

    # Outside the target directory: cargo records the sources it finds under the target
    # directory by that path, and would judge a later copy by an earlier one's files.
    # The copies' paths do not matter otherwise: cargo hashes a package's path relative
    # to its workspace, so every copy is the checkout's own unit and nothing piles up.
    tmp = tempfile.TemporaryDirectory(prefix="rust-aws-source-set.")
    work = Path(tmp.name)
    steps = [
        ("crate", ["check", "--locked", "--bins", "--examples"]),
        ("crate", ["check", *shipped_args(root), "--examples"]),
        # Its library and binary (it has no examples).
        *[("crate", ["check", *args.split()]) for args in admin_args(root)],
        ("checks", ["check", "--locked", "--workspace", "--all-targets"]),
    ]
    for name, args in steps:
        dest = work / name
        if not dest.exists():
            copy_set(root, sets[name], dest)
        t0 = time.monotonic()
        ok, out = cargo(args, dest, target_dir)
        log(f"{name} set: cargo {' '.join(args)}: {'ok' if ok else 'FAILED'} ({time.monotonic() - t0:.0f} s)")
        if not ok:
            # The check set holds the crate set: one failure is enough to report.
            return [f"{name} set does not compile:\n{compile_errors(out)}"]

    dest = work / "deps"
    copy_set(root, sets["deps"], dest)
    stub_targets(dest)
    # The host's dependency graph, from the manifest and the lock alone, without updating
    # the lock or downloading anything (the checkout's builds have fetched it all).
    ok, out = cargo(["tree", "--locked", "--offline", "-e", "normal,build", "--prefix", "none"], dest, target_dir)
    log(f"deps set: cargo tree with the declared targets stubbed: {'ok' if ok else 'FAILED'}")
    if not ok:
        problems.append(f"deps set: cargo cannot resolve the manifest and lock alone:\n{compile_errors(out)}")
    log(f"done in {time.monotonic() - start:.0f} s")
    return problems


# ------------------------------------------------------------------ self-test

PLANTS = [
    # (what, files to write {path: text}, tracked?, file to change, text, expected);
    # the text is appended, or replaces the file when it starts with "REPLACE\n".
    (
        "the flake's sets before nix/sources.nix (commonCargoSources alone, as crane keeps it)",
        {},
        True,
        "nix/sources.nix",
        'REPLACE\n{ crate = [ ]; checks = [ "tests" ]; exclude = [ "fuzz" ]; deps = [ "Cargo.toml" "Cargo.lock" "admin/Cargo.toml" ]; }\n',
        "src/config/amazon-trust-services.pem",
    ),
    (
        "a Dockerfile whose dependency layer also copies src/",
        {},
        True,
        "Dockerfile",
        "REPLACE\nFROM x AS builder\nCOPY flake.nix flake.lock Cargo.toml Cargo.lock ./\nCOPY admin/Cargo.toml admin/\n"
        "COPY nix/ nix/\n"
        "COPY src/ src/\nRUN nix build .#bootstrap-deps\nCOPY . .\nRUN nix build .#bootstrap\n",
        "also copies src",
    ),
    (
        "a literal include of a tracked file outside every root",
        {"assets/planted.txt": "planted\n"},
        True,
        "src/lib.rs",
        '\nconst _PLANTED: &str = include_str!("../assets/planted.txt");\n',
        "assets/planted.txt",
    ),
    (
        "a path built with concat! (only the compile can judge it)",
        {"assets/planted.txt": "planted\n"},
        True,
        "src/lib.rs",
        '\nconst _PLANTED: &str = include_str!(concat!("../assets/", "planted.txt"));\n',
        "planted.txt",
    ),
    (
        "an include of a file under src/ that git does not track",
        {"src/untracked.txt": "planted\n"},
        False,
        "src/lib.rs",
        '\nconst _PLANTED: &[u8] = include_bytes!(concat!("unt", "racked.txt"));\n',
        "untracked.txt",
    ),
    (
        "a test including a file outside the check roots",
        {"docs/planted.md": "planted\n"},
        True,
        "tests/api/main.rs",
        '\nconst _PLANTED: &str = include_str!(concat!("../../docs/", "planted.md"));\n',
        "planted.md",
    ),
]


def self_test(target_dir: Path) -> int:
    failures = 0
    with tempfile.TemporaryDirectory(prefix="rust-aws-source-set-selftest.") as tmp:
        base = Path(tmp) / "repo"
        base.mkdir()
        # The checkout as it is, uncommitted work included (in CI: exactly the commit).
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=True,
        ).stdout.decode().split("\0")
        for f in (x for x in listed if x and (ROOT / x).is_file()):
            (base / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, base / f)
        git = ["git", "-C", str(base)]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        for what, files, tracked, host, code, expected in PLANTS:
            for f, text in files.items():
                (base / f).parent.mkdir(parents=True, exist_ok=True)
                (base / f).write_text(text)
                if tracked:
                    subprocess.run([*git, "add", f], check=True)
            original = (base / host).read_text()
            changed = code.removeprefix("REPLACE\n") if code.startswith("REPLACE\n") else original + code
            (base / host).write_text(changed)
            log(f"self-test: planted {what}")
            problems = check(base, target_dir)
            caught = [line.strip() for p in problems for line in p.splitlines() if expected in line]
            if caught:
                log(f"self-test: caught: {caught[0]}")
            else:
                log(f"self-test: FAIL: not reported ({problems or 'the check passed'})")
                failures += 1
            (base / host).write_text(original)
            for f in files:
                subprocess.run([*git, "rm", "-q", "--cached", "--ignore-unmatch", f], check=True)
                (base / f).unlink()
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true", help="plant includes outside the sets; each must be caught")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to check (default: this one)")
    a = ap.parse_args()
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()
    if a.self_test:
        failures = self_test(target_dir)
        log(f"self-test: {len(PLANTS) - failures}/{len(PLANTS)} planted includes caught")
        return 1 if failures else 0
    problems = check(a.root.resolve(), target_dir)
    for p in problems:
        print(f"  FAIL {p}")
    if problems:
        log("the flake's source sets miss files the crate reads: add them under a root of nix/sources.nix (and to git)")
        return 1
    log("ok: the crate compiles from exactly the flake's source sets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
