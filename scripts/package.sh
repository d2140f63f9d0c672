#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian package of Tandem with dpkg-deb alone (docs/install.md, "From the
# package"): a release build, `cmake --install` into a staging tree, stripped binaries, the
# single-node and balancer examples as /etc/tandem conffiles, the maintainer scripts of
# packaging/debian/, and Depends derived from the libraries the binaries actually link
# (their DT_NEEDED entries, the Debian package that holds each, and its shlibs minimum).
# Usage: scripts/package.sh [OUTDIR]  (default build/package); the last line printed is the
# .deb's path. Env: TANDEM_SKIP_BUILD=1 packages build/release as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-build/package}
build=build/release
die() { echo "package.sh: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-query objdump ldd strip gzip; do
  command -v "$tool" >/dev/null || die "$tool not found"
done

if [ "${TANDEM_SKIP_BUILD:-}" != 1 ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target tandemd tandem-lb tandemctl webui >/dev/null
fi
version=$("$build/src/tandemd/tandemd" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
[ -n "$version" ] || die "cannot read the version from tandemd --version"

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$out/stage
rm -rf "$stage"
DESTDIR=$stage cmake --install "$build" --prefix /usr >/dev/null
# Debian 12 keeps units in /lib/systemd/system (cmake's default is under the prefix).
units=$(cmake -L -N "$build" | sed -n 's/^TANDEM_SYSTEMD_UNIT_DIR:STRING=//p')
if [ "${units#/}" = "$units" ]; then
  install -d "$stage/lib/systemd"
  mv "$stage/usr/$units" "$stage/lib/systemd/system"
  rmdir -p --ignore-fail-on-non-empty "$stage/usr/${units%/*}"
fi

# Release binaries keep their assertions but not their debug information.
for b in usr/sbin/tandemd usr/sbin/tandem-lb usr/bin/tandemctl; do
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/$b"
done
gzip -9n "$stage"/usr/share/man/man*/*
install -d -m 0755 "$stage/etc/tandem"
install -m 0644 packaging/examples/tandemd.ini "$stage/etc/tandem/tandemd.ini"
install -m 0644 packaging/examples/tandem-lb.ini "$stage/etc/tandem/tandem-lb.ini"
doc=$stage/usr/share/doc/tandem
install -m 0644 packaging/debian/copyright "$doc/copyright"
printf 'tandem (%s) unstable; urgency=medium\n\n  * Built by scripts/package.sh from %s.\n\n -- Tandem developers <tandem-devel@example.org>  %s\n' \
  "$version" "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "a source tree")" \
  "$(date -R -d "@$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)")" |
  gzip -9n >"$doc/changelog.gz"

# Depends: for every library a binary names in DT_NEEDED, the package that ships the file
# the dynamic linker finds, with that package's shlibs dependency (e.g. "libc6 (>= 2.34)").
declare -A lib_path=()
for b in usr/sbin/tandemd usr/sbin/tandem-lb usr/bin/tandemctl; do
  needed=$(objdump -p "$stage/$b" | awk '$1 == "NEEDED" {print $2}')
  resolved=$(ldd "$stage/$b")
  for soname in $needed; do
    path=$(awk -v s="$soname" '$1 == s && $2 == "=>" {print $3}' <<<"$resolved")
    [ -n "$path" ] || die "$b needs $soname, which this host does not have"
    lib_path[$soname]=$path
  done
done
# dpkg knows a library by the path its package ships: with or without /usr (merged /usr).
declare -A owner=()
candidates=()
for path in "${lib_path[@]}"; do
  candidates+=("$path" "/usr$path" "${path#/usr}" "$(readlink -f "$path")")
done
while IFS= read -r line; do
  owner[${line#*: }]=${line%%:*}
done < <(dpkg-query -S "${candidates[@]}" 2>/dev/null | grep -v '^diversion ' || true)
shlibs_dep() { # package soname -> its shlibs dependency, or the bare package name
  local pkg=$1 soname=$2 name ver f
  name=${soname%%.so.*}
  ver=${soname#*.so.}
  for f in "/var/lib/dpkg/info/$pkg:$arch.shlibs" "/var/lib/dpkg/info/$pkg.shlibs"; do
    [ -f "$f" ] || continue
    awk -v n="$name" -v v="$ver" '$1 == n && $2 == v {$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit}' "$f" |
      grep . && return 0
  done
  echo "$pkg"
}
declare -A deps=()
for soname in "${!lib_path[@]}"; do
  path=${lib_path[$soname]}
  pkg=""
  for p in "$path" "/usr$path" "${path#/usr}" "$(readlink -f "$path")"; do
    pkg=${owner[$p]:-}
    [ -z "$pkg" ] || break
  done
  [ -n "$pkg" ] || die "no Debian package holds $path ($soname)"
  deps[$(shlibs_dep "$pkg" "$soname")]=1
done
depends=$(printf '%s\n' "${!deps[@]}" adduser | sort -u | paste -sd, - | sed 's/,/, /g')

install -d -m 0755 "$stage/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
  "$stage/DEBIAN/"
printf '/etc/tandem/tandemd.ini\n/etc/tandem/tandem-lb.ini\n' >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: tandem
Version: $version
Architecture: $arch
Maintainer: Tandem developers <tandem-devel@example.org>
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends
Suggests: redis-server, redis-sentinel, mariadb-server, apache2 | haproxy, keepalived
Description: clustered, highly available groupware server
 Tandem is a groupware server in C: tandemd, the groupware node (JSON API,
 WebDAV, admin API), tandem-lb, a balancer that keeps every session on the
 node its JSESSIONID route names, and tandemctl, the provisioning CLI.
 Nodes share sessions and cache invalidation through Redis and their
 configuration and users through SQLite or replicated MariaDB.
 .
 The package installs systemd units (tandemd, tandemd@, tandem-lb), neither
 enabled nor started, and example configurations for a single node, a
 cluster node, the balancer, Apache, HAProxy and keepalived in
 /usr/share/doc/tandem/examples.
CONTROL
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum >DEBIAN/md5sums)

deb=$out/tandem_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "Depends: $depends" >&2
echo "$deb"
