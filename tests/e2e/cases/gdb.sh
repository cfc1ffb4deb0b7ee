# gdb: the real gdb, in batch mode, against the gdb server
# gdb_session GUEST PVMM-OPTIONS -- GDB-COMMANDS...: leaves $WORK/gdb.txt,
# $WORK/out, $WORK/err and the pvmm status in $status
gdb_session() {
	local guest=$1; shift
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
	rm -f "$WORK/err"
	fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
	"$PVMM" --timeout=60 --gdb=tcp:0 "${opts[@]}" "$guest" >"$WORK/out" 2>"$WORK/err" </dev/null &
	local pid=$! port="" args=()
	wait_until 60 has_line "$WORK/err" 'tcp:127.0.0.1:[0-9]+'
	port=$(grep -o 'tcp:127.0.0.1:[0-9]*' "$WORK/err" 2>/dev/null | cut -d: -f3)
	for c in "$@"; do args+=(-ex "$c"); done
	timeout 60 gdb -batch -nx -ex "target remote 127.0.0.1:$port" "${args[@]}" "$guest" >"$WORK/gdb.txt" 2>&1
	wait $pid
	status=$?
}
gdb_has() { grep -Eq -- "$1" "$WORK/gdb.txt"; }

gdb_session $G/hello.elf -- 'break guest_main' 'continue' 'print rt_si->nr_pages' 'stepi' \
	'print $pc' 'monitor ptwalk 0x400000' 'monitor frame 0x37' 'detach'
if gdb_has '^Breakpoint 1, guest_main' && gdb_has '^\$1 = 16384$' && gdb_has '^\$2 = .*<guest_main\+[0-9]+>' &&
   gdb_has '^  L1\[  0\] in frame 0x[0-9a-f]+ \(L1, type count 1\): 0x67 = 0x0 P RW US A D$' &&
   gdb_has 'frame 0x37: L4, type count 2' && gdb_has 'Remote target\) detached'; then
	ok "gdb: breakpoint in guest text, a variable, stepi, monitor ptwalk and frame, detach"
else
	not_ok "gdb session" "$(tail -20 "$WORK/gdb.txt")"
fi
expect "gdb: after detach the guest runs to poweroff" 0 '^Test result: SUCCESS$'

gdb_session $G/ptwr-bad.elf --ptwr=unhook -- 'monitor break-refuse' 'continue' 'monitor unhooked' 'continue'
if gdb_has 'stopped: entry 12 of L1 frame 0x[0-9a-f]+ refused: a writable mapping of a page-table frame' &&
   gdb_has 'no L1 is out of sync' && gdb_has 'exited with code 01'; then
	ok "gdb: monitor break-refuse stops the guest at the refused entry"
else
	not_ok "gdb break-refuse" "$(tail -20 "$WORK/gdb.txt")"
fi

# Ctrl-C: gdb interrupts a guest that never stops, then kills it
fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
"$PVMM" --timeout=30 --gdb=tcp:0 $G/spin.elf >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
wait_until 60 has_line "$WORK/err" 'tcp:127.0.0.1:[0-9]+'
port=$(grep -o 'tcp:127.0.0.1:[0-9]*' "$WORK/err" | cut -d: -f3)
gdb -batch -nx -ex "target remote 127.0.0.1:$port" -ex continue -ex 'print $pc' -ex kill \
	$G/spin.elf >"$WORK/gdb.txt" 2>&1 </dev/null &
gdbpid=$!
# the guest waits for gdb before its first instruction, so its first line
# means gdb has connected and continued: now interrupt it
wait_until 60 has_line "$WORK/out" '^spin: looping forever$'
kill -INT $gdbpid
( sleep 60; kill -KILL $gdbpid 2>/dev/null ) &
watchdog=$!
wait $gdbpid
kill $watchdog 2>/dev/null
wait $pid
status=$?
if gdb_has 'received signal SIGINT' && gdb_has '<guest_main\+' && [ $status = 1 ]; then
	ok "gdb: Ctrl-C interrupts a running guest; kill ends it (status 1)"
else
	not_ok "gdb Ctrl-C" "status $status" "$(tail -10 "$WORK/gdb.txt")"
fi
# a Unix socket, and a guest about to be crashed stops for gdb first
fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
"$PVMM" --timeout=30 --gdb=unix:"$WORK/gdb.sock" $G/fault.elf >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
wait_until 60 test -S "$WORK/gdb.sock"
timeout 60 gdb -batch -nx -ex "target remote $WORK/gdb.sock" -ex continue -ex 'print $pc' -ex continue \
	$G/fault.elf >"$WORK/gdb.txt" 2>&1 </dev/null
wait $pid
status=$?
if gdb_has 'the domain is being crashed: guest page fault at 0x40000000' &&
   gdb_has 'received signal SIGSEGV' && gdb_has 'fault.c:11' && [ $status = 1 ]; then
	ok "gdb over a Unix socket: an unhandled fault stops in gdb at the faulting line before the crash"
else
	not_ok "gdb crash stop" "status $status" "$(tail -10 "$WORK/gdb.txt")"
fi
run --gdb=serial:/dev/ttyS0 $G/hello.elf
expect "a bad --gdb is refused" 2 '' 'want tcp:\[HOST:\]PORT or unix:PATH'

# ,nowait: gdb connects to a guest already running and stops it there, as
# with qemu's gdbstub (it used to be accepted only once the guest stopped:
# gdb got "Connection reset by peer" when the guest ended)
# qemu's -s is --gdb=tcp::1234,nowait (port 1234 may be taken here: then
# only the refusal is checked)
for how in nowait -s; do
	gargs=--gdb=tcp:0,nowait
	[ $how = -s ] && gargs=-s
	fresh "$WORK/out" "$WORK/err"
	"$PVMM" --timeout=30 $gargs $G/spin.elf >"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	running_or_gone() { has_line "$WORK/out" '^spin: looping forever$' || ! alive $pid; }
	wait_until 60 running_or_gone
	if ! alive $pid && grep -q 'Address already in use' "$WORK/err"; then
		wait $pid; status=$?
		expect "gdb $how: port 1234 is taken here, refused (status 2)" 2
		continue
	fi
	port=$(grep -o 'tcp:127.0.0.1:[0-9]*' "$WORK/err" | cut -d: -f3)
	timeout 60 gdb -batch -nx -ex "target remote 127.0.0.1:$port" -ex 'print $pc' -ex kill \
		$G/spin.elf >"$WORK/gdb.txt" 2>&1 </dev/null
	wait $pid
	status=$?
	if gdb_has '^\$1 = .*<guest_main\+[0-9]+>' && gdb_has 'killed' && [ $status = 1 ]; then
		ok "gdb $how: target remote to a running guest stops it in guest_main; kill ends it (status 1)"
	else
		not_ok "gdb $how attach to a running guest" "status $status" "$(tail -10 "$WORK/gdb.txt")"
	fi
done
# ... and to a guest blocked in SCHEDOP_block (events waits for console
# input), over a Unix socket; it stays blocked, and runs on after detach
rm -f "$WORK/in.fifo" "$WORK/gdb.sock" && mkfifo "$WORK/in.fifo"
fresh "$WORK/out" "$WORK/err"
"$PVMM" --timeout=30 --gdb=unix:"$WORK/gdb.sock",nowait $G/events.elf >"$WORK/out" 2>"$WORK/err" <"$WORK/in.fifo" &
pid=$!
exec 3>"$WORK/in.fifo"
# blocked: its last line out, and pvmm waiting in ppoll for input
blocked() { has_line "$WORK/out" 'hello through the console ring' && grep -q poll "/proc/$pid/wchan" 2>/dev/null; }
wait_until 60 blocked
timeout 60 gdb -batch -nx -ex "target remote $WORK/gdb.sock" -ex 'print $pc' -ex detach \
	$G/events.elf >"$WORK/gdb.txt" 2>&1 </dev/null
(echo hello >&3) 2>/dev/null # in a subshell: a pvmm gone early must not SIGPIPE this script
exec 3>&-
wait $pid
status=$?
if gdb_has '^\$1 = .*<hypercall_page\+[0-9]+>' && gdb_has 'detached' && [ $status = 0 ] &&
   grep -q 'console input was "HELLO"' "$WORK/out"; then
	ok "gdb: target remote to a nowait guest blocked in SCHEDOP_block stops it; after detach it runs on"
else
	not_ok "gdb nowait attach to a blocked guest" "status $status" "$(tail -10 "$WORK/gdb.txt")" \
		"$(tail -3 "$WORK/out")"
fi
# --gdb addresses: qemu's spellings, strictly (tcp::1271 and
# tcp:0.0.0.0:1270 listened on a random port, tcp:70000 on 4464, tcp:-1 on 65535)
gport=$((20000 + $$ % 20000)) # a port that is taken says so: status 2
run --timeout=10 --gdb=tcp::$gport,nowait $G/hello.elf
if grep -q 'Address already in use' "$WORK/err"; then expect "--gdb=tcp::$gport: taken (status 2)" 2
else expect "--gdb=tcp::PORT listens on 127.0.0.1:PORT" 0 '' "^pvmm: gdb: listening on tcp:127\\.0\\.0\\.1:$gport\$"; fi
run --timeout=10 --gdb=tcp:0.0.0.0:$gport,nowait $G/hello.elf
if grep -q 'Address already in use' "$WORK/err"; then expect "--gdb=tcp:0.0.0.0:$gport: taken (status 2)" 2
else expect "--gdb=tcp:HOST:PORT listens on HOST:PORT" 0 '' "^pvmm: gdb: listening on tcp:0\\.0\\.0\\.0:$gport\$"; fi
run --gdb=tcp:localhost:0,nowait $G/hello.elf
expect "--gdb=tcp:localhost:PORT listens on 127.0.0.1" 0 '' 'listening on tcp:127\.0\.0\.1:[1-9]'
for a in tcp:70000 tcp:-1 tcp:12x tcp:1.2.3:5 tcp:host.invalid:1 'tcp:0,nowait,' unix:; do
	run --timeout=10 --gdb="$a" $G/hello.elf # the guest would wait for gdb
	if [ $status = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -qF -- "--gdb=$a: " "$WORK/err" &&
	   ! grep -q listening "$WORK/err"; then
		ok "--gdb=$a is refused with status 2: $(cat "$WORK/err")"
	else
		not_ok "--gdb=$a" "status $status" "$(cat "$WORK/err")"
	fi
done
# qemu's -s (tcp::1234, nowait) and -S (wait for gdb); port 1234 may be
# taken on this machine, which is then the one line that says so
run -s $G/hello.elf
if grep -q 'Address already in use' "$WORK/err"; then expect "-s: port 1234 is taken (status 2)" 2
else expect "-s listens on tcp:127.0.0.1:1234 and lets the guest run" 0 '^Test result: SUCCESS$' \
	'^pvmm: gdb: listening on tcp:127\.0\.0\.1:1234$'; fi
run -s -S --timeout=1 $G/hello.elf
if grep -q 'Address already in use' "$WORK/err"; then expect "-s -S: port 1234 is taken (status 2)" 2
else expect "-s -S: the guest waits for gdb on tcp:127.0.0.1:1234" 4 '' \
	'listening on tcp:127\.0\.0\.1:1234 \(the guest waits for gdb\)'; fi
run --timeout=10 -S $G/hello.elf; expect "-S without a gdb server is a usage error" 2 '' '^pvmm: -S: .*add -s or --gdb'
run --timeout=10 -s --gdb=tcp:0 $G/hello.elf; expect "-s with --gdb is a usage error" 2 '' '^pvmm: -s and --gdb'

# monitor: break-* can be cleared; an unknown command fails in gdb
gdb_session $G/ptwr-bad.elf --ptwr=unhook -- 'monitor break-refuse' 'monitor break-refuse off' \
	'monitor frobnicate' 'monitor frame 0xfffffff' 'continue'
if gdb_has "unknown monitor command 'frobnicate'" && [ "$(grep -c 'Protocol error with Rcmd' "$WORK/gdb.txt")" = 2 ] &&
   gdb_has 'will not stop when a page-table entry is refused' && ! gdb_has 'stopped: entry' &&
   gdb_has 'the domain is being crashed'; then
	ok "gdb: monitor break-refuse off clears it; unknown commands and bad arguments are errors in gdb"
else
	not_ok "gdb monitor off/unknown" "$(tail -12 "$WORK/gdb.txt")"
fi

