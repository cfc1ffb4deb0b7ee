#!/usr/bin/env bash
# Builds the 64-bit PV images of the Xen Test Framework and their xl .cfg
# files out of tree, incrementally: copies XTF_SRC to DEST (only what is
# newer), then, per test directory whose environments include pv64, makes
# just test-pv64-NAME and its .cfg files with the variables XTF's top
# Makefile would export (its `make` builds all six environments and takes
# minutes). Prints nothing but errors; exit status 0, or make's.
#   tests/xtf/build.sh XTF_SRC DEST
set -eu
src=$1 dest=$2
mkdir -p "$dest"
cp -a -u "$src"/. "$dest"/
chmod -R u+w "$dest" # a read-only source stays writable in its copy
root=$(cd "$dest" && pwd)
py=$(command -v python3 || command -v python)
export ROOT="$root" xtfdir="$root" xtftestdir="$root/tests" DESTDIR="$root/dist" \
	CC=gcc LD=ld CPP="gcc -E" OBJCOPY=objcopy PYTHON="$py" \
	INSTALL=install INSTALL_DATA="install -m 644 -p" INSTALL_DIR="install -d -p" \
	INSTALL_PROGRAM="install -p"
mk() { make -rR --no-print-directory -s "$@"; }
for d in "$root"/tests/*/; do
	[ -e "$d/Makefile" ] || continue
	d=${d%/}
	name=$(basename "$d")
	# the .cfg list XTF's gen.mk computes, filtered to pv64
	list="$d/.pvmm-pv64"
	if [ ! -e "$list" ] || [ "$d/Makefile" -nt "$list" ]; then
		envs=$(mk -C "$d" TEST-ENVSvar)
		case " ${envs#*= } " in
		*" pv64 "*) mk -C "$d" TEST-CFGSvar | tr ' ' '\n' | grep '^test-pv64-' >"$list" || : ;;
		*) : >"$list" ;;
		esac
	fi
	[ -s "$list" ] || continue
	mk -C "$d" "test-pv64-$name" $(cat "$list")
done
