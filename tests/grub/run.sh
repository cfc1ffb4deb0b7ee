#!/usr/bin/env bash
# make grub: Debian's PV GRUB (grub-xen-bin), a real PV kernel linked at
# address 0, under pvmm, driven through its console as a user types.
# Builds build/grub/grub.elf with grub-mkimage and a memdisk (a grub.cfg and
# a file to cat), and two ext2 disk images with mke2fs -d
# (build/grub/disk.img: a text file, 1 MiB of random bytes, pvmm's sample
# guests hello.elf, events.elf and crash.elf, and grub.elf itself;
# build/grub/ro.img: one text file), then:
#  - where pvmm may map page 0 (root with CAP_SYS_RAWIO, or a host whose
#    vm.mmap_min_addr is 0), boots it on each transport with stdin a pipe and
#    the disks as --disk=disk.img (xvda) and --disk=ro.img,ro (xvdb), waits
#    for each grub> prompt before typing the next command (echo, ls showing
#    (xen/xvda) and (xen/xvdb), ls of each disk's files, cat of a file on
#    each, sha1sum of a 1 MiB file on xvda, cat of the memdisk's file, xen_ls and xen_cat when lsxen is
#    there), checks each command's output, types halt and expects status 0;
#    reports the time to the first prompt;
#  - boots it again on each transport and has GRUB's linux command load
#    events.elf from the disk with a command line and boot it: GRUB rebuilds
#    the domain in place (PV MMU hypercalls, its relocator), the guest writes
#    through the console ring GRUB handed over, takes a line typed after the
#    boot, and its status is pvmm's (0); crash.elf booted the same way ends
#    with the crash status (1); GRUB booted from the disk by GRUB finds the
#    disks and boots hello.elf with a command line;
#  - then on a terminal (script's pty) checks raw mode, the escape key
#    (status 7) and the terminal's mode restored;
#  - unprivileged, and as root once more as user nobody, the same sessions
#    with GRUB's code below vm.mmap_min_addr in the instruction emulator
#    (vmm/lowexec.h).
# Without grub-mkimage or GRUB's x86_64-xen modules it says so in one line
# and succeeds. Consoles land in build/grub-results/.
set -u
B=${BUILD_DIR:-build}
PVMM=${PVMM:-$B/pvmm}
MODDIR=${GRUB_MODDIR:-/usr/lib/grub/x86_64-xen}
DEST=$B/grub
IMG=$DEST/grub.elf
OUT=$B/grub-results
fail=0

if ! command -v grub-mkimage >/dev/null || [ ! -e "$MODDIR/kernel.img" ]; then
	echo "pvmm: grub: grub-mkimage or GRUB's x86_64-xen modules ($MODDIR) not found" \
		"(make deps installs grub-xen-bin and grub-common), skipping"
	exit 0
fi
for tool in tar; do
	if ! command -v "$tool" >/dev/null; then
		echo "pvmm: grub: '$tool' not found, cannot build the memdisk, skipping"
		exit 0
	fi
done
MKE2FS=$(command -v mke2fs || ls /usr/sbin/mke2fs /sbin/mke2fs 2>/dev/null | head -1)
if [ -z "$MKE2FS" ]; then
	echo "pvmm: grub: mke2fs not found (make deps installs e2fsprogs), cannot build the disk images, skipping"
	exit 0
fi
GUESTS=$B/guests
for g in hello events crash; do
	if [ ! -e "$GUESTS/$g.elf" ]; then
		echo "pvmm: grub: $GUESTS/$g.elf not built (make guests)" >&2
		exit 1
	fi
done

# The memdisk: GRUB's prefix (memdisk)/boot/grub holds its grub.cfg, which
# normal mode reads before the prompt (no menu entries: a command line).
FILE_TEXT=("a file on GRUB's memdisk" "read by cat under pvmm")
rm -rf "$DEST/memdisk" && mkdir -p "$DEST/memdisk/boot/grub" "$OUT" || exit 1
printf 'set pager=0\necho "grub.cfg: read from the memdisk"\n' >"$DEST/memdisk/boot/grub/grub.cfg"
printf '%s\n' "${FILE_TEXT[@]}" >"$DEST/memdisk/boot/hello.txt"
tar -C "$DEST/memdisk" -cf "$DEST/memdisk.tar" boot || exit 1
MODULES=(memdisk tar normal echo ls cat halt ext2 linux hashsum gcry_sha1)
LSXEN=0
[ -e "$MODDIR/lsxen.mod" ] && MODULES+=(lsxen) && LSXEN=1
grub-mkimage -d "$MODDIR" -O x86_64-xen -o "$IMG" -p '(memdisk)/boot/grub' -m "$DEST/memdisk.tar" \
	"${MODULES[@]}" || { echo "pvmm: grub: grub-mkimage failed" >&2; exit 1; }
echo "grub: built $IMG ($(stat -c %s "$IMG") bytes; modules ${MODULES[*]})"

# The disks: ext2 file systems made from a folder each (mke2fs -d), without
# a partition table, as a PV guest's xvda often is. xvda holds GRUB itself
# too, for GRUB to boot GRUB.
DISK_TEXT=("a file on the ext2 disk xvda" "read by GRUB through pvmm's blkback")
RO_TEXT="a file on the read-only disk xvdb"
rm -rf "$DEST/disk" "$DEST/ro" && mkdir -p "$DEST/disk" "$DEST/ro" || exit 1
printf '%s\n' "${DISK_TEXT[@]}" >"$DEST/disk/hello.txt"
cp "$GUESTS/hello.elf" "$GUESTS/events.elf" "$GUESTS/crash.elf" "$IMG" "$DEST/disk/" || exit 1
printf '%s\n' "$RO_TEXT" >"$DEST/ro/ro.txt"
# 1 MiB that no two runs share: 256 requests of a page, their sum the host's
head -c 1048576 /dev/urandom >"$DEST/disk/random.bin" || exit 1
RANDOM_SHA1=$(sha1sum <"$DEST/disk/random.bin" | cut -d' ' -f1)
DISK=$DEST/disk.img RO=$DEST/ro.img
rm -f "$DISK" "$RO"
truncate -s 4M "$DISK" && truncate -s 1M "$RO" &&
"$MKE2FS" -q -F -t ext2 -L pvmm-disk -d "$DEST/disk" "$DISK" &&
"$MKE2FS" -q -F -t ext2 -L pvmm-ro -d "$DEST/ro" "$RO" ||
	{ echo "pvmm: grub: mke2fs -d failed (e2fsprogs 1.43 or later has -d)" >&2; exit 1; }
echo "grub: built the disks $DISK ($(ls "$DEST/disk" | tr '\n' ' ')) and $RO (ro.txt)"

ok() { echo "ok - grub: $1"; }
not_ok() {
	echo "not ok - grub: $1"
	[ -n "${2:-}" ] && sed 's/^/#   /' "$2" | tail -20 && [ -n "$(tail -c 1 "$2")" ] && echo
	fail=$((fail + 1))
}

# The console without GRUB's \r, terminal escape sequences and the spaces
# that end its lines.
strip() { tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/[[:space:]]*$//'; }
clean() { strip <"$1"; }

BUF=
# Read the console up to the next "grub>" prompt (30 s at most for each
# piece), keeping it all in $LOG and what came since the last command in
# $BUF. Fails at the end of output or a timeout. (No command is forked per
# piece or per typed command: a fork costs milliseconds on a loaded host.)
until_prompt() {
	local piece
	while IFS= read -r -d '>' -t 30 -u "$FROM" piece; do
		printf '%s>' "$piece" >>"$LOG"
		BUF+="$piece>"
		[[ $piece == *grub ]] && return 0
	done
	printf '%s' "$piece" >>"$LOG"
	BUF+=$piece
	return 1
}

# $BUF as strip makes it, one line an element of LINES (in bash alone).
buf_lines() {
	local text=${BUF//$'\r'/} esc=$'\e''\[[0-9;?]*[a-zA-Z]' line
	while [[ $text =~ $esc ]]; do
		text=${text//"${BASH_REMATCH[0]}"/}
	done
	LINES=()
	while IFS= read -r line; do
		LINES+=("${line%"${line##*[![:space:]]}"}")
	done <<<"$text"
}

# Type COMMAND and wait for the next prompt, its output in LINES: 0, or 1
# (not ok) without a prompt or when GRUB said "error:" (its word for a
# command that failed; the commands after it are then not typed).
type_only() { # COMMAND
	local line
	BUF=
	printf '%s\r' "$1" >&"$TO"
	if ! until_prompt; then
		not_ok "$TR: no prompt after '$1'" "$LOG"
		return 1
	fi
	buf_lines
	for line in "${LINES[@]}"; do
		if [[ $line == "error: "* ]]; then
			not_ok "$TR: '$1': $line" "$LOG"
			return 1
		fi
	done
}

# Type COMMAND (type_only) and check that each further argument is a line
# of what it printed.
type_cmd() { # COMMAND WANTED-LINE...
	local cmd=$1 w line
	shift
	type_only "$cmd" || return 1
	for w in "$@"; do
		for line in "${LINES[@]}" ''; do
			[ "$line" = "$w" ] && break
		done
		if [ "$line" != "$w" ]; then
			not_ok "$TR: '$cmd' did not print '$w'" "$LOG"
			return 0
		fi
	done
	ok "$TR: $cmd"
}

# Type COMMAND (type_only) and check that each further argument is a word
# (between spaces) of what it printed after its own line: ls's listings,
# whose order is the file system's.
type_words() { # COMMAND WANTED-WORD...
	local cmd=$1 w words
	shift
	type_only "$cmd" || return 1
	words=" ${LINES[*]:1} "
	for w in "$@"; do
		if [[ $words != *" $w "* ]]; then
			not_ok "$TR: '$cmd' did not list '$w'" "$LOG"
			return 0
		fi
	done
	ok "$TR: $cmd"
}

DISKS=(--disk="$DISK" --disk="$RO,ro")

session() { # TRANSPORT [LABEL PVMM IMAGE [PREFIX...]]: LABEL says how (native, emulated)
	local start status booted label=${2:-} pvmm=${3:-$PVMM} img=${4:-$IMG}
	TR=$1${label:+ $label} LOG=$OUT/$1${label:+-$label}.console
	local err=$OUT/$1${label:+-$label}.err tr=$1
	shift $(( $# < 4 ? $# : 4 ))
	: >"$LOG"
	start=$(date +%s%N)
	local stats=$(dirname "$img")/$tr.stats
	coproc GRUB { exec "$@" "$pvmm" --transport="$tr" --timeout=60 --stats="$stats" "${DISKS[@]}" "$img" 2>"$err"; }
	local pid=$GRUB_PID
	exec {TO}>&"${GRUB[1]}" {FROM}<&"${GRUB[0]}"
	if until_prompt; then
		booted=$(( ($(date +%s%N) - start) / 1000000 ))
		ok "$TR: booted to the grub> prompt in $((booted / 1000)).$(printf %03d $((booted % 1000))) s"
		clean "$LOG" | grep -qxF 'grub.cfg: read from the memdisk' ||
			not_ok "$TR: grub.cfg from the memdisk did not run" "$LOG"
		# each command waits for the prompt the one before it gave back
		type_cmd 'echo typed on the console' 'typed on the console' &&
		type_cmd 'ls' '(memdisk) (xen/xvda) (xen/xvdb)' &&
		type_words 'ls (xen/xvda)/' lost+found/ hello.txt random.bin hello.elf events.elf crash.elf grub.elf &&
		type_words 'ls (xen/xvdb)/' lost+found/ ro.txt &&
		type_cmd 'cat (xen/xvda)/hello.txt' "${DISK_TEXT[@]}" &&
		type_cmd 'cat (xen/xvdb)/ro.txt' "$RO_TEXT" &&
		type_cmd 'sha1sum (xen/xvda)/random.bin' "$RANDOM_SHA1  (xen/xvda)/random.bin" &&
		type_cmd 'cat (memdisk)/boot/hello.txt' "${FILE_TEXT[@]}" &&
		if [ "$LSXEN" = 1 ]; then
			type_cmd 'xen_ls' 'domid' 'name' 'store' &&
			type_cmd 'xen_cat name' 'grub'
		fi
		printf 'halt\r' >&"$TO"
	else
		not_ok "$TR: no grub> prompt" "$err"
	fi
	exec {TO}>&-
	cat <&"$FROM" >>"$LOG"
	exec {FROM}<&-
	wait "$pid"
	status=$?
	if [ "$status" = 0 ]; then
		ok "$TR: halt powered it off (status 0)"
	else
		not_ok "$TR: want status 0 after halt, got $status" "$err"
	fi
	runs=$(grep -o '"lowexec": {"runs": [0-9]*' "$stats" 2>/dev/null | grep -o '[0-9]*$')
	if [ "$label" = emulated ]; then
		[ "${runs:-0}" -gt 0 ] && ok "$TR: $runs runs of code below vm.mmap_min_addr in the emulator" ||
			not_ok "$TR: --stats shows no run in the instruction emulator" "$stats"
	fi
}

# Read the console until a line that is WANTED (30 s at most for each
# line), keeping it all in $LOG.
until_line() { # WANTED
	local line
	while IFS= read -r -t 30 -u "$FROM" line; do
		printf '%s\n' "$line" >>"$LOG"
		[ "$(strip <<<"$line")" = "$1" ] && return 0
	done
	printf '%s' "$line" >>"$LOG"
	return 1
}

# GRUB's linux command loads GUEST from the disk and boot starts it: GRUB
# rebuilds the domain in place and jumps to the guest, which inherits the
# console ring (and GRUB's output in it), the xenstore and the event
# channels. events.elf writes through the ring, waits for a line typed
# after the boot (echoed upper-cased) and powers off: status 0. crash.elf
# fails an assertion: status 1, as when pvmm boots it itself. grub.elf
# (GRUB booting GRUB: the domain rebuilt twice, each time at address 0)
# finds the disks again and boots hello.elf, which shows the command line
# GRUB gave it. What they write with console_io
# (Xen's log) is checked in their --hvlog file.
linux_session() { # TRANSPORT GUEST [LABEL PVMM IMAGE [PREFIX...]]: as session's
	local start status booted want_status failed=$fail guest=$2
	local label=${3:-} pvmm=${4:-$PVMM} img=${5:-$IMG} tr=$1
	TR=$1${label:+ $label} LOG=$OUT/$1${label:+-$label}-linux-$2.console
	local err=$OUT/$1${label:+-$label}-linux-$2.err hv=$(dirname "$img")/$1-linux-$2.hvlog
	shift $(( $# < 5 ? $# : 5 ))
	: >"$LOG"
	coproc GRUB { exec "$@" "$pvmm" --transport="$tr" --timeout=60 --hvlog="$hv" "${DISKS[@]}" "$img" 2>"$err"; }
	local pid=$GRUB_PID
	exec {TO}>&"${GRUB[1]}" {FROM}<&"${GRUB[0]}"
	if until_prompt && type_cmd "linux (xen/xvda)/$guest.elf from=grub on=$tr"; then
		start=$(date +%s%N)
		printf 'boot\r' >&"$TO"
		case $guest in
		events)
			want_status=0
			if until_line 'events: hello through the console ring'; then
				booted=$(( ($(date +%s%N) - start) / 1000000 ))
				ok "$TR: linux + boot: events.elf wrote through GRUB's console ring $((booted / 1000)).$(printf %03d $((booted % 1000))) s after boot"
				printf 'typed after boot\n' >&"$TO"
				if until_line 'events: console input was "TYPED AFTER BOOT"' &&
				   until_line 'Test result: SUCCESS'; then
					ok "$TR: linux + boot: events.elf read a line typed after the boot and passed its tests"
				else
					not_ok "$TR: linux + boot: events.elf did not echo the line typed or fail" "$LOG"
				fi
			else
				not_ok "$TR: linux + boot: nothing from events.elf through the console ring" "$err"
			fi
			;;
		hello) # console_io only: Xen's log (--hvlog), not the ring
			want_status=0
			;;
		crash)
			want_status=1
			;;
		grub) # GRUB boots GRUB (linked at 0 too), which boots hello.elf
			want_status=0
			if until_prompt; then
				booted=$(( ($(date +%s%N) - start) / 1000000 ))
				ok "$TR: linux + boot: the GRUB booted from the disk reached its prompt $((booted / 1000)).$(printf %03d $((booted % 1000))) s after boot"
				type_cmd 'ls' '(memdisk) (xen/xvda) (xen/xvdb)' &&
				type_cmd "linux (xen/xvda)/hello.elf from=grub on=$tr" &&
				printf 'boot\r' >&"$TO"
			else
				not_ok "$TR: linux + boot: the GRUB booted from the disk gave no prompt" "$err"
			fi
			;;
		esac
	else
		not_ok "$TR: no grub> prompt or no linux command" "$err"
	fi
	exec {TO}>&-
	# a check failed: what still runs (GRUB at its prompt, a guest waiting)
	# is stopped rather than left to --timeout
	[ "$fail" != "$failed" ] && kill -TERM "$pid" 2>/dev/null
	cat <&"$FROM" >>"$LOG"
	exec {FROM}<&-
	wait "$pid"
	status=$?
	local want what=$guest.elf
	[ "$guest" = grub ] && what="grub.elf then hello.elf"
	case $guest in
	events) want='^events: block woke on VIRQ_TIMER after [0-9]+ ms of system time$' ;;
	hello | grub) want="^start_info: magic xen-3.0-x86_64, [0-9]+ pages, cmdline 'from=grub on=$tr'\$" ;;
	crash) want='^ASSERT FAILED at sample-guests/crash.c:[0-9]+: si->nr_pages == 0$' ;;
	esac
	if grep -qE "$want" "$hv" 2>/dev/null; then
		ok "$TR: linux + boot: $what's console_io (--hvlog): $(grep -E "$want" "$hv" | head -1)"
	else
		not_ok "$TR: linux + boot: $what's console_io (--hvlog) has no line matching $want" "$hv"
	fi
	if [ "$status" = "${want_status:-0}" ]; then
		ok "$TR: linux + boot: $what ended with status $status"
	else
		not_ok "$TR: linux + boot: want status ${want_status:-0} from $what, got $status" "$err"
	fi
}

# On a terminal (script's pty): raw mode (a key reaches GRUB without
# Enter), the escape key typed at the prompt ends the domain (status 7,
# one line), and the terminal's mode afterwards is what it was before.
got_key() { # KEY: GRUB echoes it (after its cursor motions) within 64 bytes
	local c i
	for ((i = 0; i < 64; i++)); do
		IFS= read -r -n 1 -d '' -t 30 -u "$FROM" c || return 1
		printf '%s' "$c" >>"$LOG"
		[ "$c" = "$1" ] && return 0
	done
	return 1
}

escape_session() {
	local status
	TR=seccomp LOG=$OUT/tty.console
	: >"$LOG"
	coproc TTY { exec script -qfec "stty -g >'$OUT/tty.before'; '$PVMM' --timeout=20 '$IMG' 2>'$OUT/tty.err';
		echo \"status \$?\"; stty -g >'$OUT/tty.after'" /dev/null; }
	local pid=$TTY_PID
	exec {TO}>&"${TTY[1]}" {FROM}<&"${TTY[0]}"
	if until_prompt; then
		printf 'e' >&"$TO" # no Enter: raw mode hands it over at once
		if got_key e; then
			ok "terminal: raw mode: a key reaches GRUB without Enter"
		else
			not_ok "terminal: the key typed did not come back from GRUB" "$LOG"
		fi
		printf '\035' >&"$TO"
	else
		not_ok "terminal: no grub> prompt" "$OUT/tty.err"
	fi
	cat <&"$FROM" >>"$LOG"
	exec {TO}>&- {FROM}<&-
	wait "$pid"
	if grep -qa 'status 7' "$LOG" && [ "$(wc -l <"$OUT/tty.err")" = 1 ] &&
	   grep -q "interrupted: the guest was stopped by the console's escape key$" "$OUT/tty.err"; then
		ok "terminal: Ctrl-] ended the domain (status 7, one line)"
	else
		not_ok "terminal: Ctrl-] did not end the domain with status 7 and one line" "$OUT/tty.err"
	fi
	if [ -s "$OUT/tty.before" ] && cmp -s "$OUT/tty.before" "$OUT/tty.after"; then
		ok "terminal: its mode restored"
	else
		not_ok "terminal: its mode not restored ($(cat "$OUT/tty.before") -> $(cat "$OUT/tty.after" 2>/dev/null))"
	fi
}

min_addr=$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null || echo 65536)
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status 2>/dev/null)
rawio=$(( (0x${capeff:-0} >> 17) & 1 )) # CAP_SYS_RAWIO lets a process map page 0
if [ "$min_addr" = 0 ] || [ "$rawio" = 1 ]; then
	for tr in seccomp ptrace; do
		session "$tr" native
		linux_session "$tr" events native
	done
	linux_session seccomp crash native
	linux_session ptrace grub native
	if command -v script >/dev/null; then
		escape_session
	else
		echo "grub: no script(1) (bsdutils) for a terminal: the escape key is not checked"
	fi
	if [ "$(id -u)" = 0 ] && [ "$min_addr" != 0 ] && command -v setpriv >/dev/null; then
		copy=$(mktemp -d /tmp/pvmm-grub-nobody.XXXXXX)
		cp "$PVMM" "$copy/pvmm" && cp "$IMG" "$DISK" "$RO" "$copy/"
		chmod -R a+rX "$copy" && chmod 1777 "$copy" && chmod a+w "$copy/disk.img"
		DISKS=(--disk="$copy/disk.img" --disk="$copy/ro.img,ro")
		for tr in seccomp ptrace; do
			session "$tr" emulated "$copy/pvmm" "$copy/grub.elf" \
				setpriv --reuid=nobody --regid=nogroup --clear-groups
		done
		linux_session seccomp grub emulated "$copy/pvmm" "$copy/grub.elf" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups
		rm -rf "$copy"
	fi
else
	for tr in seccomp ptrace; do
		session "$tr" emulated
	done
	linux_session seccomp grub emulated
fi
[ "$fail" = 0 ] && echo "grub: every check passed" || echo "grub: $fail checks failed" >&2
[ "$fail" = 0 ]
