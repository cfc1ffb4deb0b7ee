#!/usr/bin/env bash
# make structure: pvmm's layering, checked (docs/architecture.md, "Layers").
#
# 1. Includes point down. Every #include "..." of the project's C sources is
#    resolved as the compiler would (the file's own folder, then the tree
#    root, then include/), and the included file's layer must not be above
#    the including file's. Layers, lowest first:
#      0 abi       include/xen_abi.h include/stub_abi.h  (shared with the
#                  stub and the guests: nothing of pvmm's above them)
#      1 loader    guest-loader/
#      2 domain    include/vm.h
#      3 mmu       mmu/
#      4 hypercall hypercalls/
#      5 backends  vmm/backends/ (dom0's work: xenstore, console, ...)
#      6 vmm       vmm/ (the front end)
#    The stub (vmm/stub/) and the sample guests see layer 0 only.
# 2. No file cycles. Which object file calls which is read from the built
#    objects' symbol tables (nm), and tsort must find no loop: where two
#    files need each other, one of them owns an interface (a callback).
#
#   tests/structure/check.sh BUILD_DIR
# Prints one line per violation and a summary; exit status 0 or 1.
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
bad=0

layer() { # path -> layer number, or "" for files outside the layering
	case $1 in
	include/xen_abi.h|include/stub_abi.h) echo 0 ;;
	vmm/stub/*|sample-guests/*) echo 0 ;;
	guest-loader/*) echo 1 ;;
	include/vm.h) echo 2 ;;
	mmu/*) echo 3 ;;
	hypercalls/*) echo 4 ;;
	vmm/backends/*) echo 5 ;;
	vmm/*) echo 6 ;;
	*) echo "" ;;
	esac
}

resolve() { # includer included -> path of the included file, or ""
	local dir=${1%/*} f
	for f in "$dir/$2" "$2" "include/$2" "sample-guests/rt/$2"; do
		[ -e "$f" ] && { realpath --relative-to=. "$f"; return; }
	done
}

files=$( (git ls-files 'include/*' 'guest-loader/*' 'mmu/*' 'hypercalls/*' 'vmm/*' 'sample-guests/*' 2>/dev/null ||
	find include guest-loader mmu hypercalls vmm sample-guests -type f) | grep -E '\.(c|h|S)$' | sort -u)
nincl=0
for f in $files; do
	lf=$(layer "$f")
	while IFS= read -r inc; do
		nincl=$((nincl + 1))
		p=$(resolve "$f" "$inc")
		if [ -z "$p" ]; then
			echo "structure: $f includes \"$inc\", which is not in the tree"
			bad=1; continue
		fi
		lp=$(layer "$p")
		[ -n "$lp" ] || continue
		if [ "$lp" -gt "$lf" ]; then
			echo "structure: $f (layer $lf) includes $p (layer $lp): an upward include"
			bad=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done

# file-level call graph of the monitor's objects
objs=$(ls "$B"/guest-loader/*.o "$B"/mmu/*.o "$B"/hypercalls/*.o "$B"/vmm/backends/*.o "$B"/vmm/*.o 2>/dev/null)
if [ -z "$objs" ]; then
	echo "structure: no objects under $B (build first)"; exit 1
fi
edges=$(for o in $objs; do
	name=${o#"$B"/}; name=${name%.o}
	nm -g --defined-only "$o" | awk -v f="$name" '{print "D", $3, f}'
	nm -u "$o" | awk -v f="$name" '{print "U", $2, f}'
done | awk '$1 == "D" { def[$2] = $3; next }
	{ use[NR] = $2 " " $3 }
	END { for (i in use) { split(use[i], u, " ");
		if ((u[1] in def) && def[u[1]] != u[2]) print u[2], def[u[1]] } }' | sort -u)
loops=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null | grep -v 'input contains a loop' | sed 's/^tsort: //' | sort -u)
if [ -n "$loops" ]; then
	echo "structure: files in a call cycle (each needs the other; give one an interface):" $loops
	bad=1
fi
nfiles=$(echo "$objs" | wc -w)
echo "structure: $nincl includes in $(echo "$files" | wc -w) files point down; $nfiles objects, $(printf '%s\n' "$edges" | wc -l) file dependencies, $([ -n "$loops" ] && echo "cycles" || echo "no cycles")"
exit $bad
