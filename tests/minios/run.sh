#!/usr/bin/env bash
# make minios: Mini-OS, a real PV kernel linked at address 0, under pvmm.
# Builds it out of tree with its test app (build.sh), then:
#  - where pvmm may map page 0 (root with CAP_SYS_RAWIO, or a host whose
#    vm.mmap_min_addr is 0), boots it on each transport, waits for the test
#    app's markers (the console, the xenbus test, the periodic timer thread,
#    the frontends' threads ending without backends), asks it to power off
#    with SIGTERM (pvmm writes control/shutdown) and expects status 0;
#  - unprivileged (and, as root, once more as user nobody), expects pvmm to
#    refuse the kernel with status 3 and one line naming the remedy.
# Without Mini-OS at $MINIOS_SRC, or without a build tool, it says so in
# one line and succeeds. Consoles land in build/minios-results/.
set -u
B=${BUILD_DIR:-build}
PVMM=${PVMM:-$B/pvmm}
SRC=${MINIOS_SRC:-../shared/third_party/mini-os}
CONFIG=${MINIOS_CONFIG:-../shared/third_party/configs/mini-os-test.cfg}
DEST=$B/mini-os
KERNEL=$DEST/mini-os
OUT=$B/minios-results
fail=0

if [ ! -e "$SRC/Makefile" ] || [ ! -e "$CONFIG" ]; then
	echo "pvmm: minios: Mini-OS or its test configuration not found ($SRC, $CONFIG), skipping"
	exit 0
fi
for tool in make gcc ld ar objcopy gzip; do
	if ! command -v "$tool" >/dev/null; then
		echo "pvmm: minios: '$tool' not found, cannot build Mini-OS, skipping"
		exit 0
	fi
done
t0=$(date +%s%N)
tests/minios/build.sh "$SRC" "$DEST" "$CONFIG" || { echo "pvmm: minios: building Mini-OS failed" >&2; exit 1; }
printf 'minios: built %s in %d.%01d s\n' "$KERNEL" $(( ($(date +%s%N) - t0) / 1000000000 )) \
	$(( ($(date +%s%N) - t0) / 100000000 % 10 ))
mkdir -p "$OUT"

ok() { echo "ok - minios: $1"; }
not_ok() {
	echo "not ok - minios: $1"
	[ -n "${2:-}" ] && sed 's/^/#   /' "$2" | tail -20
	fail=$((fail + 1))
}

# What the test app prints when it works without backends, each a line.
MARKERS=(
	'Initialising console ... done.'
	'Doing xenbus test.'
	'Read device/vif/0/flibble -> flobble.'
	'Read device/vif/0/flibble -> widget.'
	'Doing rm test.'
	'(Should have said ENOENT)'
	'Thread "xenbus_tester" exited.'
	'Periodic thread started.'
	'Thread "netfront" exited.'
	'Thread "blkfront" exited.'
	'Thread "fbfront" exited.'
	'Thread "kbdfront" exited.'
)
TICKS=3 # periodic-thread lines, one a second

# Mini-OS's console ends its lines with \r\n.
lines_of() { tr -d '\r' <"$1"; }

missing() { # the first marker not in $1, or nothing
	local text
	text=$(lines_of "$1")
	for m in "${MARKERS[@]}"; do
		grep -qxF -- "$m" <<<"$text" || { echo "$m"; return; }
	done
	[ "$(grep -c '^T(s=' <<<"$text")" -ge "$TICKS" ] || echo "$TICKS lines 'T(s=...)'"
}

# The periodic thread's seconds go up one at a time (its timer works).
ticks_ok() {
	lines_of "$1" | grep -o '^T(s=[0-9]*' | cut -d= -f2 |
		awk 'NR > 1 && ($1 - prev < 1 || $1 - prev > 2) { bad = 1 } { prev = $1 } END { exit bad }'
}

boot() { # TRANSPORT
	local tr=$1 out=$OUT/$1.console err=$OUT/$1.err start pid status booted='' m elapsed=0
	start=$(date +%s%N)
	"$PVMM" --transport="$tr" --timeout=120 --shutdown-grace=10 "$KERNEL" >"$out" 2>"$err" </dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && [ "$elapsed" -lt 60000 ]; do
		elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
		[ -z "$booted" ] && grep -q '^Test main' "$out" && booted=$elapsed
		[ -z "$(missing "$out")" ] && break
		sleep 0.1
	done
	m=$(missing "$out")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	status=$?
	if [ -z "$booted" ]; then
		not_ok "$tr: no 'Test main' (status $status)" "$err"
		return
	fi
	ok "$tr: booted to its test app in $((booted / 1000)).$((booted % 1000 / 100)) s"
	if [ -n "$m" ]; then
		not_ok "$tr: the console lacks '$m' after $((elapsed / 1000)) s" "$out"
	else
		ok "$tr: console, xenbus test, timer and threads, frontends without backends"
	fi
	ticks_ok "$out" || not_ok "$tr: the periodic thread's seconds do not advance one by one" "$out"
	if [ "$status" = 0 ] && lines_of "$out" | grep -qxF 'Shutting down (poweroff)' &&
	   grep -q 'asked the guest to power off (control/shutdown = poweroff)' "$err"; then
		ok "$tr: SIGTERM: powered off through control/shutdown (status 0)"
	else
		not_ok "$tr: SIGTERM did not end in a clean poweroff (status $status)" "$err"
	fi
}

refused() { # WHO COMMAND...: one line naming the remedy, status 3
	local who=$1 status lines
	shift
	"$@" >"$OUT/refused.out" 2>"$OUT/refused.err" </dev/null
	status=$?
	lines=$(wc -l <"$OUT/refused.err")
	if [ "$status" = 3 ] && [ "$lines" = 1 ] && grep -q 'starts below .*run pvmm as root.*lower vm.mmap_min_addr' "$OUT/refused.err"; then
		ok "$who: refused in one line: $(cut -c1-100 "$OUT/refused.err")..."
	else
		not_ok "$who: want status 3 and the one-line refusal, got status $status, $lines lines" "$OUT/refused.err"
	fi
}

min_addr=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status 2>/dev/null)
rawio=$(( (0x${capeff:-0} >> 17) & 1 )) # CAP_SYS_RAWIO lets a process map page 0
if [ "$min_addr" = 0 ] || [ "$rawio" = 1 ]; then
	for tr in seccomp ptrace; do
		boot "$tr"
	done
	if [ "$(id -u)" = 0 ] && [ "$min_addr" != 0 ] && command -v setpriv >/dev/null; then
		copy=$(mktemp -d /tmp/pvmm-minios-nobody.XXXXXX)
		cp "$PVMM" "$KERNEL" "$copy/"
		chmod -R a+rX "$copy"
		refused "as user nobody" setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$copy/pvmm" "$copy/mini-os"
		rm -rf "$copy"
	fi
else
	refused "unprivileged (vm.mmap_min_addr $min_addr)" "$PVMM" "$KERNEL"
fi
[ "$fail" = 0 ] && echo "minios: every check passed" || echo "minios: $fail checks failed" >&2
[ "$fail" = 0 ]
