#!/usr/bin/env bash
# Reproduces server/explorer/assets/ from the npm registry.
#
# Usage: server/explorer/update-assets.sh
#
# Needs node and npm. Downloads the pinned packages with `npm pack` into a
# temporary directory, refuses anything whose licence is not on the
# permissive allow-list (including everything graphiql bundles into its UMD
# build), and copies the minified browser builds plus licence texts into
# assets/. Bump the versions below, run it, then run
# `go test ./server/explorer/` (set SWITCHBOARD_REQUIRE_BROWSER=1 to make sure
# the real-browser test is not skipped).
set -euo pipefail

# Pinned versions. graphiql 4.1.2 is the newest release that ships a browser
# (UMD) build (graphiql 5 is ESM-only); the build is minified and bundles
# graphql-js, graphql-ws and the doc-explorer and history plugins. React 18.3.1
# is the last React with UMD builds. 3.9.0 also works, if ever needed.
GRAPHIQL_VERSION=4.1.2
REACT_VERSION=18.3.1

# Licences that are acceptable for anything shipped to the browser.
ALLOWED_LICENSES='MIT ISC BSD-2-Clause BSD-3-Clause Apache-2.0 0BSD Python-2.0'

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/assets"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"

# fetch NAME VERSION: unpacks the package tarball into $tmp/NAME/package.
fetch() {
	local name="$1" version="$2" tgz
	tgz="$(npm pack --silent "$name@$version")"
	mkdir -p "$name"
	tar -xzf "$tgz" -C "$name"
}

fetch graphiql "$GRAPHIQL_VERSION"
fetch react "$REACT_VERSION"
fetch react-dom "$REACT_VERSION"

# Check the licence of every package that ends up in the browser: the three
# packages above plus graphiql's production dependency tree (which its UMD
# build bundles), and collect their licence texts into one notices file.
# The tree is resolved afresh, so patch versions of dependencies may differ
# slightly from the ones the graphiql build bundled.
mkdir deps
(
	cd deps
	npm init -y >/dev/null
	npm install --silent --omit=dev --ignore-scripts --no-audit --no-fund \
		"graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION" "graphql@16" >/dev/null
)
ALLOWED_LICENSES="$ALLOWED_LICENSES" node - "$tmp/deps/node_modules" "$tmp/NOTICES.txt" <<'EOF'
const fs = require('fs');
const path = require('path');
const [root, noticesFile] = process.argv.slice(2);
const allowed = new Set(process.env.ALLOWED_LICENSES.split(' '));
const pkgs = [];
function walk(dir) {
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (name.startsWith('@')) { walk(p); continue; }
    const pj = path.join(p, 'package.json');
    if (fs.existsSync(pj)) pkgs.push({dir: p, json: JSON.parse(fs.readFileSync(pj, 'utf8'))});
    const nested = path.join(p, 'node_modules');
    if (fs.existsSync(nested)) walk(nested);
  }
}
walk(root);
const id = (j) => `${j.name}@${j.version}`;
pkgs.sort((a, b) => (id(a.json) < id(b.json) ? -1 : id(a.json) > id(b.json) ? 1 : 0));
const bad = [];
const seen = new Map(); // licence text -> first package that has it
const out = [
  'Third-party software in the switchboard query explorer (server/explorer/assets):',
  'graphiql, react, react-dom and the dependency tree of graphiql, which its',
  'browser build bundles, each with its licence.',
  '',
];
for (const {dir, json} of pkgs) {
  if (typeof json.license !== 'string' || !allowed.has(json.license)) {
    bad.push(`${id(json)}: ${JSON.stringify(json.license || json.licenses)}`);
  }
  const files = fs.readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
  out.push('='.repeat(78), `${id(json)} (${json.license})`, '');
  if (files.length === 0) out.push(`(the package ships no licence file; its package.json says ${json.license})`, '');
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8').trim();
    if (seen.has(text)) {
      out.push(`(${f}: the same text as for ${seen.get(text)} above)`, '');
    } else {
      seen.set(text, id(json));
      out.push(text, '');
    }
  }
}
if (bad.length) {
  console.error('packages with a licence not on the allow-list:\n  ' + bad.join('\n  '));
  process.exit(1);
}
fs.writeFileSync(noticesFile, out.join('\n'));
EOF

# The graphiql UMD files carry no banner of their own; prepend one so the
# served files name their licence. React's files already start with one.
banner="/*! graphiql v$GRAPHIQL_VERSION | MIT License | Copyright (c) 2021 GraphQL Contributors | https://github.com/graphql/graphiql | notices of bundled packages: THIRD-PARTY-NOTICES.txt */"

rm -rf "$out"
mkdir -p "$out"
{ printf '%s\n' "$banner"; cat graphiql/package/graphiql.min.js; } >"$out/graphiql.min.js"
{ printf '%s\n' "$banner"; cat graphiql/package/graphiql.min.css; } >"$out/graphiql.min.css"
cp react/package/umd/react.production.min.js "$out/react.production.min.js"
cp react-dom/package/umd/react-dom.production.min.js "$out/react-dom.production.min.js"
cp NOTICES.txt "$out/THIRD-PARTY-NOTICES.txt"

cat >"$out/VERSIONS" <<EOF
graphiql $GRAPHIQL_VERSION
react $REACT_VERSION
react-dom $REACT_VERSION
EOF

(cd "$out" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
echo "updated $out:"
du -ab "$out" | sort -k2
