#!/usr/bin/env bash
# make grub: Debian's PV GRUB (grub-xen-bin), a real PV kernel linked at
# address 0, under pvmm, driven through its console as a user types.
# Builds build/grub/grub.elf with grub-mkimage and a memdisk (a grub.cfg and
# a file to cat), then:
#  - where pvmm may map page 0 (root with CAP_SYS_RAWIO, or a host whose
#    vm.mmap_min_addr is 0), boots it on each transport with stdin a pipe,
#    waits for each grub> prompt before typing the next command (echo, ls,
#    cat of the memdisk's file, xen_ls and xen_cat when lsxen is there),
#    checks each command's output, types halt and expects status 0; reports
#    the time to the first prompt; then on a terminal (script's pty) checks
#    raw mode, the escape key (status 7) and the terminal's mode restored;
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

# The memdisk: GRUB's prefix (memdisk)/boot/grub holds its grub.cfg, which
# normal mode reads before the prompt (no menu entries: a command line).
FILE_TEXT=("a file on GRUB's memdisk" "read by cat under pvmm")
rm -rf "$DEST/memdisk" && mkdir -p "$DEST/memdisk/boot/grub" "$OUT" || exit 1
printf 'set pager=0\necho "grub.cfg: read from the memdisk"\n' >"$DEST/memdisk/boot/grub/grub.cfg"
printf '%s\n' "${FILE_TEXT[@]}" >"$DEST/memdisk/boot/hello.txt"
tar -C "$DEST/memdisk" -cf "$DEST/memdisk.tar" boot || exit 1
MODULES=(memdisk tar normal echo ls cat halt)
LSXEN=0
[ -e "$MODDIR/lsxen.mod" ] && MODULES+=(lsxen) && LSXEN=1
grub-mkimage -d "$MODDIR" -O x86_64-xen -o "$IMG" -p '(memdisk)/boot/grub' -m "$DEST/memdisk.tar" \
	"${MODULES[@]}" || { echo "pvmm: grub: grub-mkimage failed" >&2; exit 1; }
echo "grub: built $IMG ($(stat -c %s "$IMG") bytes; modules ${MODULES[*]})"

ok() { echo "ok - grub: $1"; }
not_ok() {
	echo "not ok - grub: $1"
	[ -n "${2:-}" ] && sed 's/^/#   /' "$2" | tail -20
	fail=$((fail + 1))
}

# The console without GRUB's \r, terminal escape sequences and the spaces
# that end its lines.
strip() { tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/[[:space:]]*$//'; }
clean() { strip <"$1"; }

# Read the console up to the next "grub>" prompt (30 s at most for each
# piece), keeping it all in $LOG. Fails at the end of output or a timeout.
until_prompt() {
	local piece
	while IFS= read -r -d '>' -t 30 -u "$FROM" piece; do
		printf '%s>' "$piece" >>"$LOG"
		[[ $piece == *grub ]] && return 0
	done
	printf '%s' "$piece" >>"$LOG"
	return 1
}

# Type COMMAND, wait for the next prompt, and check that each further
# argument is a line of what the command printed.
type_cmd() { # COMMAND WANTED-LINE...
	local cmd=$1 start out w
	shift
	start=$(wc -c <"$LOG")
	printf '%s\r' "$cmd" >&"$TO"
	if ! until_prompt; then
		not_ok "$TR: no prompt after '$cmd'" "$LOG"
		return 1
	fi
	out=$(tail -c +"$((start + 1))" "$LOG" | strip)
	for w in "$@"; do
		if ! grep -qxF -- "$w" <<<"$out"; then
			not_ok "$TR: '$cmd' did not print '$w'" "$LOG"
			return 0
		fi
	done
	ok "$TR: $cmd"
}

session() { # TRANSPORT [LABEL PVMM IMAGE [PREFIX...]]: LABEL says how (native, emulated)
	local start status booted label=${2:-} pvmm=${3:-$PVMM} img=${4:-$IMG}
	TR=$1${label:+ $label} LOG=$OUT/$1${label:+-$label}.console
	local err=$OUT/$1${label:+-$label}.err tr=$1
	shift $(( $# < 4 ? $# : 4 ))
	: >"$LOG"
	start=$(date +%s%N)
	local stats=$(dirname "$img")/$tr.stats
	coproc GRUB { exec "$@" "$pvmm" --transport="$tr" --timeout=60 --stats="$stats" "$img" 2>"$err"; }
	local pid=$GRUB_PID
	exec {TO}>&"${GRUB[1]}" {FROM}<&"${GRUB[0]}"
	if until_prompt; then
		booted=$(( ($(date +%s%N) - start) / 1000000 ))
		ok "$TR: booted to the grub> prompt in $((booted / 1000)).$(printf %03d $((booted % 1000))) s"
		clean "$LOG" | grep -qxF 'grub.cfg: read from the memdisk' ||
			not_ok "$TR: grub.cfg from the memdisk did not run" "$LOG"
		# each command waits for the prompt the one before it gave back
		type_cmd 'echo typed on the console' 'typed on the console' &&
		type_cmd 'ls' '(memdisk)' &&
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
	done
	if command -v script >/dev/null; then
		escape_session
	else
		echo "grub: no script(1) (bsdutils) for a terminal: the escape key is not checked"
	fi
	if [ "$(id -u)" = 0 ] && [ "$min_addr" != 0 ] && command -v setpriv >/dev/null; then
		copy=$(mktemp -d /tmp/pvmm-grub-nobody.XXXXXX)
		cp "$PVMM" "$copy/pvmm" && cp "$IMG" "$copy/"
		chmod -R a+rX "$copy" && chmod 1777 "$copy"
		for tr in seccomp ptrace; do
			session "$tr" emulated "$copy/pvmm" "$copy/grub.elf" \
				setpriv --reuid=nobody --regid=nogroup --clear-groups
		done
		rm -rf "$copy"
	fi
else
	for tr in seccomp ptrace; do
		session "$tr" emulated
	done
fi
[ "$fail" = 0 ] && echo "grub: every check passed" || echo "grub: $fail checks failed" >&2
[ "$fail" = 0 ]
