# The provided.al2023 arm64 base image pin (nix/base-image.json), shared with the
# Dockerfile's `FROM ...@sha256:` line, and whether its Nix hash can be used.
#
# Two values pin one image: the registry digest (what the Dockerfile and skopeo ask for)
# and the Nix hash of skopeo's docker-archive of it (what dockerTools.pullImage checks).
# The second can only be computed by pulling the image, which this project's CI cannot
# do, so the pin may arrive without it. `hashForDigest` records which digest the hash was
# computed for, so that a digest changed without its hash is caught as stale, here,
# instead of as a bare hash mismatch deep inside a build.
#
# Builtins only: ci/test-refresh-base-image.sh evaluates this with a bare nix-instantiate.
pinFile:
let
  pin = builtins.fromJSON (builtins.readFile pinFile);
  image = "${pin.imageName}:${pin.imageTag}@${pin.imageDigest}";
  todo = ''
    Run, on a machine with Nix and network access, from the repository root:
        nix run .#refresh-base-image
    It moves the pin to the newest digest of ${pin.imageName}:${pin.imageTag}, computes
    its hash and rewrites nix/base-image.json and the Dockerfile's FROM line together;
    commit both. To hash the digest pinned now instead of moving it:
        nix run .#refresh-base-image -- --keep-digest'';
in
{
  inherit pin;

  # null when pullImage can use the pin as it is, else the message to fail with.
  problem =
    if pin.hash == "" then
      ''
        nix/base-image.json pins the base image ${image}
        but has no Nix hash for it yet, so the image cannot be built.
        ${todo}''
    else if (pin.hashForDigest or "") != pin.imageDigest then
      ''
        nix/base-image.json is stale: its hash was computed for ${
          if (pin.hashForDigest or "") == "" then "an unrecorded digest" else pin.hashForDigest
        },
        but it now pins ${image}.
        ${todo}''
    else
      null;
}
