# The Lambda container image: AWS's provided.al2023 arm64 base, pinned by digest, with
# the aarch64 `bootstrap` at /var/runtime/bootstrap. Nothing from /nix/store goes in:
# the binary is self-contained (see `allowedReferences` in flake.nix) and runs against the
# base image's own glibc.
{
  lib,
  dockerTools,
  runCommand,
  bootstrap,
  # import ./base-image.nix ./base-image.json
  basePin,
}:
let
  inherit (basePin) pin problem;

  base =
    if problem == null then
      dockerTools.pullImage {
        inherit (pin) imageName imageDigest hash;
        # The hash covers skopeo's archive, which records this name and tag: they must be
        # the ones ci/refresh-base-image.sh passes to nix-prefetch-docker.
        finalImageName = pin.imageName;
        finalImageTag = pin.imageTag;
        # The digest may name a multi-arch index: take its linux/arm64 image, whatever
        # the building machine is (pullImage defaults to the build platform's).
        os = "linux";
        arch = "arm64";
      }
    else
      # Fail when the image is built, not when the flake is evaluated: `nix flake check`
      # and the other packages keep working while the pin waits for its hash, and
      # `nix build .#image` stops at once with the message (the warning repeats it during
      # evaluation, before any build starts).
      lib.warn problem (
        runCommand "base-image-pin-needs-refresh" { } ''
          echo ${lib.escapeShellArg problem} >&2
          exit 1
        ''
      );
in
dockerTools.buildLayeredImage {
  name = "rust-aws";
  fromImage = base;
  # dockerTools records the architecture of the package set it is called from; the image
  # is arm64 whichever host builds it.
  architecture = "arm64";
  # No build timestamps: the epoch (dockerTools' default, stated for the reader), so the
  # same inputs give the same image digest.
  created = "1970-01-01T00:00:01Z";
  # The binary is copied into the customisation layer rather than linked from the store,
  # and no store paths are added: the image is the base plus one small layer.
  includeStorePaths = false;
  extraCommands = ''
    mkdir -p var/runtime
    cp ${lib.getExe bootstrap} var/runtime/bootstrap
    chmod 0755 var/runtime/bootstrap
  '';
  # With fromImage, dockerTools keeps only the base's Env (LAMBDA_TASK_ROOT,
  # LAMBDA_RUNTIME_DIR, LD_LIBRARY_PATH, PATH, ...); everything else is restated from the
  # base image's Dockerfile.
  config = {
    # Runs /var/runtime/bootstrap, under the runtime interface emulator when started
    # outside Lambda.
    Entrypoint = [ "/lambda-entrypoint.sh" ];
    # The entrypoint exits unless it gets exactly one argument, the handler name.
    Cmd = [ "bootstrap" ];
    WorkingDir = "/var/task";
  };
}
