#!/usr/bin/env bash
# Builds the VS Code extension as a .vsix: installs the locked dev dependencies (npm ci, from the
# npm cache when it can), checks the grammar is up to date, compiles the client and packages it
# with @vscode/vsce.
#
#   editors/vscode/build.sh                      -> editors/vscode/csdsl-VERSION.vsix
#   editors/vscode/build.sh --out FILE.vsix      -> FILE.vsix
#   editors/vscode/build.sh --no-install ...     skip `npm ci` (node_modules is already installed)
#
# Install the result with `code --install-extension csdsl-VERSION.vsix`.
set -euo pipefail
cd "$(dirname "$0")"

install=1
out=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0; shift ;;
    --out) out=(--out "$2"); shift 2 ;;
    *) echo "usage: build.sh [--no-install] [--out FILE.vsix]" >&2; exit 2 ;;
  esac
done

command -v npm > /dev/null || { echo "build.sh: npm is not installed (Node.js 20 or later is needed)" >&2; exit 2; }
if [ "$install" = 1 ]; then
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
fi
npm run --silent package -- "${out[@]}"
