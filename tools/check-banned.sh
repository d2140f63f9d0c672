#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails if C sources call banned string functions or the raw allocator outside src/lib/mem.c.
#
# Usage: tools/check-banned.sh [path...]   (default: src fuzz bench, relative to the repo root)
# Comments and string/char literals are blanked first (crudely, line by line), so prose
# such as "never call free()" does not count as an offence.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ "$#" -eq 0 ]; then
	set -- src fuzz bench
fi

files=()
for p in "$@"; do
	[ -e "$p" ] || continue
	while IFS= read -r -d '' f; do
		files+=("$f")
	done < <(find "$p" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
done

if [ "${#files[@]}" -eq 0 ]; then
	echo "check-banned: OK (no C files)"
	exit 0
fi

# Calls only: the name must not be part of a longer identifier (snprintf, fgets, mem_free,
# freeaddrinfo) and must be followed by "(".
banned='(^|[^A-Za-z0-9_])(strcpy|strncpy|sprintf|vsprintf|strcat|strncat|gets|atoi|atol|atoll)[ \t]*[(]'
# Also not a member call such as ops->free( or vtable.free(.
alloc='(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|free|strdup|strndup)[ \t]*[(]'

status=0
awk -v banned="$banned" -v alloc="$alloc" '
FNR == 1 { in_comment = 0; allow_alloc = (FILENAME ~ /(^|\/)src\/lib\/mem\.c$/) }
{
	line = $0; out = ""; i = 1; n = length(line)
	while (i <= n) {
		if (in_comment) {
			j = index(substr(line, i), "*/")
			if (j == 0) { i = n + 1; break }
			i += j + 1; in_comment = 0; out = out " "; continue
		}
		c = substr(line, i, 1); c2 = substr(line, i, 2)
		if (c2 == "/*") { in_comment = 1; i += 2; continue }
		if (c2 == "//") break
		if (c == "\"" || c == "\047") {
			q = c; i++
			while (i <= n) {
				d = substr(line, i, 1)
				if (d == "\\") { i += 2; continue }
				if (d == q) break
				i++
			}
			out = out q q; i++; continue
		}
		out = out c; i++
	}
	if (out ~ banned || (!allow_alloc && out ~ alloc)) {
		print FILENAME ":" FNR ": " $0
		found = 1
	}
}
END { exit found ? 1 : 0 }
' "${files[@]}" || status=$?

if [ "$status" -eq 0 ]; then
	echo "check-banned: OK (${#files[@]} files)"
elif [ "$status" -eq 1 ]; then
	echo "check-banned: banned calls found (see above)" >&2
fi
exit "$status"
