#!/usr/bin/env bash
# make xtf: the Xen Test Framework's 64-bit PV tests under pvmm, each
# outcome compared with tests/xtf/expected.txt. Builds XTF out of tree
# (build.sh), runs every test-pv64-*.cfg XTF generates (variants such as
# pv-iopl~hypercall included) with `pvmm test`, and fails on any
# difference: a regression, an unexpected improvement, a test missing or
# new, each named. Without XTF at $XTF_SRC it says so and succeeds.
set -u
B=${BUILD_DIR:-build}
PVMM=${PVMM:-$B/pvmm}
SRC=${XTF_SRC:-../shared/third_party/xtf}
DEST=$B/xtf
EXPECTED=${XTF_EXPECTED:-tests/xtf/expected.txt}
OUT=$B/xtf-results

if [ ! -e "$SRC/Makefile" ]; then
	echo "pvmm: XTF not found at $SRC, skipping"
	exit 0
fi
t0=$(date +%s%N)
tests/xtf/build.sh "$SRC" "$DEST" || { echo "pvmm: building XTF failed" >&2; exit 1; }
t1=$(date +%s%N)
mkdir -p "$OUT"
rm -f "$OUT"/*.console
"$PVMM" test -j "${XTF_JOBS:-2}" -t 30 --result-regex='Test result: ' --junit="$OUT/junit.xml" \
	--keep="$OUT" "$DEST"/tests/*/test-pv64-*.cfg >"$OUT/pvmm-test.txt" 2>&1
status=$?
t2=$(date +%s%N)
if [ $status != 0 ] && [ $status != 1 ]; then
	echo "pvmm: xtf: pvmm test ended with status $status" >&2
	cat "$OUT/pvmm-test.txt" >&2
	exit 1
fi
# Each progress line "[i/n] NAME OUTCOME SECS WHY" as NAME and XTF's word:
# the test's own result when it printed one, CRASH when pvmm crashed it
# first, UNRUNNABLE for a .cfg pvmm cannot honour.
awk '/^\[[0-9]+\/[0-9]+\] / {
	name = $2; o = $3
	if (o == "PASS") r = "SUCCESS"
	else if (o == "SKIP") r = "SKIP"
	else if (o == "TIMEOUT") r = "TIMEOUT"
	else if ($0 ~ /Test result: [A-Z]*FAILURE/) r = "FAILURE"
	else if ($0 ~ /Test result: [A-Z]*ERROR/) r = "ERROR"
	else if ($0 ~ /\.cfg:[0-9]+: /) r = "UNRUNNABLE"
	else if ($0 ~ /pvmm exit status 1\)?$/) r = "CRASH"
	else r = o
	print name, r
}' "$OUT/pvmm-test.txt" | sort >"$OUT/got.txt"
grep -v '^#' "$EXPECTED" | awk 'NF && $1 !~ /:$/ { print $1, $2 }' | sort >"$OUT/want.txt"
# "CONDITION: NAME OUTCOME REASON" lines: what NAME gives on a host where
# pvmm says the condition holds in NAME's log (kept for every test that
# did not pass); when several hold, the last line listed wins.
#   no-hw-breakpoints: the host does not deliver hardware breakpoints (a
#     virtual machine without debug-register support);
#   no-compat32: the host's kernel has no 32-bit user code segment;
#   syscall32-fast-path: an AMD host whose Linux took a `syscall` from 32-bit
#     code by its fast path (pvmm crashes the domain, docs/differences.md).
condition_line() {
	case $1 in
	no-hw-breakpoints:) echo '^pvmm: this host does not deliver hardware breakpoints' ;;
	no-compat32:) echo '^pvmm: the guest switched to 32-bit code \(CS FLAT_RING3_CS32\), which this host cannot run' ;;
	syscall32-fast-path:) echo 'the guest made a `syscall` in 32-bit code: Linux takes it by its fast path' ;;
	*) echo "xtf: unknown host condition '$1' in $EXPECTED" >&2; exit 2 ;;
	esac
}
conditions=$(grep -v '^#' "$EXPECTED" | awk '$1 ~ /^[a-z0-9-]+:$/ { print $1, $2, $3 }')
while read -r cond _; do # an unknown condition is the file's error: stop here
	[ -z "$cond" ] || condition_line "$cond" >/dev/null || exit 2
done <<<"$conditions"
while read -r cond name outcome; do
	[ -n "$cond" ] && grep -Eqs "$(condition_line "$cond")" "$OUT/$name.console" && echo "$name $outcome"
done <<<"$conditions" >"$OUT/host.txt"
awk 'FILENAME == ARGV[1] { host[$1] = $2; next } { print $1, ($1 in host ? host[$1] : $2) }' \
	"$OUT/host.txt" "$OUT/want.txt" >"$OUT/want.host" && mv "$OUT/want.host" "$OUT/want.txt"
# worse is bigger
awk 'function rank(o) {
		if (o == "SUCCESS") return 0; if (o == "SKIP") return 1; if (o == "FAILURE") return 2
		if (o == "ERROR") return 3; if (o == "UNRUNNABLE") return 4; if (o == "CRASH") return 5
		return 6
	}
	FNR == NR { want[$1] = $2; next }
	{ got[$1] = $2 }
	END {
		bad = 0
		for (t in got) {
			if (!(t in want)) { printf "xtf: %s: new test, %s (not in %s)\n", t, got[t], expfile; bad++ }
			else if (got[t] != want[t]) {
				how = "UNEXPECTED IMPROVEMENT"
				if (rank(got[t]) > rank(want[t])) how = "REGRESSION"
				printf "xtf: %s: %s: %s, expected %s\n", t, how, got[t], want[t]
				bad++
			}
		}
		for (t in want) if (!(t in got)) { printf "xtf: %s: expected %s, not run\n", t, want[t]; bad++ }
		exit bad ? 1 : 0
	}' expfile="$EXPECTED" "$OUT/want.txt" "$OUT/got.txt" | sort
diff=${PIPESTATUS[0]}
counts=$(awk '{ print $2 }' "$OUT/got.txt" | sort | uniq -c | awk '{ printf "%s%d %s", (NR > 1 ? ", " : ""), $1, $2 }')
printf 'xtf: %d tests: %s; build %d.%01d s, run %d.%01d s (%s)\n' "$(wc -l <"$OUT/got.txt")" "$counts" \
	$(( (t1 - t0) / 1000000000 )) $(( (t1 - t0) / 100000000 % 10 )) \
	$(( (t2 - t1) / 1000000000 )) $(( (t2 - t1) / 100000000 % 10 )) "$OUT/"
if [ "$diff" != 0 ]; then
	echo "xtf: outcomes differ from $EXPECTED (consoles of the failing tests in $OUT/)" >&2
	exit 1
fi
echo "xtf: every outcome as $EXPECTED expects"
