#!/usr/bin/env python3
"""The Nix build and the CI's non-Nix cross build agree on their declared inputs.

Both builds of the shipped aarch64 `bootstrap` take their inputs from
nix/build-inputs.toml: rustc release, target, profile, package and binary, RUSTFLAGS
(path remapping), CFLAGS, glibc floor. The two compilers are different builds of the
same rustc release (rust-overlay's upstream binaries, Debian's rustc-web), so the two
binaries are not expected to be bit-identical; what each build is *told* is.

Checked here, without building (and for the declared build environment, [env], in every
route: Nix, the CI cross build and plain cargo through .cargo/config.toml):
  1. the declaration itself: keys, formats, and that it names what Cargo.toml has: the
     root package (the workspace's only default member, so a plain `cargo build
     --release` builds the same) and its binary; and the shipped dependency graph
     (`cargo tree`, default features, the declared target) holds none of the other
     members: not their packages, not their own dependencies, not the features they
     add to shared ones (the owner's command's clap, SQLite, aws-config's SSO);
  2. the Nix side: nix/build-inputs.nix evaluated by nix-instantiate, and its flag
     script run in bash: the cargo arguments, the
     zigbuild target (<target>.<glibc>) and the exported flags are the declared ones;
     flake.nix takes every one of them from there and repeats none as a literal;
  3. the CI side: ci/build-arm64.sh run with a stand-in rustc and cargo, which record
     instead of compiling: same cargo arguments, same flags with its own paths, and its
     glibc floor enforced by ci/check-al2023.sh;
  4. the toolchains: the locked rust-overlay carries the rustc release (when its tree is
     on this machine) and Debian's rustc-web is that release;
  5. no rust-toolchain file at the repository root (rustup would try to download it);
  6. the base image pin is well formed (the Dockerfile's FROM line against it is
     ci/template_check.py's, in `make template-check`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "nix" / "build-inputs.toml"
PLACEHOLDERS = ("{checkout}", "{target_dir}", "{cargo_home}")
KEYS = {"rustc", "components", "target", "profile", "package", "bin", "glibc", "rustflags", "cflags", "env"}
CARGO_CONFIG = ROOT / ".cargo" / "config.toml"

problems: list[str] = []


def fail(msg: str) -> None:
    problems.append(msg)
    print(f"  FAIL {msg}")


def ok(msg: str) -> None:
    print(f"  ok: {msg}")


def skip(msg: str) -> None:
    print(f"  skip: {msg}")


def render(flags: list[str], paths: dict[str, str]) -> list[str]:
    out = []
    for flag in flags:
        for name in ("checkout", "target_dir", "cargo_home"):
            flag = flag.replace("{" + name + "}", paths[name])
        out.append(flag)
    return out


def cargo_args(d: dict, target: str) -> list[str]:
    return ["--locked", "--profile", d["profile"], "--target", target, "--package", d["package"], "--bin", d["bin"]]


def prefix_maps(flags: list[str], option: str) -> list[str]:
    return [f[len(option) + 1:] for f in flags if f.startswith(option + "=")]


# ------------------------------------------------------------------ 1. the declaration


def check_declaration() -> dict | None:
    print("nix/build-inputs.toml")
    start = len(problems)
    try:
        d = tomllib.loads(INPUTS.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        fail(f"cannot read {INPUTS}: {e}")
        return None
    if set(d) != KEYS:
        fail(f"keys are {sorted(d)}, expected {sorted(KEYS)}")
        return None
    strings = ("rustc", "target", "profile", "package", "bin", "glibc")
    lists = ("components", "rustflags", "cflags")
    if not all(isinstance(d[k], str) for k in strings) or not all(
        isinstance(d[k], list) and all(isinstance(x, str) for x in d[k]) for k in lists
    ):
        fail(f"{', '.join(strings)} must be strings and {', '.join(lists)} lists of strings")
        return None
    if not isinstance(d["env"], dict) or not all(
        re.fullmatch(r"[A-Z][A-Z0-9_]*", k) and isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_.,:=+-]*", v)
        for k, v in d["env"].items()
    ):
        fail("[env] must map VARIABLE names to plain string values (no spaces, quotes or shell syntax)")
        return None
    if not re.fullmatch(r"1\.\d+\.\d+", d["rustc"]):
        fail(f"rustc {d['rustc']!r} is not an exact stable release like 1.96.0")
    if not re.fullmatch(r"[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+-gnu", d["target"]):
        fail(f"target {d['target']!r} is not a -gnu target triple (the glibc floor applies to gnu targets)")
    if not re.fullmatch(r"2\.\d+", d["glibc"]):
        fail(f"glibc {d['glibc']!r} is not a glibc version like 2.34")

    # glibc must stay one flat `glibc = "..."` line: ci/check-al2023.sh (which the Nix
    # build runs too, without Python) reads it with sed, taking the first such line.
    lines = re.findall(r'(?m)^\s*glibc\s*=\s*"([^"]*)"\s*(?:#.*)?$', INPUTS.read_text())
    if lines != [d["glibc"]]:
        fail('glibc must be exactly one line `glibc = "..."` (ci/check-al2023.sh reads it with sed)')

    # Flags reach bash (quoted), rustc and, space-separated, the C compiler: keep them
    # free of spaces, quotes and shell syntax.
    for key in ("rustflags", "cflags"):
        for flag in d[key]:
            if not re.fullmatch(r"[A-Za-z0-9_./=:,+{}-]+", flag):
                fail(f"{key}: {flag!r} has characters other than [A-Za-z0-9_./=:,+{{}}-]")
            for ph in re.findall(r"\{[^}]*\}", flag):
                if ph not in PLACEHOLDERS:
                    fail(f"{key}: unknown placeholder {ph} (known: {', '.join(PLACEHOLDERS)})")
    rust_maps = prefix_maps(d["rustflags"], "--remap-path-prefix")
    c_maps = prefix_maps(d["cflags"], "-ffile-prefix-map")
    if rust_maps != c_maps:
        fail(f"rustflags remap {rust_maps} but cflags map {c_maps}: Rust and C paths must be remapped alike")
    for ph in PLACEHOLDERS:
        if not any(m.startswith(ph + "=") for m in rust_maps):
            fail(f"no remapping of {ph}: that host path would reach the binary")

    # What it names is the root package and its binary, and plain cargo builds the same.
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    name = cargo.get("package", {}).get("name")
    if d["package"] != name:
        fail(f"package {d['package']!r} is not the root package of Cargo.toml ({name!r})")
    bins = [b.get("name") for b in cargo.get("bin", [])]
    if d["bin"] not in bins:
        fail(f"bin {d['bin']!r} is not a [[bin]] of Cargo.toml ({bins})")
    if d["profile"] not in ("release", "dev") and d["profile"] not in cargo.get("profile", {}):
        fail(f"profile {d['profile']!r} is not defined in Cargo.toml")
    default_members = cargo.get("workspace", {}).get("default-members")
    if default_members != ["."]:
        fail(f"[workspace] default-members is {default_members!r}, not [\".\"]: a plain `cargo build "
             "--release` (cargo lambda build, cargo lambda watch) would build more than what ships")
    floor = cargo.get("package", {}).get("rust-version")
    if floor and tuple(map(int, floor.split("."))) > tuple(map(int, d["rustc"].split("."))):
        fail(f"rustc {d['rustc']} is older than Cargo.toml's rust-version {floor}")
    if len(problems) == start:
        ok(f"rustc {d['rustc']}, {d['target']}, profile {d['profile']}, bin {d['bin']}, "
           f"package {d['package']} (default features), glibc <= {d['glibc']}, {len(rust_maps)} path remaps")
    return d


def check_shipped_graph(d: dict) -> None:
    """The shipped build compiles nothing that only another workspace member needs."""
    print("the shipped dependency graph (cargo tree)")
    start = len(problems)
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    workspace = cargo.get("workspace", {})
    shared = workspace.get("dependencies", {})
    root_deps = cargo.get("dependencies", {})

    def features(name: str, spec) -> set[str]:
        got = set(spec.get("features", [])) if isinstance(spec, dict) else set()
        if isinstance(spec, dict) and spec.get("workspace"):
            got |= features(name, shared.get(name, {}))
        return got

    # What the other members bring: their packages, their own dependencies, and the
    # features they turn on in the dependencies they share with the root package.
    banned: set[str] = set()
    banned_features: set[tuple[str, str]] = set()
    for member in (m for m in workspace.get("members", []) if m != "."):
        manifest = tomllib.loads((ROOT / member / "Cargo.toml").read_text())
        banned.add(manifest["package"]["name"])
        for dep, spec in manifest.get("dependencies", {}).items():
            if dep == d["package"]:
                continue
            if dep not in root_deps:
                banned.add(dep)
            else:
                banned_features |= {(dep, f) for f in features(dep, spec) - features(dep, root_deps[dep])}
    got = subprocess.run(
        ["cargo", "tree", "--locked", "--offline", "--manifest-path", str(ROOT / "Cargo.toml"),
         "--package", d["package"], "--target", d["target"], "--edges", "normal,build,features",
         "--prefix", "none"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if got.returncode != 0:
        fail(f"cargo tree of the shipped package fails: {got.stderr.strip()[-400:]}")
        return
    packages, enabled = set(), set()
    for line in got.stdout.splitlines():
        if m := re.match(r'(\S+) feature "([^"]+)"', line):
            enabled.add((m.group(1), m.group(2)))
        elif m := re.match(r"(\S+) v\d", line):
            packages.add(m.group(1))
    if d["package"] not in packages:
        fail(f"cargo tree shows no {d['package']}: cannot judge the shipped graph")
    for dep in sorted(packages & banned):
        fail(f"the shipped build compiles {dep}, which only another workspace member needs")
    for dep, feature in sorted(enabled & banned_features):
        fail(f"the shipped build has {dep}'s feature {feature!r}, which only another workspace member turns on")
    if len(problems) == start:
        ok(f"{len(packages)} packages for {d['target']}, none of the {len(banned)} dependencies or "
           f"{len(banned_features)} features that only the other members need")


# ------------------------------------------------------------------ 2. the Nix side


def stub_rustc(bin_dir: Path, version: str, sysroot: Path) -> Path:
    """A `rustc` that only answers the questions the build scripts ask."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    rustc = bin_dir / "rustc"
    rustc.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f'  "-vV") printf "rustc {version} (stand-in)\\nbinary: rustc\\ncommit-hash: unknown\\n'
        f'host: x86_64-unknown-linux-gnu\\nrelease: {version}\\n" ;;\n'
        f'  "--print sysroot") echo "{sysroot}" ;;\n'
        '  *) echo "stand-in rustc: unexpected $*" >&2; exit 1 ;;\n'
        "esac\n"
    )
    rustc.chmod(0o755)
    return rustc


def nix_eval(expr: str):
    got = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "-E", expr],
        cwd=ROOT, capture_output=True, text=True,
    )
    if got.returncode != 0:
        raise RuntimeError(got.stderr.strip())
    return json.loads(got.stdout)


def check_nix_side(d: dict, tmp: Path) -> None:
    print("the Nix build (nix/build-inputs.nix, flake.nix)")
    start = len(problems)
    if not shutil.which("nix-instantiate"):
        fail("nix-instantiate is not installed (ci/install.d/30-nix.sh installs it)")
        return
    lib = "(import ./nix/build-inputs.nix)"
    try:
        zig_target = nix_eval(f"{lib}.zigTarget")
        args = nix_eval(f"{lib}.cargoArgsFor {lib}.zigTarget")
        script = nix_eval(f'{lib}.flagsScript {{ cargoHome = "{tmp}/vendor"; }}')
    except RuntimeError as e:
        fail(f"nix/build-inputs.nix does not evaluate: {e}")
        return
    if zig_target != f"{d['target']}.{d['glibc']}":
        fail(f"zigbuild target {zig_target!r} is not {d['target']}.{d['glibc']}")
    else:
        ok(f"cargo-zigbuild links for {zig_target}: glibc floor {d['glibc']} applied at link time")
    if args != cargo_args(d, zig_target):
        fail(f"Nix cargo arguments {args} differ from the declaration's {cargo_args(d, zig_target)}")

    # Run the flag script as the Nix build's preBuild would, and read what it exports.
    checkout = tmp / "nix-source"
    checkout.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    env["RUSTFLAGS"] = "-C should-be-unset"
    var = "CFLAGS_" + d["target"].replace("-", "_")
    for k in d["env"]:
        env.pop(k, None)
    declared_env = "".join(f"printf '\\0%s' \"${{{k}-unset}}\"\n" for k in d["env"])
    dump = (f'{script}\nprintf "%s\\0%s\\0%s" "$CARGO_ENCODED_RUSTFLAGS" "${var}" "${{RUSTFLAGS-unset}}"\n'
            f'{declared_env}')
    got = subprocess.run(["bash", "-euo", "pipefail", "-c", dump], cwd=checkout, env=env, capture_output=True)
    if got.returncode != 0:
        fail(f"the Nix flag script fails in bash: {got.stderr.decode().strip()}")
        return
    encoded, cflags, rest = got.stdout.decode().split("\0", 2)
    rustflags_env, *env_values = rest.split("\0")[: 1 + len(d["env"])]
    nix_env = dict(zip(d["env"], env_values))
    if nix_env != d["env"]:
        fail(f"the Nix flag script exports {nix_env}, declared [env] {d['env']}")
    paths = {
        "checkout": str(checkout),
        "target_dir": f"{checkout}/target",
        "cargo_home": f"{tmp}/vendor",
    }
    if encoded.split("\x1f") != render(d["rustflags"], paths):
        fail(f"Nix exports rustflags {encoded.split(chr(31))}, declared {render(d['rustflags'], paths)}")
    elif cflags != " ".join(render(d["cflags"], paths)):
        fail(f"Nix exports {var}={cflags!r}, declared {' '.join(render(d['cflags'], paths))!r}")
    elif rustflags_env != "unset":
        fail("the Nix flag script leaves RUSTFLAGS set, which would override CARGO_ENCODED_RUSTFLAGS")
    else:
        ok("the Nix build exports exactly the declared rustflags, cflags and env")

    # flake.nix takes all of it from nix/build-inputs.nix and repeats none of it.
    flake = (ROOT / "flake.nix").read_text()
    code = "\n".join(line.split("#", 1)[0] for line in flake.splitlines())
    wiring = {
        "import ./nix/build-inputs.nix": "reads the declaration",
        "rust-bin.stable.${declared.rustc}": "selects the toolchain by the declared rustc",
        "declared.components": "adds the declared components",
        "targets = [ declared.target ]": "adds the declared target's std",
        "declared.cargoArgsFor declared.zigTarget": "builds with the declared cargo arguments",
        '"cargo zigbuild"': "links with cargo-zigbuild",
        "declared.flagsScript": "exports the declared flags",
        "ci/check-al2023.sh": "runs the AL2023 check on the binary",
    }
    for needle, what in wiring.items():
        if needle not in code:
            fail(f"flake.nix no longer {what} ({needle!r} not found)")
    for key in ("rustc", "target", "glibc"):
        if re.search(rf'"[^"\n]*{re.escape(d[key])}[^"\n]*"', code):
            fail(f"flake.nix spells out {key} {d[key]!r}: take it from nix/build-inputs.toml")
    if len(problems) == start:
        ok("flake.nix takes rustc, components, target, cargo arguments and flags from the declaration")


# ------------------------------------------------------------------ 3. the CI side


def check_ci_side(d: dict, tmp: Path) -> None:
    print("the CI cross build (ci/build-arm64.sh, ci/check-al2023.sh)")
    start = len(problems)
    script = ROOT / "ci" / "build-arm64.sh"
    if not script.is_file():
        fail("ci/build-arm64.sh is missing")
        return
    sysroot = tmp / "ci-sysroot"
    (sysroot / "lib" / "rustlib" / d["target"] / "lib").mkdir(parents=True)
    rustc = stub_rustc(tmp / "ci-rustc", d["rustc"], sysroot)
    cargo_home = tmp / "ci-cargo-home"
    target_dir = tmp / "ci-target"
    record = tmp / "ci-cargo.json"
    cargo_bin = tmp / "ci-bin"
    cargo_bin.mkdir()
    var = "CFLAGS_" + d["target"].replace("-", "_")
    # A cargo that writes down how it was called and leaves an empty binary behind.
    (cargo_bin / "cargo").write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "keys = ['CARGO_ENCODED_RUSTFLAGS', 'RUSTFLAGS', 'RUSTC', 'CARGO_HOME', 'CARGO_TARGET_DIR', "
        f"'{var}'] + {sorted(d['env'])!r}\n"
        f"json.dump({{'argv': sys.argv[1:], 'env': {{k: os.environ.get(k) for k in keys}}}}, open({str(record)!r}, 'w'))\n"
        f"out = os.path.join(os.environ.get('CARGO_TARGET_DIR', 'target'), {d['target']!r}, {d['profile']!r})\n"
        "os.makedirs(out, exist_ok=True)\n"
        f"open(os.path.join(out, {d['bin']!r}), 'w').close()\n"
    )
    (cargo_bin / "cargo").chmod(0o755)
    env = dict(os.environ)
    env.update(
        PATH=f"{cargo_bin}:{env['PATH']}",
        RUSTC_ARM64=str(rustc),
        CARGO_HOME=str(cargo_home),
        CARGO_TARGET_DIR=str(target_dir),
    )
    env.pop("RUSTFLAGS", None)
    for k in d["env"]:
        env.pop(k, None)
    got = subprocess.run(["bash", str(script)], cwd=ROOT, env=env, capture_output=True, text=True)
    if got.returncode != 0:
        fail(f"ci/build-arm64.sh refuses the declaration: {got.stderr.strip()}")
        return
    if not record.is_file():
        fail("ci/build-arm64.sh did not run cargo")
        return
    seen = json.loads(record.read_text())
    want_args = ["build", *cargo_args(d, d["target"])]
    if seen["argv"] != want_args:
        fail(f"CI runs cargo {seen['argv']}, declared cargo {want_args}")
    paths = {
        "checkout": str(ROOT),
        "target_dir": str(target_dir),
        "cargo_home": str(cargo_home),
    }
    encoded = (seen["env"]["CARGO_ENCODED_RUSTFLAGS"] or "").split("\x1f")
    if encoded != render(d["rustflags"], paths):
        fail(f"CI passes rustflags {encoded}, declared {render(d['rustflags'], paths)}")
    if seen["env"]["RUSTFLAGS"] is not None:
        fail("CI leaves RUSTFLAGS set, which would override CARGO_ENCODED_RUSTFLAGS")
    if (seen["env"][var] or "") != " ".join(render(d["cflags"], paths)):
        fail(f"CI passes {var}={seen['env'][var]!r}, declared {' '.join(render(d['cflags'], paths))!r}")
    if seen["env"]["RUSTC"] != str(rustc):
        fail(f"CI compiles with {seen['env']['RUSTC']!r}, not the rustc it checked")
    ci_env = {k: seen["env"].get(k) for k in d["env"]}
    if ci_env != d["env"]:
        fail(f"CI builds with {ci_env}, declared [env] {d['env']}")
    if len(problems) == start:
        ok(f"CI runs `cargo {' '.join(want_args)}` with exactly the declared rustflags, cflags and env")

    # The CI binary is linked against Debian's glibc 2.36: its floor is the ELF check's.
    check = ROOT / "ci" / "check-al2023.sh"
    if not check.is_file():
        fail("ci/check-al2023.sh is missing: nothing would enforce the glibc floor on the CI binary")
        return
    text = check.read_text()
    if "build-inputs.toml" in text:
        ok("ci/check-al2023.sh takes the glibc floor from nix/build-inputs.toml")
    elif re.search(rf"(?<![0-9.]){re.escape(d['glibc'])}(?![0-9])", text):
        ok(f"ci/check-al2023.sh enforces glibc {d['glibc']} (spelled out there)")
    else:
        fail(f"ci/check-al2023.sh neither reads nix/build-inputs.toml nor names glibc {d['glibc']}")


# ------------------------------------------------------------------ 4. toolchains


def check_toolchains(d: dict) -> None:
    print("toolchains")
    lock = json.loads((ROOT / "flake.lock").read_text())
    node = lock["nodes"].get("rust-overlay", {}).get("locked", {})
    mirrors = Path(os.environ.get("FLAKE_LOCK_MIRRORS", "/work/.mirror"))
    repo = mirrors / f"{node.get('owner')}+{node.get('repo')}" / "repo"
    if node and repo.exists():
        path = f"{node['rev']}:manifests/stable/{d['rustc']}.nix"
        if subprocess.run(["git", "--git-dir", str(repo), "cat-file", "-e", path]).returncode == 0:
            ok(f"the locked rust-overlay ({node['rev'][:12]}) has stable {d['rustc']}")
        else:
            fail(f"the locked rust-overlay ({node['rev'][:12]}) has no manifests/stable/{d['rustc']}.nix")
    else:
        skip("rust-overlay's tree is not on this machine: its stable versions are not checked")

    version = None
    if shutil.which("dpkg-query"):
        got = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "rustc-web"], capture_output=True, text=True)
        if got.returncode == 0 and got.stdout.startswith("install ok installed "):
            version = got.stdout.split()[-1]
            source = "installed"
    if version is None and shutil.which("apt-cache"):
        got = subprocess.run(["apt-cache", "policy", "rustc-web"], capture_output=True, text=True)
        m = re.search(r"Candidate:\s*(\S+)", got.stdout)
        if m and m.group(1) != "(none)":
            version, source = m.group(1), "the apt candidate"
    if version is None:
        skip("no Debian rustc-web known here (not Debian, or apt lists not fetched)")
    elif re.match(rf"{re.escape(d['rustc'])}\+", version):
        ok(f"Debian's rustc-web ({source}) is {version}: rustc {d['rustc']} on both sides")
    else:
        fail(f"Debian's rustc-web ({source}) is {version}, the declared rustc is {d['rustc']}")


# ------------------------------------------------------------------ 5, 6. repository


def check_repository() -> None:
    print("repository")
    start = len(problems)
    for name in ("rust-toolchain", "rust-toolchain.toml"):
        if (ROOT / name).exists():
            fail(f"{name} at the repository root makes rustup download a toolchain (offline CI fails); "
                 "the toolchain is declared in nix/build-inputs.toml")
    pin_path = ROOT / "nix" / "base-image.json"
    pin = json.loads(pin_path.read_text())
    want = {"imageName", "imageTag", "imageDigest", "hash", "hashForDigest"}
    if set(pin) != want:
        fail(f"nix/base-image.json has keys {sorted(pin)}, expected {sorted(want)}")
        return
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", pin["imageDigest"]):
        fail(f"nix/base-image.json: imageDigest {pin['imageDigest']!r} is malformed")
    if pin["hash"] and not re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", pin["hash"]):
        fail(f"nix/base-image.json: hash {pin['hash']!r} is not a sha256 in SRI form")
    if pin["hashForDigest"] not in ("", pin["imageDigest"]) or bool(pin["hash"]) != bool(pin["hashForDigest"]):
        fail("nix/base-image.json: hashForDigest must be the digest the hash was computed for "
             "(run ci/refresh-base-image.sh, do not edit by hand)")
    if len(problems) == start:
        state = "with its Nix hash" if pin["hash"] else "without a Nix hash yet (nix run .#refresh-base-image)"
        # (The Dockerfile's FROM line against this pin: template_check.py's check_dockerfile.)
        ok(f"no rust-toolchain file; base image {pin['imageDigest'][:19]}... pinned {state}")


def check_plain_cargo(d: dict) -> None:
    """`cargo build --release` and `cargo lambda build` get the environment from
    .cargo/config.toml's [env] (a variable already set in the caller's environment wins
    there, as cargo documents; CI and Nix set none of them otherwise)."""
    print("plain cargo (.cargo/config.toml)")
    try:
        config = tomllib.loads(CARGO_CONFIG.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        fail(f"cannot read {CARGO_CONFIG.relative_to(ROOT)}: {e}")
        return
    have = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in config.get("env", {}).items()}
    missing = {k: v for k, v in d["env"].items() if have.get(k) != v}
    if missing:
        fail(f".cargo/config.toml [env] lacks or differs on {missing} (declared in nix/build-inputs.toml)")
    else:
        ok(f"cargo build and cargo lambda build get {sorted(d['env'])} from .cargo/config.toml")


def main() -> int:
    d = check_declaration()
    if d is not None and not problems:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(os.path.realpath(tmp))
            check_shipped_graph(d)
            check_nix_side(d, tmp)
            check_ci_side(d, tmp)
        check_plain_cargo(d)
        check_toolchains(d)
    check_repository()
    if problems:
        print(f"build-inputs-check: {len(problems)} problem(s)")
        return 1
    print("build-inputs-check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
