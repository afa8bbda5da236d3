#!/usr/bin/env bash
# The unit tests on the current LTS line as well as on this machine's Node: Node 24 from the npm
# registry's `node` package, pinned, installed into node_modules/.cache the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
version=24.21.0
dir=node_modules/.cache/node-lts
bin="$dir/node_modules/node/bin"
if [ "$("$bin/node" --version 2>/dev/null || true)" != "v$version" ]; then
  echo "Installing Node $version for the LTS test run (one time)..."
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock "node@$version" >/dev/null
fi
echo "Unit tests on $("$bin/node" --version)"
PATH="$PWD/$bin:$PATH" node node_modules/vitest/vitest.mjs run --exclude '**/*.e2e.test.ts' --exclude '**/*browser*.test.ts' --exclude 'node_modules/**' "$@"
