#!/bin/sh
# Installs the project's dependencies on first use, or when package.json / package-lock.json changed.
# Hardhat 3 and Helia 7 need Node >= 22.13, and npm must itself run on Node 22 or it skips the
# native EDR package Hardhat needs; so on an older Node the install runs under the pinned Node 22
# from the npm registry (`npx -p node@22`), which also becomes node_modules/.bin/node for every
# `npm run` / `npm test` afterwards.
set -eu
cd "$(dirname "$0")/.."
NODE_PIN=22.23.3
stamp=node_modules/.dsain-install-stamp
want=$(cat package.json package-lock.json 2>/dev/null | cksum | cut -d' ' -f1)

installed_ok() {
  [ -x node_modules/.bin/node ] || return 1
  [ -d node_modules/@nomicfoundation/edr-linux-x64-gnu ] || [ "$(uname -m)" != "x86_64" ] || return 1
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}

if installed_ok; then exit 0; fi

echo "dsain: installing dependencies (first run or changed lock file; about 1-2 minutes)..." >&2
major=$(node -p 'process.versions.node.split(".").map(Number).reduce((a,v,i)=>i===0?v*1000:(i===1?a+v:a),0)' 2>/dev/null || echo 0)
if [ "$major" -ge 22013 ]; then
  npm install --no-audit --no-fund
else
  npx -y -p "node@$NODE_PIN" -- npm install --no-audit --no-fund
fi
# npm may rewrite the lock file, so the stamp is taken after the install.
cat package.json package-lock.json | cksum | cut -d' ' -f1 > "$stamp"
