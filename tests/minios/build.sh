#!/usr/bin/env bash
# Builds Mini-OS with its test app out of tree, incrementally: copies SRC to
# DEST (only what is newer) and runs Mini-OS's own Makefile there with the
# test app's configuration; the kernel is DEST/mini-os. Prints nothing but
# errors (the build's log is DEST/.pvmm-build.log); exit status 0 or make's.
#   tests/minios/build.sh SRC DEST CONFIG
set -eu
src=$1 dest=$2 config=$3
mkdir -p "$dest"
cp -a -u "$src"/. "$dest"/
chmod -R u+w "$dest" # a read-only source stays writable in its copy
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
if ! make -C "$dest" -j2 MINIOS_TARGET_ARCH=x86_64 MINIOS_CONFIG="$config" \
	>"$dest/.pvmm-build.log" 2>&1; then
	tail -20 "$dest/.pvmm-build.log" >&2
	exit 1
fi
