#!/usr/bin/env python3
"""What Nix itself does not check in flake.lock (`make nix-check` runs it).

ci/nix-check.sh first has Nix load flake.lock with flake.nix
(`nix flake metadata --offline --no-update-lock-file`). That already refuses a lock
whose root inputs, URLs, refs or `follows` differ from flake.nix's (Nix wants to
re-lock), a missing node, a revision that is not a sha1, a narHash that is not an SRI
sha256 and a lastModified that is not an integer. It accepts, and this script refuses:

1. Structure: a lock version other than 7, nodes unreachable from the root, inputs
   that are not github, a `locked` owner/repo that differs from `original` (a lock
   pointing at a fork), unexpected keys, a lastModified that no GitHub commit can have.
2. `flake = false` in flake.nix (read by `nix-instantiate --eval`) and in the lock,
   in either direction.
3. The recorded values against the real trees, wherever a copy of one is on this
   machine: a git mirror (`--mirrors DIR`, holding DIR/<owner>+<repo>/repo) or a
   `git archive` tarball (`--tarball owner/repo=FILE`). The locked revision's tree is
   hashed by `nix hash path` and must be the lock's narHash; the commit time must be
   lastModified; a `ref` must name (tag) or contain (branch) the revision. Inputs with
   no tree here (a fresh CI clone has none) are listed as not recomputed, not failed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Inputs are ordinary GitHub repositories: owner and repo as GitHub allows them.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

errors: list[str] = []


def error(msg: str) -> None:
    errors.append(msg)
    print(f"  FAIL {msg}")


def note(msg: str) -> None:
    print(f"  {msg}")


def check_structure(lock: dict) -> dict:
    print("flake.lock structure")
    if lock.get("version") != 7:
        error(f"version is {lock.get('version')!r}, expected 7")
    nodes, root = lock.get("nodes") or {}, lock.get("root")
    if root not in nodes:
        error("no nodes, or the root node is missing")
        return {}

    def follow(path: list[str]) -> str | None:
        node = root
        for name in path:
            ref = nodes.get(node, {}).get("inputs", {}).get(name)
            node = ref if isinstance(ref, str) or ref is None else follow(ref)
        return node

    reachable, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in nodes and name not in reachable:
            reachable.add(name)
            todo += [r if isinstance(r, str) else follow(r) for r in nodes[name].get("inputs", {}).values()]
    for name in sorted(set(nodes) - reachable):
        error(f"node {name!r} is not reachable from the root")

    now = time.time()
    for name, node in sorted(nodes.items()):
        if name == root:
            continue
        locked, original = node.get("locked") or {}, node.get("original") or {}
        if locked.get("type") != "github" or original.get("type") != "github":
            error(f"{name}: only github inputs are expected here, got {locked.get('type')!r}")
            continue
        expected = {"type", "owner", "repo", "rev", "narHash", "lastModified"}
        if set(locked) != expected:
            error(f"{name}: locked has keys {sorted(locked)}, expected {sorted(expected)}")
        if set(original) - {"type", "owner", "repo", "ref"}:
            error(f"{name}: original has unexpected keys {sorted(original)}")
        if set(node) - {"locked", "original", "inputs", "flake"}:
            error(f"{name}: unexpected keys {sorted(set(node) - {'locked', 'original', 'inputs', 'flake'})}")
        for key in ("owner", "repo"):
            if not NAME.fullmatch(str(locked.get(key, ""))):
                error(f"{name}: locked {key} {locked.get(key)!r} is not a GitHub name")
            if locked.get(key) != original.get(key):
                error(f"{name}: locked {key} {locked.get(key)!r} differs from original {original.get(key)!r}")
        lm = locked.get("lastModified")
        # GitHub's first commits are from 2008; anything past tomorrow is made up.
        if not isinstance(lm, int) or not 1199145600 <= lm <= now + 86400:
            error(f"{name}: lastModified {lm!r} is not a plausible commit time")
    if not errors:
        note(f"ok: version 7, {len(nodes) - 1} github inputs, all reachable, locked = original repositories")
    return nodes


def check_flake_false(lock: dict, flake_dir: Path) -> None:
    print("flake = false, flake.nix against flake.lock")
    inputs = json.loads(subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "-E", f"(import {flake_dir.resolve() / 'flake.nix'}).inputs"],
        check=True, capture_output=True, text=True,
    ).stdout)
    nodes = lock["nodes"]
    start = len(errors)
    for name, ref in sorted(nodes[lock["root"]].get("inputs", {}).items()):
        declared = inputs.get(name, {}).get("flake", True) is False
        locked = nodes.get(ref, {}).get("flake") is False if isinstance(ref, str) else False
        if declared != locked:
            error(f"{name}: flake.nix says flake = {str(not declared).lower()}, the lock flake = {str(not locked).lower()}")
    if len(errors) == start:
        note("ok: the same inputs are non-flakes in both")


def git(repo: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, **kw)


def check_tree(name: str, locked: dict, tar: Path | bytes, source: str) -> None:
    """`nix hash path` of the tree in a tar (one top-level directory if a file, none if bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(tar, Path):
            subprocess.run(["tar", "-xf", str(tar), "-C", tmp, "--strip-components=1"], check=True)
        else:
            subprocess.run(["tar", "-x", "-C", tmp], input=tar, check=True)
        got = subprocess.run(["nix", "--extra-experimental-features", "nix-command", "hash", "path", tmp],
                             check=True, capture_output=True, text=True).stdout.strip()
    if got != locked["narHash"]:
        error(f"{name}: the tree at {locked['rev'][:12]} ({source}) hashes to {got}, the lock says {locked['narHash']}")
    else:
        note(f"ok: {name} narHash recomputed by `nix hash path` from {source}")


def check_mirror(name: str, node: dict, mirror: Path) -> None:
    locked = node["locked"]
    rev = locked["rev"]
    if git(mirror, "cat-file", "-e", f"{rev}^{{commit}}").returncode != 0:
        note(f"skip: {name}: mirror {mirror} lacks {rev[:12]} (older snapshot)")
        return
    ct = int(git(mirror, "log", "-1", "--format=%ct", rev, text=True, check=True).stdout)
    if ct != locked["lastModified"]:
        error(f"{name}: lastModified {locked['lastModified']} but the commit time is {ct}")
    else:
        note(f"ok: {name} lastModified is the commit time")
    ref = node["original"].get("ref")
    # A tag must name the revision; a branch (or the default branch) must contain it.
    tag = git(mirror, "rev-parse", "-q", "--verify", f"refs/tags/{ref}^{{commit}}", text=True) if ref else None
    if tag is not None and tag.returncode == 0:
        if tag.stdout.strip() != rev:
            error(f"{name}: tag {ref} is {tag.stdout.strip()[:12]}, the lock has {rev[:12]}")
        else:
            note(f"ok: {name} tag {ref} is the locked revision")
    elif ref and git(mirror, "rev-parse", "-q", "--verify", f"refs/heads/{ref}").returncode != 0:
        note(f"skip: {name}: mirror has no ref {ref}")
    elif git(mirror, "merge-base", "--is-ancestor", rev, f"refs/heads/{ref}" if ref else "HEAD").returncode != 0:
        error(f"{name}: {rev[:12]} is not on {'branch ' + ref if ref else 'the default branch'}")
    else:
        note(f"ok: {name} revision is on {'branch ' + ref if ref else 'the default branch'}")
    tar = git(mirror, "archive", "--format=tar", rev, check=True).stdout
    check_tree(name, locked, tar, f"git archive of {mirror}")


def check_trees(lock: dict, mirrors: Path | None, tarballs: dict[str, Path]) -> None:
    print("flake.lock against the real trees")
    for name, node in sorted(lock["nodes"].items()):
        locked = node.get("locked")
        if not locked:
            continue
        owner, repo = locked["owner"], locked["repo"]
        recomputed = False
        mirror = next((d / "repo" for d in (mirrors.iterdir() if mirrors and mirrors.is_dir() else [])
                       if d.name.lower() == f"{owner}+{repo}".lower() and (d / "repo").exists()), None)
        if mirror is not None:
            check_mirror(name, node, mirror)
            recomputed = True
        tarball = tarballs.get(f"{owner}/{repo}".lower())
        if tarball is not None and tarball.is_file():
            check_tree(name, locked, tarball, str(tarball))
            recomputed = True
        if not recomputed:
            note(f"not recomputed here: {name} ({owner}/{repo} at {locked['rev'][:12]}): no copy of its tree on this machine")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flake", type=Path, default=ROOT, help="directory with flake.nix and flake.lock")
    ap.add_argument("--mirrors", type=Path, help="directory of git mirrors named <owner>+<repo>/repo")
    ap.add_argument("--tarball", action="append", default=[], metavar="OWNER/REPO=FILE",
                    help="a `git archive` tarball (one top-level directory) of an input's locked revision")
    args = ap.parse_args()
    tarballs = {}
    for spec in args.tarball:
        key, _, path = spec.partition("=")
        if not path:
            ap.error(f"--tarball wants OWNER/REPO=FILE, got {spec!r}")
        tarballs[key.lower()] = Path(path)

    lock = json.loads((args.flake / "flake.lock").read_text())
    if check_structure(lock):
        check_flake_false(lock, args.flake)
        if not errors:
            check_trees(lock, args.mirrors, tarballs)
    print(f"flake-lock-check: {len(errors)} problem(s)" if errors else "flake-lock-check: ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
