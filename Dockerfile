# The function's container image: the provided.al2023 arm64 base and the
# `bootstrap` that `nix build .#bootstrap` produces, nothing else.
#
#   sam build                      (samconfig.toml turns on --use-buildkit)
#   SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) docker buildx build \
#     --platform linux/arm64 --output type=docker,rewrite-timestamp=true -t rust-aws .
#
# BuildKit is required: the builder stage runs on the build machine's own
# platform ($BUILDPLATFORM) so Nix builds natively or cross-compiles, never
# under emulation. See docs/deploy.md.

# Builder: the same flake output a Nix user builds, so the binary in the image
# has the same bits as `nix build .#bootstrap` on the same kind of machine.
# nixos/nix 2.33.0, pinned by the digest that the public Dockerfile.nix of
# bestmike007/nbd pins for that tag. It is the one pin here not checked against
# the registry (none is reachable from this project's CI); if it is wrong,
# the pull fails at once, naming it.
FROM --platform=$BUILDPLATFORM nixos/nix@sha256:081b65e50a5c4e6ef4a9094a462da3b83ff76bfec70236eb010047fcee36e11c AS builder
ENV NIX_CONFIG="experimental-features = nix-command flakes"
WORKDIR /src

# 1. The dependencies, in a layer of their own: the flake's inputs (nixpkgs,
# the Rust toolchain, zig), the vendored crates and every crate compiled for
# aarch64. Their derivation reads only the manifests and the lock (`deps` in
# nix/sources.nix), so this layer is rebuilt only when flake.nix, flake.lock,
# nix/, Cargo.toml, admin/Cargo.toml or Cargo.lock change; ci/source-set-check.py holds these
# COPY lines to that declaration.
COPY flake.nix flake.lock Cargo.toml Cargo.lock ./
COPY admin/Cargo.toml admin/
COPY nix/ nix/
RUN nix build --no-link --print-build-logs .#bootstrap-deps

# 2. The crate: a change to the sources rebuilds from here, reusing the layer
# above (the same derivation, already in this layer's store).
# `cp --preserve=timestamps` keeps the store's fixed mtime, so the layer does
# not depend on when it was built. The hash in the log is to compare with
# `sha256sum result/bin/bootstrap` from a local `nix build`.
COPY . .
RUN nix build --print-build-logs .#bootstrap \
 && mkdir /out \
 && cp -L --preserve=timestamps result/bin/bootstrap /out/bootstrap \
 && sha256sum /out/bootstrap

# Runtime: AWS's provided.al2023 arm64 base, pinned by digest. Refresh the pin
# with ci/refresh-base-image.sh, which rewrites this line and nix/base-image.json
# together; keep the line in exactly this form.
FROM public.ecr.aws/lambda/provided:al2023-arm64@sha256:a48275a6cb21dbd9cae6f8cc10ee8ccc416e1b48f9376d049c5b347985239456
COPY --from=builder /out/bootstrap /var/runtime/bootstrap
# The base's entrypoint needs exactly one argument (the handler name).
CMD ["bootstrap"]
