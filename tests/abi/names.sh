#!/bin/sh
# names.sh HEADER DEF - fails when a name HEADER defines (a #define, an
# enumerator or a struct) is on no line of DEF, or DEF names something
# HEADER no longer has. Every constant and type of include/xen_abi.h is then
# either compared with Xen's headers (C, S and M lines of
# tests/abi/xen_abi.def) or listed as pvmm's own (P, PS) with a reason.
set -eu
header=$1 def=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The header's names: comments removed, then #defines (not the include
# guard), enumerators of each enum block, and struct definitions.
sed -e 's|/\*.*\*/||g' "$header" | awk '
	/^#define[ \t]/ { if ($2 != "PVMM_XEN_ABI_H") { sub(/\(.*/, "", $2); print $2 }; next }
	/^enum[ \t].*\{/ { inenum = 1; next }
	inenum && /^\}/ { inenum = 0; next }
	inenum {
		n = split($0, item, ",")
		for (i = 1; i <= n; i++)
			if (match(item[i], /^[ \t]*[A-Za-z_][A-Za-z0-9_]*/)) {
				name = substr(item[i], RSTART, RLENGTH); gsub(/[ \t]/, "", name); print name
			}
		next
	}
	/^struct[ \t]+[A-Za-z_0-9]+[ \t]*\{/ { print "struct " $2 }
' | sort -u >"$tmp/header"

# The list's names: first argument of C, P, S, PS lines.
sed -n -e 's/^C(\([A-Za-z_0-9]*\),.*/\1/p' -e 's/^P(\([A-Za-z_0-9]*\),.*/\1/p' \
	-e 's/^S(\(struct [A-Za-z_0-9]*\),.*/\1/p' -e 's/^PS(\(struct [A-Za-z_0-9]*\),.*/\1/p' \
	"$def" | sort >"$tmp/def"

status=0
dups=$(uniq -d "$tmp/def")
if [ -n "$dups" ]; then
	echo "names.sh: listed twice in $def:" $dups >&2; status=1
fi
missing=$(sort -u "$tmp/def" | comm -23 "$tmp/header" -)
if [ -n "$missing" ]; then
	echo "names.sh: in $header but neither compared with Xen nor listed as pvmm-only (P/PS) in $def:" >&2
	echo "$missing" | sed 's/^/  /' >&2; status=1
fi
stale=$(sort -u "$tmp/def" | comm -13 "$tmp/header" -)
if [ -n "$stale" ]; then
	echo "names.sh: in $def but not defined in $header:" >&2
	echo "$stale" | sed 's/^/  /' >&2; status=1
fi
[ $status = 0 ] && echo "names.sh: all $(wc -l <"$tmp/header") names of $header are compared with Xen or listed as pvmm's own"
exit $status
