# syntax=docker/dockerfile:1
# vigil image: the lean worker (-tags nodev: no embedded Temporal server or
# Web UI; it still has --cloud-only, the local cloud emulators) and the
# starter CLI, static binaries on a distroless base, running as non-root.
#
#   docker build -t vigil .
#   docker run --rm vigil worker --version
#   docker run --rm vigil starter version
#
# Binaries ~38 MB (worker) + ~34 MB (starter), stripped; the final image is
# about 75 MB uncompressed (distroless/static adds ~2 MB).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# Modules and the build cache live in cache mounts: only what the two
# binaries import is downloaded (not the embedded dev server's ~1.6 GB).
COPY . .
ARG VERSION=""
ARG COMMIT=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    LDFLAGS="-s -w -X github.com/vigilops/vigil/internal/version.Version=${VERSION} -X github.com/vigilops/vigil/internal/version.Commit=${COMMIT}" && \
    go build -tags nodev -ldflags "$LDFLAGS" -o /out/bin/worker ./worker && \
    go build -ldflags "$LDFLAGS" -o /out/bin/starter ./starter && \
    mkdir -p /out/data && /out/bin/worker --version

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="Temporal workflows for cloud-ops: worker and starter" \
      org.opencontainers.image.source="https://github.com/vigilops/vigil"
COPY --from=build /out/bin/ /usr/local/bin/
# /data is where --cloud-only keeps its state; owned by the nonroot user
# so a named volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
EXPOSE 9090 4566 8234
CMD ["worker"]
