#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes the web UI's served tree from web/ (docs/webui.md): every module and stylesheet listed
# in web/assets.txt becomes assets/<name>.<hash>.<ext> (its imports of earlier entries
# rewritten to their hashed names), index.html points at them, and each file gets a
# precompressed .gz beside it. Modules marked `lazy` there (loaded by import() when their view
# opens) are not preloaded by index.html. Needs only coreutils, sed and gzip.
set -euo pipefail
src=${1:?usage: webui-build.sh SRC_DIR OUT_DIR}
out=${2:?usage: webui-build.sh SRC_DIR OUT_DIR}
tmp="$out.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/assets"
rewrites=()        # sed expressions for the entries hashed so far (their imports)
index_rewrites=()  # and for index.html's references
lazy=" "           # the hashed names of the lazy modules
while read -r name flag; do
  case "$name" in ''|'#'*) continue ;; esac
  [ -f "$src/$name" ] || { echo "webui-build.sh: $src/$name is listed in assets.txt but missing" >&2; exit 1; }
  staged="$tmp/assets/$name.staged"
  cp "$src/$name" "$staged"
  for expr in "${rewrites[@]}"; do sed -i "$expr" "$staged"; done
  if grep -Eo "from '\./[A-Za-z0-9_-]+\.js'" "$staged" >&2; then
    echo "webui-build.sh: $name imports the modules above before they are hashed: list them before it in assets.txt" >&2
    exit 1
  fi
  hash=$(sha256sum "$staged" | cut -c1-16)
  hashed="${name%.*}.$hash.${name##*.}"
  mv "$staged" "$tmp/assets/$hashed"
  [ "${flag:-}" = lazy ] && lazy+="$hashed "
  re=${name//./\\.}
  # './name' in an import, "name" in index.html's src/href
  rewrites+=("s#\\(['\"]\\)\\./$re\\(['\"]\\)#\\1./$hashed\\2#g")
  index_rewrites+=("s#\\(['\"]\\)$re\\(['\"]\\)#\\1assets/$hashed\\2#g")
done < "$src/assets.txt"
cp "$src/index.html" "$tmp/index.html"
for expr in "${index_rewrites[@]}"; do sed -i "$expr" "$tmp/index.html"; done
# every module up front, instead of one import level after the other
preload=""
for f in "$tmp"/assets/*.js; do
  case "$lazy" in *" ${f##*/} "*) continue ;; esac
  grep -q "assets/${f##*/}" "$tmp/index.html" ||
    preload+="<link rel=\"modulepreload\" href=\"assets/${f##*/}\">\n"
done
sed -i "s#</head>#$preload</head>#" "$tmp/index.html"
if grep -q '<script>\|<style\|style=\| on[a-z]*=' "$tmp/index.html"; then
  echo "webui-build.sh: index.html has inline script or style (the CSP forbids it)" >&2
  exit 1
fi
for f in "$tmp/index.html" "$tmp"/assets/*; do gzip -9 -n -k "$f"; done
rm -rf "$out"
mv "$tmp" "$out"
