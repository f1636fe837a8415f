#!/bin/sh
# The build stage of the Dockerfile, which RUNs this script once per phase. Keeping the steps
# here (not inline in the Dockerfile) lets people without Docker reproduce the image's build,
# and tests/build/dockerfile.test.ts replays the Dockerfile's build stage outside Docker.
set -eu

case "${1:-}" in
  deps)
    # Lifecycle scripts off: `prepare` builds, and the sources are not copied in yet (they come
    # in a later layer so that editing them does not re-run this one). --prefer-offline only
    # matters where an npm cache exists, such as the test that replays this outside Docker.
    # `npm install`, not `npm ci`: see .ci/run for why the lock cannot satisfy `npm ci`.
    npm install --ignore-scripts --prefer-offline --no-audit --no-fund
    ;;
  build)
    npm run build:binary
    # The final image copies this empty directory to /data owned by the unprivileged user:
    # a fresh named volume takes that ownership, so the server can write keys.json.
    mkdir -p dist/data
    ;;
  *)
    echo "usage: $0 deps|build" >&2
    exit 64
    ;;
esac
