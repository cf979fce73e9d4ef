#!/usr/bin/env python3
"""Validate flake.lock without building anything (`make nix-check` runs it).

1. Structure: lock version 7, every node reachable and well formed, `follows` paths
   that resolve, revisions of 40 hex digits, narHash a SRI sha256, lastModified a
   plausible Unix time.
2. Agreement with flake.nix: the root's inputs, their URLs, `flake = false` and
   `follows` are those of flake.nix's `inputs` (read by `nix-instantiate --eval`).
3. The recorded values against the real trees, wherever a copy of one is on this
   machine: a git mirror (`--mirrors DIR`, holding DIR/<owner>+<repo>/repo as `fetch`
   leaves them) or a `git archive` tarball (`--tarball owner/repo=FILE`). For each,
   the tree of the locked revision is serialised as a NAR, exactly what Nix hashes for
   a github input, and its sha256 must be the lock's narHash; the commit time must be
   lastModified; a `ref` must contain the revision. With `nix` on PATH the same tree is
   also hashed by `nix hash path`, which checks this script's NAR writer against Nix.
   Inputs with no tree here (a fresh CI clone has none) are listed as not recomputed:
   that is not a failure.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRI_SHA256 = re.compile(r"sha256-[A-Za-z0-9+/]{43}=")
REV = re.compile(r"[0-9a-f]{40}")
# Inputs are ordinary GitHub repositories: owner and repo as GitHub allows them.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

errors: list[str] = []


def error(msg: str) -> None:
    errors.append(msg)
    print(f"  FAIL {msg}")


def note(msg: str) -> None:
    print(f"  {msg}")


# ---------------------------------------------------------------- NAR serialisation


class Tree:
    """A file tree as Nix sees it: directories, regular files (executable or not), symlinks."""

    def __init__(self) -> None:
        self.root: dict = {"type": "directory", "entries": {}}

    def _dir(self, parts: list[str]) -> dict:
        node = self.root
        for part in parts:
            node = node["entries"].setdefault(part, {"type": "directory", "entries": {}})
            if node["type"] != "directory":
                raise ValueError(f"{'/'.join(parts)} is both a file and a directory")
        return node

    def add(self, path: str, node: dict) -> None:
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if not parts:
            return
        if node["type"] == "directory":
            self._dir(parts)
        else:
            self._dir(parts[:-1])["entries"][parts[-1]] = node


def tree_from_tar(stream, strip_components: int = 0) -> Tree:
    tree = Tree()
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            parts = member.name.split("/")[strip_components:]
            path = "/".join(parts)
            if member.isdir():
                tree.add(path, {"type": "directory", "entries": {}})
            elif member.issym():
                tree.add(path, {"type": "symlink", "target": member.linkname})
            elif member.isfile():
                f = tar.extractfile(member)
                data = f.read() if f else b""
                tree.add(path, {"type": "regular", "executable": bool(member.mode & 0o100), "data": data})
            elif member.type in (tarfile.XGLTYPE, tarfile.XHDTYPE):
                continue
            else:
                raise ValueError(f"unsupported tar member {member.name!r}")
    return tree


def nar_hash(tree: Tree) -> str:
    """sha256 of the NAR serialisation (Nix's `nix hash path`), in SRI form."""
    h = hashlib.sha256()

    def s(b: bytes | str) -> None:
        if isinstance(b, str):
            b = b.encode()
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
        h.update(b"\0" * (-len(b) % 8))

    def node(n: dict) -> None:
        s("(")
        s("type")
        if n["type"] == "regular":
            s("regular")
            if n["executable"]:
                s("executable")
                s("")
            s("contents")
            s(n["data"])
        elif n["type"] == "symlink":
            s("symlink")
            s("target")
            s(n["target"])
        else:
            s("directory")
            for name in sorted(n["entries"], key=lambda x: x.encode()):
                s("entry")
                s("(")
                s("name")
                s(name)
                s("node")
                node(n["entries"][name])
                s(")")
        s(")")

    s("nix-archive-1")
    node(tree.root)
    return "sha256-" + base64.b64encode(h.digest()).decode()


def nix_hash_path(tar_bytes: bytes, strip_components: int) -> str | None:
    """The same tree hashed by Nix itself, when `nix` is installed."""
    nix = shutil.which("nix")
    if not nix:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tree"
        out.mkdir()
        cmd = ["tar", "-x", "-C", str(out)]
        if strip_components:
            cmd.append(f"--strip-components={strip_components}")
        subprocess.run(cmd, input=tar_bytes, check=True)
        got = subprocess.run(
            [nix, "--extra-experimental-features", "nix-command", "hash", "path", str(out)],
            check=True, capture_output=True, text=True,
        )
        return got.stdout.strip()


# ---------------------------------------------------------------- flake.nix inputs


def flake_inputs(flake_dir: Path) -> dict | None:
    exe = shutil.which("nix-instantiate")
    if not exe:
        return None
    got = subprocess.run(
        [exe, "--eval", "--strict", "--json", "-E", f"(import {flake_dir / 'flake.nix'}).inputs"],
        check=True, capture_output=True, text=True,
    )
    return json.loads(got.stdout)


def parse_github_url(url: str) -> dict | None:
    m = re.fullmatch(r"github:([^/]+)/([^/?]+)(?:/([^?]+))?", url)
    if not m:
        return None
    original = {"type": "github", "owner": m.group(1), "repo": m.group(2)}
    if m.group(3):
        original["ref"] = m.group(3)
    return original


# ---------------------------------------------------------------- checks


def check_structure(lock: dict) -> dict:
    print("flake.lock structure")
    if lock.get("version") != 7:
        error(f"version is {lock.get('version')!r}, expected 7")
    nodes = lock.get("nodes")
    root = lock.get("root")
    if not isinstance(nodes, dict) or root not in nodes:
        error("no nodes, or the root node is missing")
        return {}

    def resolve(path: list, where: str) -> str | None:
        """A `follows` path, from the root node."""
        node = root
        for name in path:
            ref = nodes.get(node, {}).get("inputs", {}).get(name)
            if ref is None:
                error(f"{where}: follows {path} does not resolve")
                return None
            node = ref if isinstance(ref, str) else resolve(ref, where)
            if node is None:
                return None
        return node

    reachable, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in reachable:
            continue
        reachable.add(name)
        for input_name, ref in nodes[name].get("inputs", {}).items():
            where = f"{name}.inputs.{input_name}"
            if isinstance(ref, str):
                if ref not in nodes:
                    error(f"{where} names missing node {ref!r}")
                else:
                    todo.append(ref)
            elif isinstance(ref, list) and all(isinstance(p, str) for p in ref):
                target = resolve(ref, where)
                if target:
                    todo.append(target)
            else:
                error(f"{where} is neither a node name nor a follows path")
    for name in sorted(set(nodes) - reachable):
        error(f"node {name!r} is not reachable from the root")

    now = time.time()
    for name, node in sorted(nodes.items()):
        if name == root:
            if set(node) - {"inputs"}:
                error(f"root node has unexpected keys {sorted(set(node) - {'inputs'})}")
            continue
        locked, original = node.get("locked"), node.get("original")
        if not isinstance(locked, dict) or not isinstance(original, dict):
            error(f"{name}: needs both locked and original")
            continue
        if locked.get("type") != "github" or original.get("type") != "github":
            error(f"{name}: only github inputs are expected here, got {locked.get('type')!r}")
            continue
        expected = {"type", "owner", "repo", "rev", "narHash", "lastModified"}
        if set(locked) != expected:
            error(f"{name}: locked has keys {sorted(locked)}, expected {sorted(expected)}")
        for key in ("owner", "repo"):
            if not NAME.fullmatch(str(locked.get(key, ""))):
                error(f"{name}: locked {key} {locked.get(key)!r} is not a GitHub name")
            if locked.get(key) != original.get(key):
                error(f"{name}: locked {key} {locked.get(key)!r} differs from original {original.get(key)!r}")
        if set(original) - {"type", "owner", "repo", "ref"}:
            error(f"{name}: original has unexpected keys {sorted(original)}")
        if not REV.fullmatch(str(locked.get("rev", ""))):
            error(f"{name}: rev {locked.get('rev')!r} is not 40 hex digits")
        nar = str(locked.get("narHash", ""))
        if not SRI_SHA256.fullmatch(nar) or len(base64.b64decode(nar[7:])) != 32:
            error(f"{name}: narHash {nar!r} is not a sha256 in SRI form")
        lm = locked.get("lastModified")
        # GitHub's first commits are from 2008; anything past tomorrow is made up.
        if not isinstance(lm, int) or isinstance(lm, bool) or not 1199145600 <= lm <= now + 86400:
            error(f"{name}: lastModified {lm!r} is not a plausible commit time")
        if "flake" in node and node["flake"] is not False:
            error(f"{name}: flake must be absent or false")
        if set(node) - {"locked", "original", "inputs", "flake"}:
            error(f"{name}: unexpected keys {sorted(set(node) - {'locked', 'original', 'inputs', 'flake'})}")
    if not errors:
        note(f"ok: {len(nodes) - 1} inputs, all reachable, all github, hashes and revisions well formed")
    return nodes


def check_against_flake_nix(lock: dict, inputs: dict | None) -> None:
    print("flake.lock against flake.nix")
    start = len(errors)
    if inputs is None:
        error("nix-instantiate is not installed (ci/install.d/30-nix.sh installs it)")
        return
    nodes = lock["nodes"]
    root_inputs = nodes[lock["root"]].get("inputs", {})
    if set(root_inputs) != set(inputs):
        error(f"root inputs {sorted(root_inputs)} differ from flake.nix's {sorted(inputs)}")
    for name, spec in sorted(inputs.items()):
        ref = root_inputs.get(name)
        if not isinstance(ref, str) or ref not in nodes:
            continue
        node = nodes[ref]
        want = parse_github_url(spec.get("url", ""))
        if want is None:
            error(f"flake.nix input {name}: {spec.get('url')!r} is not a github: URL")
        elif node.get("original") != want:
            error(f"{name}: lock original {node.get('original')} differs from flake.nix's {spec['url']!r}")
        if spec.get("flake", True) is False and node.get("flake") is not False:
            error(f"{name}: flake.nix says flake = false, the lock does not")
        if spec.get("flake", True) is not False and node.get("flake") is False:
            error(f"{name}: the lock says flake = false, flake.nix does not")
        for sub, sub_spec in spec.get("inputs", {}).items():
            follows = sub_spec.get("follows")
            got = node.get("inputs", {}).get(sub)
            if follows is not None and got != follows.split("/"):
                error(f"{name}.inputs.{sub}: flake.nix follows {follows!r}, the lock has {got!r}")
    if len(errors) == start:
        note(f"ok: root inputs, URLs, flake = false and follows are flake.nix's ({', '.join(sorted(inputs))})")


def find_mirror(mirrors: Path | None, owner: str, repo: str) -> Path | None:
    if mirrors is None or not mirrors.is_dir():
        return None
    want = f"{owner}+{repo}".lower()
    for child in mirrors.iterdir():
        if child.name.lower() == want and (child / "repo").exists():
            return child / "repo"
    return None


def git(repo: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, **kw)


def check_tree(name: str, locked: dict, tar_bytes: bytes, strip: int, source: str) -> None:
    if tar_bytes[:2] == b"\x1f\x8b":
        tar_bytes = gzip.decompress(tar_bytes)
    ours = nar_hash(tree_from_tar(io.BytesIO(tar_bytes), strip))
    if ours != locked["narHash"]:
        error(f"{name}: the tree at {locked['rev'][:12]} ({source}) hashes to {ours}, the lock says {locked['narHash']}")
    else:
        note(f"ok: {name} narHash recomputed from {source}")
    theirs = nix_hash_path(tar_bytes, strip)
    if theirs is not None:
        if theirs != ours:
            error(f"{name}: nix hash path gives {theirs}, this script's NAR writer {ours}")
        else:
            note(f"ok: {name} `nix hash path` agrees")


def check_trees(lock: dict, mirrors: Path | None, tarballs: dict[str, Path]) -> None:
    print("flake.lock against the real trees")
    for name, node in sorted(lock["nodes"].items()):
        locked = node.get("locked")
        if not locked:
            continue
        owner, repo, rev = locked["owner"], locked["repo"], locked["rev"]
        recomputed = False
        mirror = find_mirror(mirrors, owner, repo)
        if mirror is not None:
            if git(mirror, "cat-file", "-e", f"{rev}^{{commit}}").returncode != 0:
                note(f"skip: {name}: mirror {mirror} lacks {rev[:12]} (older snapshot)")
            else:
                ct = int(git(mirror, "log", "-1", "--format=%ct", rev, text=True, check=True).stdout)
                if ct != locked["lastModified"]:
                    error(f"{name}: lastModified {locked['lastModified']} but the commit time is {ct}")
                else:
                    note(f"ok: {name} lastModified is the commit time")
                ref = node["original"].get("ref")
                if ref:
                    # A tag must name the revision; a branch must contain it.
                    tag = git(mirror, "rev-parse", "-q", "--verify", f"refs/tags/{ref}^{{commit}}", text=True)
                    branch = git(mirror, "rev-parse", "-q", "--verify", f"refs/heads/{ref}", text=True)
                    if tag.returncode == 0:
                        if tag.stdout.strip() != rev:
                            error(f"{name}: tag {ref} is {tag.stdout.strip()[:12]}, the lock has {rev[:12]}")
                        else:
                            note(f"ok: {name} tag {ref} is the locked revision")
                    elif branch.returncode == 0:
                        if git(mirror, "merge-base", "--is-ancestor", rev, f"refs/heads/{ref}").returncode != 0:
                            error(f"{name}: {rev[:12]} is not on branch {ref}")
                    else:
                        note(f"skip: {name}: mirror has no ref {ref}")
                else:
                    if git(mirror, "merge-base", "--is-ancestor", rev, "HEAD").returncode != 0:
                        error(f"{name}: {rev[:12]} is not on the default branch")
                    else:
                        note(f"ok: {name} revision is on the default branch")
                tar_bytes = git(mirror, "archive", "--format=tar", rev, check=True).stdout
                check_tree(name, locked, tar_bytes, 0, f"git archive of {mirror}")
                recomputed = True
        tarball = tarballs.get(f"{owner}/{repo}".lower())
        if tarball is not None:
            if tarball.is_file():
                check_tree(name, locked, tarball.read_bytes(), 1, str(tarball))
                recomputed = True
            else:
                note(f"skip: {name}: {tarball} not present")
        if not recomputed:
            note(f"not recomputed here: {name} ({owner}/{repo} at {rev[:12]}): no copy of its tree on this machine")


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
    nodes = check_structure(lock)
    if nodes:
        check_against_flake_nix(lock, flake_inputs(args.flake))
        if not errors:
            check_trees(lock, args.mirrors, tarballs)
    if errors:
        print(f"flake-lock-check: {len(errors)} problem(s)")
        return 1
    print("flake-lock-check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
