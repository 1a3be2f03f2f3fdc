#!/usr/bin/env bash
# ctest fixture for the browser test: installs the pinned playwright-core
# (package.json + package-lock.json here) into DIR/node_modules with npm ci.
# Usage: npm_ci.sh DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$1"
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
node -e "require('playwright-core')" || { echo "npm_ci: playwright-core did not install" >&2; exit 1; }
