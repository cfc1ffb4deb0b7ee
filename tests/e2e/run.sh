#!/usr/bin/env bash
# End-to-end tests: real guests under build/pvmm, one case per property,
# each a file tests/e2e/cases/NAME.sh (tests/e2e/README.md). From the top
# of the tree:
#   tests/e2e/run.sh [CASE...]     the cases named, or E2E_CASE's, or all
#   E2E_SKIP=gdb,escape ...        all but those
#   tests/e2e/run.sh --list        the cases, one a line
# Names are separated by commas or blanks. Output is TAP: one line per
# check, "ok N - CASE: what", the plan at the end. Run as root, it runs the
# same cases once more as user nobody (not with E2E_UNPRIVILEGED=0).
set -u
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
B=${BUILD_DIR:-build}
PVMM=${PVMM:-$B/pvmm}
G=$B/guests
README_DIR=${README_DIR:-$(pwd)}
. "$E2E_DIR/lib.sh"

all_cases() { local f; for f in "$E2E_DIR"/cases/*.sh; do f=${f##*/}; echo "${f%.sh}"; done; }
names() { echo "$*" | tr ',' ' '; } # names "a,b c": a b c
listed() { local n; for n in $2; do [ "$n" = "$1" ] && return 0; done; return 1; } # listed NAME "LIST"

if [ "${1:-}" = --list ]; then all_cases; exit 0; fi
selected=$(names "${*:-${E2E_CASE:-}}")
skipped=$(names "${E2E_SKIP:-}")
for n in $selected $skipped; do
	if [ ! -f "$E2E_DIR/cases/$n.sh" ]; then
		echo "run.sh: no case '$n'; the cases are: $(all_cases | tr '\n' ' ')" >&2
		exit 2
	fi
done

E2E_WORK=$(mktemp -d /tmp/pvmm-e2e.XXXXXX)
trap 'rm -rf "$E2E_WORK"' EXIT
chmod 755 "$E2E_WORK"
# the count so far: the rerun as nobody goes on from the first run's
if [ -n "${E2E_NESTED:-}" ]; then
	E2E_STATE=$E2E_NESTED
	read -r tapn pass fail <"$E2E_STATE"
else
	E2E_STATE=$E2E_WORK/state
	tapn=0 pass=0 fail=0
	echo "TAP version 13"
fi
nskipped=0
user=""
nested && user=" (nobody)"

# run_case NAME: the case's checks in a subshell of their own, in a scratch
# directory of their own; a case that stops early is a failure of its own
run_case() {
	local name=$1 start before=$tapn rc
	E2E_LABEL=$name$user
	start=$(date +%s%N)
	mkdir -p "$E2E_WORK/$name" && chmod 755 "$E2E_WORK/$name"
	rm -f "$E2E_WORK/done"
	(WORK=$E2E_WORK/$name; . "$E2E_DIR/cases/$name.sh"; : >"$E2E_WORK/done")
	rc=$?
	[ -s "$E2E_STATE" ] && read -r tapn pass fail <"$E2E_STATE"
	[ -e "$E2E_WORK/done" ] || not_ok "the case stopped before its end (status $rc)"
	echo "# $E2E_LABEL: $((tapn - before)) checks, $(( ($(date +%s%N) - start) / 1000000 )) ms"
	rm -rf "${E2E_WORK:?}/$name"
}

for name in $(all_cases); do
	[ -z "$selected" ] || listed "$name" "$selected" || continue
	if listed "$name" "$skipped"; then
		tapn=$((tapn + 1)) nskipped=$((nskipped + 1))
		echo "ok $tapn - $name$user # SKIP E2E_SKIP"
		echo "$tapn $pass $fail" >"$E2E_STATE"
		continue
	fi
	run_case "$name"
done

if nested; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && [ "${E2E_UNPRIVILEGED:-1}" = 1 ]; then
	# Once more as an unprivileged user: pvmm needs no root. The run uses a
	# copy of what it needs in a directory that user can reach.
	echo "# the same cases as user nobody"
	copy=$(mktemp -d /tmp/pvmm-e2e-nobody.XXXXXX)
	mkdir -p "$copy/build/tests" "$copy/tests"
	cp -r "$PVMM" $G "$copy/build/"
	cp $B/tests/mkbad $B/tests/netpeer "$copy/build/tests/"
	cp -r "$E2E_DIR" "$copy/tests/e2e"
	cp -r README.md docs "$copy/" # their examples are run
	chmod -R a+rX "$copy"
	echo "$tapn $pass $fail" >"$copy/state" && chmod a+w "$copy/state"
	E2E_LABEL="run.sh (nobody)"
	if (cd "$copy" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env E2E_NESTED="$copy/state" E2E_CASE="$selected" E2E_SKIP="$skipped" HOME=/tmp \
		BUILD_DIR=build PVMM=build/pvmm tests/e2e/run.sh); then
		read -r tapn pass fail <"$copy/state"
	else
		read -r tapn pass fail <"$copy/state"
		not_ok "the unprivileged run as user nobody did not complete"
	fi
	nskipped=$((nskipped * 2))
	rm -rf "$copy"
fi
echo "1..$tapn"
echo "# transport: ${PVMM_TRANSPORT:-default}"
echo "# e2e: $pass passed, $fail failed, $nskipped skipped"
[ "$fail" = 0 ]
