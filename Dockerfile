# syntax=docker/dockerfile:1
# api-key-rotator as one self-contained executable (Node's single executable application) on a
# distroless base: no shell, no package manager, no npm; it runs as an unprivileged user.
# Build: docker build -t api-key-rotator .   Run: see docs/deploy.md.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/docker-build-steps.sh scripts/
RUN sh scripts/docker-build-steps.sh deps
COPY tsconfig.json ./
COPY scripts scripts
COPY src src
RUN sh scripts/docker-build-steps.sh build

# "cc" adds libstdc++ and libgcc_s to glibc: the Node runtime inside the binary links to them.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /app/dist/api-key-rotator /usr/local/bin/api-key-rotator
COPY --from=build --chown=65532:65532 /app/dist/data /data
# Listening beyond loopback needs ADMIN_TOKENS and CLIENT_TOKENS (or INSECURE=true): the server
# refuses to start without them, so they are given at `docker run`, never baked in.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    KEYS_FILE=/data/keys.json
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
# No curl in the image: the binary checks its own /healthz (on PORT, via loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/api-key-rotator", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/api-key-rotator"]
CMD ["serve"]
