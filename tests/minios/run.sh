#!/usr/bin/env bash
# make minios: Mini-OS, a real PV kernel linked at address 0, under pvmm.
# Builds it out of tree with its test app (build.sh), its blkfront test
# built with the write test (BLKTEST_WRITE), then:
#  - boots it on each transport with a disk at device/vbd/768 (hda, the
#    one Mini-OS's blkfront opens) and --net=user: with seccomp a sparse
#    16 GiB file read-write, with ptrace an ext2 image of known files
#    read-only (reads only; the image unchanged after). The write test
#    writes random sectors and reads each back once its write completed;
#    pvmm serves the ring when the guest waits, as a backend beside it
#    would, so some 15 writes (up to 32) are served between a write and its
#    read-back, and a second write to the same sector among them makes the
#    test say "bogus data" however correct the backend: about one run in
#    ten with its ~10^5 writes (its rand() picks among 2^25 sectors here; a
#    larger sparse disk makes the final flush slow). So the rw boots run
#    with --trace=blk, and "bogus data" is a failure unless the trace shows
#    that race on its sector: two writes with no read between them.
#    It waits for the test app's markers (the console, the xenbus test, the
#    periodic timer thread, the netfront connected with its MAC, the
#    framebuffer and keyboard frontends ending without backends, the block
#    device connected with its size), asks it to power off with SIGTERM
#    (pvmm writes control/shutdown; Mini-OS closes its blkfront through the
#    XenbusState handshake) and expects status 0, no "bogus data" nor I/O
#    error on the console, and pvmm's blk counters showing the reads (and
#    writes) served without errors;
#  - where pvmm may map page 0 (root with CAP_SYS_RAWIO, or a host whose
#    vm.mmap_min_addr is 0) those boots are native, and as root both run
#    once more as user nobody; unprivileged, the code below
#    vm.mmap_min_addr runs in the instruction emulator (vmm/lowexec.h),
#    whose --stats counters must show it ran.
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
# the test configuration, with the blkfront write test on (a DEFINES-y line:
# Mini-OS's Makefile builds CFLAGS from it); rewritten only when it changes
BLKCONFIG=$B/mini-os-test-blkwrite.cfg
{ cat "$CONFIG"; echo 'DEFINES-y += -DBLKTEST_WRITE'; } >"$BLKCONFIG.new"
cmp -s "$BLKCONFIG.new" "$BLKCONFIG" 2>/dev/null && rm -f "$BLKCONFIG.new" || mv "$BLKCONFIG.new" "$BLKCONFIG"
tests/minios/build.sh "$SRC" "$DEST" "$BLKCONFIG" || { echo "pvmm: minios: building Mini-OS failed" >&2; exit 1; }
printf 'minios: built %s in %d.%01d s\n' "$KERNEL" $(( ($(date +%s%N) - t0) / 1000000000 )) \
	$(( ($(date +%s%N) - t0) / 100000000 % 10 ))
mkdir -p "$OUT"

ok() { echo "ok - minios: $1"; }
not_ok() {
	echo "not ok - minios: $1"
	[ -n "${2:-}" ] && sed 's/^/#   /' "$2" | tail -20
	fail=$((fail + 1))
}

# What the test app prints, each a line: its netfront connects to --net=user's
# netback and says its MAC, its blkfront finds pvmm's disk (below); the
# framebuffer and keyboard frontends find no backend.
MARKERS=(
	'Initialising console ... done.'
	'Doing xenbus test.'
	'Read device/vif/0/flibble -> flobble.'
	'Read device/vif/0/flibble -> widget.'
	'Doing rm test.'
	'(Should have said ENOENT)'
	'Thread "xenbus_tester" exited.'
	'Periodic thread started.'
	'backend at /local/domain/0/backend/vif/1/0'
	'mac is 00:16:3e:00:00:01'
	'Thread "netfront" exited.'
	'Thread "fbfront" exited.'
	'Thread "kbdfront" exited.'
	'******************* BLKFRONT for device/vbd/768 **********'
	'backend at /local/domain/0/backend/vbd/1/768'
)
DISK_MARKERS=() # the disk of the boot at hand: its size, read-only or not
TICKS=3 # periodic-thread lines, one a second

# Mini-OS's console ends its lines with \r\n.
lines_of() { tr -d '\r' <"$1"; }

missing() { # the first marker not in $1, or nothing
	local text
	text=$(lines_of "$1")
	for m in "${MARKERS[@]}" "${DISK_MARKERS[@]}"; do
		grep -qxF -- "$m" <<<"$text" || { echo "$m"; return; }
	done
	[ "$(grep -c '^T(s=' <<<"$text")" -ge "$TICKS" ] || echo "$TICKS lines 'T(s=...)'"
}

# The periodic thread's seconds go up one at a time (its timer works).
ticks_ok() {
	lines_of "$1" | grep -o '^T(s=[0-9]*' | cut -d= -f2 |
		awk 'NR > 1 && ($1 - prev < 1 || $1 - prev > 2) { bad = 1 } { prev = $1 } END { exit bad }'
}

# The disks: a sparse 16 GiB file for the write test; an ext2 image of
# known files (mke2fs -d; without e2fsprogs, 8 MiB of a known pattern) for
# the read-only boot.
make_disks() { # DIR
	rm -f "$1/rw.img" "$1/ro.img"
	truncate -s 16G "$1/rw.img"
	rm -rf "$OUT/files" && mkdir -p "$OUT/files/boot"
	echo 'Hello from the disk pvmm gave Mini-OS' >"$OUT/files/hello.txt"
	seq 1 1000 >"$OUT/files/boot/numbers.txt"
	rm -f "$OUT/ro.img"
	if ! { command -v mke2fs >/dev/null && mke2fs -q -F -t ext2 -d "$OUT/files" "$OUT/ro.img" 8M >/dev/null 2>&1; }; then
		yes 'pvmm minios disk' | head -c 8388608 >"$OUT/ro.img"
	fi
	[ "$1" = "$OUT" ] || cp "$OUT/ro.img" "$1/ro.img"
	chmod a-w "$1/ro.img"
	chmod a+rw "$1/rw.img"
}

# blk counters of --stats for device 768: "reads writes errors"
blk_counts() {
	sed -n 's/.*"768": {"reads": \([0-9]*\), "writes": \([0-9]*\), .*"errors": \([0-9]*\),.*/\1 \2 \3/p' "$1"
}

boot() { # TRANSPORT DISK(rw|ro) [LABEL PVMM KERNEL DIR [PREFIX...]]: LABEL native or emulated
	local tr=$1 disk=$2 label=${3:-} pvmm=${4:-$PVMM} kernel=${5:-$KERNEL} dir=${6:-$OUT}
	local name=$tr${label:+ $label} out=$OUT/$1${label:+-$label}.console err=$OUT/$1${label:+-$label}.err
	local stats=$dir/$1${label:+-$label}.stats start pid status booted='' m elapsed=0 runs
	local sum_before="" opt
	shift $(( $# < 6 ? $# : 6 ))
	if [ "$disk" = rw ]; then
		opt="--disk=$dir/rw.img,vdev=hda --trace=blk --trace-file=$stats.blk"
		DISK_MARKERS=('33554432 sectors of 512 bytes')
	else
		opt="--disk=$dir/ro.img,ro,vdev=hda"
		DISK_MARKERS=('16384 sectors of 512 bytes' 'Block device is read-only')
		sum_before=$(md5sum <"$dir/ro.img")
	fi
	start=$(date +%s%N)
	# shellcheck disable=SC2086 # opt is words
	"$@" "$pvmm" --transport="$tr" --timeout=120 --shutdown-grace=10 --stats="$stats" --net=user $opt \
		"$kernel" >"$out" 2>"$err" </dev/null &
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
		not_ok "$name: no 'Test main' (status $status)" "$err"
		return
	fi
	ok "$name: booted to its test app in $((booted / 1000)).$((booted % 1000 / 100)) s"
	if [ -n "$m" ]; then
		not_ok "$name: the console lacks '$m' after $((elapsed / 1000)) s" "$out"
	else
		ok "$name: console, xenbus test, timer and threads, netfront connected (its MAC), blkfront on its disk, fb and kbd frontends without backends"
	fi
	ticks_ok "$out" || not_ok "$name: the periodic thread's seconds do not advance one by one" "$out"
	if [ "$status" = 0 ] && lines_of "$out" | grep -qxF 'Shutting down (poweroff)' &&
	   grep -q 'asked the guest to power off (control/shutdown = poweroff)' "$err"; then
		ok "$name: SIGTERM: powered off through control/shutdown (status 0)"
	else
		not_ok "$name: SIGTERM did not end in a clean poweroff (status $status)" "$err"
	fi
	disk_checks "$name" "$disk" "$out" "$sum_before" "$stats" "$dir"
	runs=$(grep -o '"lowexec": {"runs": [0-9]*' "$stats" 2>/dev/null | grep -o '[0-9]*$')
	if [ "$label" = emulated ]; then
		[ "${runs:-0}" -gt 0 ] && ok "$name: $runs runs of code below vm.mmap_min_addr in the emulator" ||
			not_ok "$name: --stats shows no run in the instruction emulator" "$stats"
	fi
}

# The write test's own race (above): in the --trace=blk of the boot
# (TRACE), the sector of "bogus data at offset OFFSET" (the offset of the
# first int that differed) written twice with no read of it in between.
test_race() { # TRACE OFFSET
	awk -v s="sector=$(( $2 / 512 ))" '$4 == s && $2 == "write" { if (w) race = 1; w = 1 }
		$4 == s && $2 == "read" { w = 0 } END { exit !race }' "$1"
}

disk_checks() { # NAME DISK CONSOLE MD5-BEFORE STATS DIR
	local tr=$1 disk=$2 out=$3 counts reads writes errors bad line races=0
	counts=$(blk_counts "$5")
	read -r reads writes errors <<<"${counts:-0 0 1}"
	# the first error or "bogus data" the write test's race does not explain
	bad=''
	while read -r line; do
		if [[ $line =~ ^bogus\ data\ at\ offset\ ([0-9]+)$ ]] && test_race "$5.blk" "${BASH_REMATCH[1]}"; then
			races=$((races + 1))
		else
			bad=$line
			break
		fi
	done < <(lines_of "$out" | grep -E 'bogus data|got error code|error [-0-9]+ on ')
	[ "$races" -gt 0 ] && echo "# minios: $tr: $races 'bogus data' the write test's own race explains (a second write to the sector before its read-back, in $5.blk)"
	if [ -n "$bad" ]; then
		not_ok "$tr: $disk disk: the console says '$bad'" "$out"
	elif [ "$disk" = rw ] && [ "$reads" -gt 0 ] && [ "$writes" -gt 0 ] && [ "$errors" = 0 ]; then
		ok "$tr: blkfront write test: $writes sectors written and $reads read back, no bogus data, no errors"
	elif [ "$disk" = ro ] && [ "$reads" -gt 0 ] && [ "$writes" = 0 ] && [ "$errors" = 0 ] &&
	     [ "$(md5sum <"$6/ro.img")" = "$4" ]; then
		ok "$tr: blkfront read test on a read-only disk: $reads sectors read, none written, the image unchanged"
	else
		not_ok "$tr: $disk disk: blk counters reads=$reads writes=$writes errors=$errors" "$5"
	fi
	if lines_of "$out" | grep -qxF 'close blk: backend=/local/domain/0/backend/vbd/1/768 node=device/vbd/768' &&
	   lines_of "$out" | grep -qxF 'Thread "blkfront" exited.'; then
		ok "$tr: at poweroff blkfront closed the device through Closing, Closed and back to InitWait"
	else
		not_ok "$tr: blkfront did not close the device at poweroff" "$out"
	fi
}

min_addr=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status 2>/dev/null)
rawio=$(( (0x${capeff:-0} >> 17) & 1 )) # CAP_SYS_RAWIO lets a process map page 0
if [ "$min_addr" = 0 ] || [ "$rawio" = 1 ]; then
	make_disks "$OUT"
	boot seccomp rw native
	boot ptrace ro native
	rm -f "$OUT/rw.img"
	if [ "$(id -u)" = 0 ] && [ "$min_addr" != 0 ] && command -v setpriv >/dev/null; then
		copy=$(mktemp -d /tmp/pvmm-minios-nobody.XXXXXX)
		cp "$PVMM" "$copy/pvmm" && cp "$KERNEL" "$copy/"
		chmod 1777 "$copy" && chmod a+rX "$copy"/*
		make_disks "$copy"
		boot seccomp rw emulated "$copy/pvmm" "$copy/mini-os" "$copy" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups
		boot ptrace ro emulated "$copy/pvmm" "$copy/mini-os" "$copy" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups
		rm -rf "$copy"
	fi
else
	make_disks "$OUT"
	boot seccomp rw emulated
	boot ptrace ro emulated
	rm -f "$OUT/rw.img"
fi
[ "$fail" = 0 ] && echo "minios: every check passed" || echo "minios: $fail checks failed" >&2
[ "$fail" = 0 ]
