{
  description = "rust-aws: a comment and contact-form backend on AWS Lambda (provided.al2023, arm64)";

  inputs = {
    # The newest stable release of nixpkgs.
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

    # A crane release rather than master: master requires Nix >= 2.31.2, while v0.23.4
    # works with every Nix that nixpkgs 26.05 supports, and supports nixpkgs >= 25.11.
    crane.url = "github:ipetkov/crane/v0.23.4";

    # Rust toolchains by exact version (nix/build-inputs.toml says which). It follows our
    # nixpkgs so that the lock holds one nixpkgs, not two.
    rust-overlay = {
      url = "github:oxalica/rust-overlay";
      inputs.nixpkgs.follows = "nixpkgs";
    };

    # RustSec advisories for the audit check, pinned like any other input: the check's
    # verdict changes only when the lock does (`nix flake update advisory-db`).
    advisory-db = {
      url = "github:rustsec/advisory-db";
      flake = false;
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      crane,
      rust-overlay,
      advisory-db,
    }:
    let
      inherit (nixpkgs) lib;

      # What the shipped binary is built with (rustc, target, profile, package, flags,
      # glibc floor), shared with the CI's non-Nix cross build; ci/build-inputs-check.py
      # holds both to it.
      declared = import ./nix/build-inputs.nix;

      # The base image pin, shared with the Dockerfile.
      basePin = import ./nix/base-image.nix ./nix/base-image.json;

      # Hosts that build everything. Both produce the aarch64 binary the same way:
      # cargo-zigbuild links it against the glibc floor instead of nixpkgs' glibc, a cross
      # build on x86_64 and a native one on aarch64.
      linuxSystems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      # macOS hosts get the dev shell and the apps; the Linux packages are built by a Linux
      # builder (nixpkgs' darwin.linux-builder), see docs/nix.md. crane does not test cross
      # builds from macOS, and the image must be the same whichever machine asks for it.
      darwinSystems = [
        "aarch64-darwin"
        "x86_64-darwin"
      ];

      pkgsFor =
        system:
        import nixpkgs {
          inherit system;
          overlays = [ rust-overlay.overlays.default ];
        };

      # The pinned toolchain with the aarch64 standard library, from the rustc release
      # that Debian's rustc-web also is.
      toolchainFor =
        pkgs: extraComponents:
        (pkgs.rust-bin.stable.${declared.rustc} or (throw ''
          The pinned rust-overlay has no stable Rust ${declared.rustc} (nix/build-inputs.toml):
          update it with `nix flake update rust-overlay`.'')
        ).minimal.override
          {
            extensions = declared.components ++ extraComponents;
            targets = [ declared.target ];
          };

      # The function form, as crane recommends: every package set crane splices gets the
      # same pinned toolchain.
      craneLibFor = pkgs: (crane.mkLib pkgs).overrideToolchain (p: toolchainFor p [ ]);

      # The source sets (nix/source-sets.nix, from the roots nix/sources.nix names):
      # crane's commonCargoSources plus whole directories, so a file a package reads at
      # compile time (the AWS trust roots, the widget's assets) is in without anyone
      # editing this file. As a flake, only files tracked by git are seen.
      sourcesFor =
        craneLib:
        let
          inherit (lib) fileset;
          sets = import ./nix/source-sets.nix {
            inherit lib;
            inherit (craneLib.fileset) commonCargoSources;
            root = ./.;
          };
          toSource =
            set:
            fileset.toSource {
              root = ./.;
              fileset = set;
            };

          # What cargo needs for the binaries, so that a change to a test or a doc does not
          # rebuild what ships.
          crateSrc = toSource sets.crate;

          # The checks also read the tests and their data (API Gateway event fixtures,
          # read at run time, and by unit tests at compile time).
          checkSrc = toSource sets.checks;

          # The dependency-only build sees the manifests and the lock, nothing else. Passed
          # as a plain store path: crane's mkDummySrc looks around the Cargo.toml files it
          # finds (src/lib.rs, src/bin/) in the unfiltered tree of a fileset source, and the
          # dependency build must be the same derivation whether or not the crate's sources
          # are there (the Dockerfile builds it before copying them, in a cached layer).
          depsSrc = "${toSource sets.deps}";
        in
        {
          inherit crateSrc checkSrc depsSrc;
        };

      # The owner's `rust-aws` command (`nix run .#admin -- COMMAND`): the workspace's
      # rust-aws-admin package (admin/), with its own dependencies (arguments, import formats,
      # SQLite), built for the machine that runs it. The image takes `bootstrap` alone, so
      # none of this reaches Lambda.
      adminFor =
        craneLib:
        let
          inherit (sourcesFor craneLib) crateSrc depsSrc;
          args = {
            inherit (craneLib.crateNameFromCargoToml { cargoToml = ./admin/Cargo.toml; }) pname version;
            strictDeps = true;
            cargoVendorDir = craneLib.vendorCargoDeps { src = depsSrc; };
            cargoExtraArgs = "--locked --package rust-aws-admin";
            # The tests run in `checks` and `make test`.
            doCheck = false;
          };
        in
        craneLib.buildPackage (
          args
          // {
            src = crateSrc;
            # Its dependencies, cached apart from the sources like the shipped binary's.
            cargoArtifacts = craneLib.buildDepsOnly (
              args // { dummySrc = craneLib.mkDummySrc { src = depsSrc; }; }
            );
            meta.mainProgram = "rust-aws";
          }
        );

      linux =
        system:
        let
          pkgs = pkgsFor system;
          craneLib = craneLibFor pkgs;
          inherit (lib) fileset;

          inherit (sourcesFor craneLib) crateSrc checkSrc depsSrc;

          # ---- the shipped binary: aarch64, glibc <= 2.34, nothing from /nix/store ----

          # Vendored once and shared, so that the flags below name the same directory in
          # the dependency build and in the final build (cargo rebuilds on any change).
          cargoVendorDir = craneLib.vendorCargoDeps { src = depsSrc; };
          zigbuildArgs = lib.escapeShellArgs (declared.cargoArgsFor declared.zigTarget);

          # No `src` here: the dependency build must not evaluate the crate's sources.
          crossArgs = {
            pname = declared.bin;
            inherit (craneLib.crateNameFromCargoToml { cargoToml = ./Cargo.toml; }) version;
            strictDeps = true;
            inherit cargoVendorDir;
            nativeBuildInputs = [
              pkgs.cargo-zigbuild
              pkgs.zig
            ];
            # The output is an aarch64 binary; the tests run natively in `checks`.
            doCheck = false;
            preBuild = ''
              # zig and cargo-zigbuild keep caches under $HOME, which the sandbox lacks.
              export HOME=$TMPDIR/home XDG_CACHE_HOME=$TMPDIR/cache
              export ZIG_GLOBAL_CACHE_DIR=$TMPDIR/zig-global ZIG_LOCAL_CACHE_DIR=$TMPDIR/zig-local
              export CARGO_ZIGBUILD_CACHE_DIR=$TMPDIR/cargo-zigbuild
              mkdir -p "$HOME" "$XDG_CACHE_HOME"

              # The declared flags, with this build's paths for the placeholders.
              ${declared.flagsScript { cargoHome = cargoVendorDir; }}
            '';
            # The binary runs on Amazon Linux, not under Nix: cargo's release profile
            # already strips it, and there is no RUNPATH for patchelf to shrink.
            dontStrip = true;
            dontPatchELF = true;
          };

          # Dependencies only, for caching. Only the zigbuild: crane's default also runs
          # `cargo check` and `cargo test --no-run`, which need no aarch64 artifacts.
          crossDeps = craneLib.buildDepsOnly (
            crossArgs
            // {
              dummySrc = craneLib.mkDummySrc { src = depsSrc; };
              buildPhaseCargoCommand = "cargo zigbuild ${zigbuildArgs}";
            }
          );

          bootstrap = craneLib.buildPackage (
            crossArgs
            // {
              src = crateSrc;
              cargoArtifacts = crossDeps;
              cargoBuildCommand = "cargo zigbuild";
              cargoExtraArgs = zigbuildArgs;
              # Nix fails the build if the binary names any store path: it has to load on
              # Amazon Linux 2023 with only the base image's libraries, and a store
              # reference would also drag that path into the image.
              allowedReferences = [ ];
              meta.mainProgram = declared.bin;
            }
          );

          image = pkgs.callPackage ./nix/image.nix { inherit bootstrap basePin; };

          admin = adminFor craneLib;

          # ---- checks, built natively for the host ----

          # Cargo's default (dev) profile, as `make test-unit`, `make test-service` and
          # `make lint` run them.
          # The declared build environment (nix/build-inputs.toml [env]) as the
          # derivations' environment, so the checks compile what ships.
          nativeArgs = {
            src = checkSrc;
            strictDeps = true;
            CARGO_PROFILE = "";
            # Both packages: the function's and the owner's command's code and tests.
            cargoExtraArgs = "--locked --workspace";
          }
          // declared.env;
          nativeDeps = craneLib.buildDepsOnly nativeArgs;

          checks = {
            inherit bootstrap;

            clippy = craneLib.cargoClippy (
              nativeArgs
              // {
                cargoArtifacts = nativeDeps;
                cargoClippyExtraArgs = "--all-targets -- --deny warnings";
              }
            );

            fmt = craneLib.cargoFmt { src = checkSrc; };

            # The unit tiers of both packages and the in-process tier (tests/api: the app
            # in memory, loopback sockets at most). The moto and black-box tiers are not
            # here: they start moto servers and the release binary, processes a build
            # sandbox does not give; `make test` runs them.
            tests = craneLib.cargoTest (
              nativeArgs
              // {
                cargoArtifacts = nativeDeps;
                cargoTestExtraArgs = "--lib --test api";
              }
            );

            audit = craneLib.cargoAudit {
              src = checkSrc;
              inherit advisory-db;
            };

            # The shipped binary loads on Amazon Linux 2023: interpreter, no RUNPATH,
            # only base-system libraries, no GLIBC_ symbol version above the floor. The
            # same script CI runs on the Debian-built binary.
            al2023 =
              pkgs.runCommand "bootstrap-al2023-check"
                {
                  # readelf reads an aarch64 ELF whatever the host's architecture.
                  nativeBuildInputs = [ pkgs.binutils-unwrapped ];
                  # The script and the declaration it reads the glibc floor from, laid out
                  # as in the checkout (its self-test needs Debian's cross gcc and stays out).
                  scripts = fileset.toSource {
                    root = ./.;
                    fileset = fileset.unions [
                      ./ci/check-al2023.sh
                      ./nix/build-inputs.toml
                    ];
                  };
                }
                ''
                  cd "$scripts"
                  bash ci/check-al2023.sh ${lib.getExe bootstrap}
                  touch $out
                '';
          };
        in
        {
          packages = {
            inherit bootstrap image admin;
            default = image;
            # The dependency build alone: the Dockerfile builds it in a layer of its own.
            bootstrap-deps = crossDeps;
          };
          inherit checks;
          apps = appsFor pkgs image admin;
          devShells.default = devShellFor pkgs checks;
        };

      darwin =
        system:
        let
          pkgs = pkgsFor system;
          # The packages of the Linux system of the same CPU, which is what
          # darwin.linux-builder runs by default: Nix hands their derivations to it. Either
          # Linux system builds the same aarch64 binary and arm64 image.
          inherit (self.packages.${builtins.replaceStrings [ "darwin" ] [ "linux" ] system})
            bootstrap
            image
            ;
          # The admin command runs on the Mac itself: a native build.
          admin = adminFor (craneLibFor pkgs);
        in
        {
          packages = {
            inherit bootstrap image admin;
            default = image;
          };
          apps = appsFor pkgs image admin;
          devShells.default = devShellFor pkgs { };
        };

      appsFor = pkgs: image: admin: {
        # `nix run .#admin -- COMMAND`: the owner's command, on the owner's machine.
        admin = {
          type = "app";
          program = lib.getExe admin;
          meta.description = "The site owner's rust-aws command: moderation, export, import, erasure";
        };

        # `nix run .#push -- ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME [TAG]`
        push = {
          type = "app";
          program = lib.getExe (
            pkgs.writeShellApplication {
              name = "push-image";
              runtimeInputs = [
                pkgs.skopeo
                pkgs.awscli2
                pkgs.coreutils
                pkgs.gzip
              ];
              text = ''
                export SKOPEO_POLICY=${pkgs.skopeo}/etc/containers/default-policy.json
                exec bash ${./nix/push-image.sh} ${image} ${image.imageTag} "$@"
              '';
            }
          );
          meta.description = "Push the image to Amazon ECR as one arm64 manifest, without Docker";
        };

        # `nix run .#refresh-base-image [-- --keep-digest | --digest-only]`
        refresh-base-image = {
          type = "app";
          program = lib.getExe (
            pkgs.writeShellApplication {
              name = "refresh-base-image";
              # The skopeo inside nix-prefetch-docker is this nixpkgs' skopeo, the one
              # pullImage runs: the hash it computes is the hash the build will see.
              runtimeInputs = [
                pkgs.skopeo
                pkgs.nix-prefetch-docker
                pkgs.python3
                pkgs.git
                pkgs.coreutils
                pkgs.gnused
                pkgs.gnugrep
              ];
              text = ''exec bash ${./ci/refresh-base-image.sh} "$@"'';
            }
          );
          meta.description = "Move the base image pin (nix/base-image.json, Dockerfile) to the newest digest and its Nix hash";
        };
      };

      devShellFor =
        pkgs: checks:
        let
          # The pinned toolchain plus the standard library's sources, which rust-analyzer reads.
          craneLib = (crane.mkLib pkgs).overrideToolchain (p: toolchainFor p [ "rust-src" ]);
          # moto with its server extras, on waitress: the black-box tests and the bench run it as
          # local DynamoDB and SES (tests/support/moto_server.py).
          # cfn-lint and the SAM translator: `make template-check`.
          python = pkgs.python3.withPackages (
            ps:
            [
              ps.moto
              ps.waitress
              ps.cfn-lint
              ps.aws-sam-translator
            ]
            ++ (ps.moto.optional-dependencies.server or [ ])
          );
        in
        # The toolchain, and every check's build tools (cargo-zigbuild, zig, cargo-audit,
        # readelf, ...).
        craneLib.devShell {
          inherit checks;
          packages = [
            pkgs.cargo-zigbuild
            pkgs.zig
            pkgs.cargo-lambda
            pkgs.cargo-deny
            pkgs.aws-sam-cli
            pkgs.awscli2
            pkgs.skopeo
            pkgs.nix-prefetch-docker
            pkgs.hadolint
            pkgs.deadnix
            pkgs.gnumake
            pkgs.git
            python
          ]
          ++ lib.optionals pkgs.stdenv.isLinux [
            # Runs the aarch64 binary on an x86_64 host (`make test-arm64`); user-mode
            # emulation exists only on Linux.
            (pkgs.qemu-user or pkgs.qemu)
            # The Runtime API emulator of the base image, to run the image's binary locally.
            pkgs.aws-lambda-rie
          ];
        };

      # Each system's outputs are computed once (one nixpkgs import per system).
      perLinux = lib.genAttrs linuxSystems linux;
      perDarwin = lib.genAttrs darwinSystems darwin;
      pick = name: lib.mapAttrs (_: outputs: outputs.${name}) (perLinux // perDarwin);
    in
    {
      packages = pick "packages";
      apps = pick "apps";
      devShells = pick "devShells";
      # Linux only: the checks build and run code on their host.
      checks = lib.mapAttrs (_: outputs: outputs.checks) perLinux;
    };
}
