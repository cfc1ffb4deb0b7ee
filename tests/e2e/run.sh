#!/usr/bin/env bash
# End-to-end tests: real guests under build/pvmm, checked by exit status,
# console output, error lines and --stats. Run from the top of the tree.
# When run as root it runs itself once more as an unprivileged user.
set -u
B=${BUILD_DIR:-build}
PVMM=${PVMM:-$B/pvmm}
G=$B/guests
WORK=$(mktemp -d /tmp/pvmm-e2e.XXXXXX)
README_DIR=${README_DIR:-$(pwd)}
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# run NAME ARGS...: runs pvmm, leaving $status, $WORK/out, $WORK/err
run() {
	"$PVMM" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	status=$?
}

expect() { # expect DESC STATUS [stdout-regex] [stderr-regex]
	local desc=$1 want=$2 out=${3:-} err=${4:-}
	if [ "$status" != "$want" ]; then
		not_ok "$desc" "exit status $status, want $want" "stderr: $(head -c 400 "$WORK/err")"
	elif [ -n "$out" ] && ! grep -Eq -- "$out" "$WORK/out"; then
		not_ok "$desc" "stdout lacks /$out/" "stdout: $(head -c 400 "$WORK/out")"
	elif [ -n "$err" ] && ! grep -Eq -- "$err" "$WORK/err"; then
		not_ok "$desc" "stderr lacks /$err/" "stderr: $(head -c 400 "$WORK/err")"
	else
		ok "$desc"
	fi
}

alive() { # a process that exists and is not a zombie (init may reap orphans late)
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# wait_until SECS CMD...: polls CMD every 50 ms until it succeeds (status 0)
# or SECS seconds have passed (status 1). Tests wait for a condition, never
# for a fixed time: the bound only keeps a broken run from hanging.
wait_until() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
has_line() { grep -Eq -- "$2" "$1" 2>/dev/null; } # has_line FILE REGEX
# fresh FILE...: empty the files a background run will write, in this shell
# before it starts (its own redirection truncates them only once it runs)
fresh() { local f; for f; do : >"$f"; done; }
guests_alive() { # how many of the user's pvmm-guest processes are alive
	local n=0 p
	for p in $(pgrep -u "$(id -u)" -x pvmm-guest); do alive "$p" && n=$((n + 1)); done
	echo $n
}
no_guests_alive() { [ "$(guests_alive)" = 0 ]; }
descendants() { # the processes below pid $1, recursively
	local c
	for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done
}
guests_among() { # how many of the pids given are pvmm-guest processes
	local p n=0
	for p in "$@"; do [ "$(cat /proc/$p/comm 2>/dev/null)" = pvmm-guest ] && n=$((n + 1)); done
	echo $n
}

no_guest_left() { # the guest processes of pvmm runs are gone
	local left="" p
	wait_until 10 no_guests_alive
	for p in $(pgrep -u "$(id -u)" -x pvmm-guest); do
		alive "$p" && left="$left $p"
	done
	if [ -z "$left" ]; then ok "$1: no guest process left"; else not_ok "$1: guest processes left: $left"; fi
}

# --- guests that finish --------------------------------------------------
run --stats="$WORK/hello.json" $G/hello.elf
expect "hello powers off with status 0" 0 '^Hello from a PV guest on Xen 4\.19\.0-pvmm!$'
expect "hello reports success" 0 '^Test result: SUCCESS$'
if grep -q '"console_io": 3' "$WORK/hello.json" && grep -q '"sched_op": 1' "$WORK/hello.json" &&
   grep -q '"hypercall": 6' "$WORK/hello.json" && grep -Eq '"mapped_pages": [1-9]' "$WORK/hello.json"; then
	ok "--stats counts hello's hypercalls and host mappings"
else
	not_ok "--stats counts hello's hypercalls and host mappings" "$(tr -d '\n' <"$WORK/hello.json")"
fi

run --cmdline="root=/dev/xvda console=hvc0" -m 32M $G/hello.elf
expect "--cmdline and --memory reach start_info" 0 "8192 pages, cmdline 'root=/dev/xvda console=hvc0'"

run $G/hcall.elf
expect "hypercall edge cases get Xen's errors" 0 '^Test result: SUCCESS$'
expect "memory_op: reservation, maximum RAM page, the M2P window, a one-region memory map" 0 \
	'^hcall: memory_op reports 16384 pages, the M2P window and one RAM region$'
expect "grant tables: query_size, setup_table (frames mapped and written), version 1, refusals" 0 \
	'^hcall: grant table of 4 frames set up, mapped and written; version 1$'
expect "VCPUOP_register_vcpu_info moves vcpu_info; events are flagged at the new place" 0 \
	"^hcall: vcpu_info moved to a page of the guest's; events flagged there$"

# --- the PV MMU, with the host mappings checked after every change ---------
run --check-invariants --stats="$WORK/pt.json" $G/pt-basic.elf
expect "pt-basic: tables built, switched and torn down by hypercall" 0 \
	'^pt-basic: switched to a new L4 and back$'
expect "pt-basic reports success" 0 '^Test result: SUCCESS$'
checks=$(grep -o '"invariant_checks": [0-9]*' "$WORK/pt.json" | grep -o '[0-9]*$')
if [ "${checks:-0}" -ge 20 ]; then ok "pt-basic: host mappings matched the tables at all $checks checks"
else not_ok "pt-basic: too few invariant checks" "$(tr -d '\n' <"$WORK/pt.json")"; fi

run --check-invariants --stats="$WORK/pta.json" $G/pt-attacks.elf
expect "pt-attacks: every attack refused, guest intact" 0 '^pt-attacks: every attack refused, guest intact$'
refusals=$(grep -c '^refused: ' "$WORK/out")
if [ "$refusals" -ge 30 ] && grep -q '"updates_refused": [1-9]' "$WORK/pta.json"; then
	ok "pt-attacks: $refusals attacks refused with Xen's errors"
else
	not_ok "pt-attacks: $refusals refusals" "$(tr -d '\n' <"$WORK/pta.json")"
fi

run --check-invariants $G/pt-write-no-assist.elf
expect "a store into a page table is a real fault that crashes the guest" 1 '' \
	'^pvmm: guest wrote to its L4 page-table frame 0x[0-9a-f]+ through 0x[0-9a-f]+ at rip'

# --- the P2M list, written on first use ------------------------------------
json_num() { grep -o "\"$2\": [0-9]*" "$1" | head -1 | grep -o '[0-9]*$'; }
for mem in 64M 4G; do
	run -m $mem --check-invariants --stats="$WORK/p2m-$mem.json" -c noalias $G/p2m.elf
	expect "p2m ($mem): hypercall-written, guest-written and sampled P2M frames all read right" \
		0 '^p2m: [0-9]+ entries across [0-9]+ pages match the M2P$'
	used=$(sed -n 's/^p2m: \([0-9]*\) of [0-9]* P2M frames used$/\1/p' "$WORK/out")
	fills=$(json_num "$WORK/p2m-$mem.json" deferred_fills)
	if [ -n "$used" ] && [ "$used" = "$fills" ]; then
		ok "p2m ($mem): pvmm wrote exactly the $used P2M frames the guest used"
	else
		not_ok "p2m ($mem): guest used ${used:-?} P2M frames, pvmm wrote ${fills:-?}"
	fi
	run -m $mem --check-invariants --stats="$WORK/p2m-$mem.json" $G/p2m.elf
	frames=$(sed -n 's/^p2m: [0-9]* of \([0-9]*\) P2M frames used$/\1/p' "$WORK/out")
	fills=$(json_num "$WORK/p2m-$mem.json" deferred_fills)
	if [ "$status" = 0 ] && grep -q '^p2m: frame [0-9]* read through a second mapping$' "$WORK/out" &&
	   [ -n "$frames" ] && [ "$frames" = "$fills" ]; then
		ok "p2m ($mem): an unread frame mapped twice: read right, the whole list ($frames frames) written at once"
	else
		not_ok "p2m ($mem) alias: status $status, $fills of ${frames:-?} frames written" "$(tail -3 "$WORK/out")"
	fi
done
run -m 4G --stats="$WORK/hello4g.json" --trace=fault $G/hello.elf
status4g=$status
fills=$(json_num "$WORK/hello4g.json" deferred_fills)
ops4g=$(tr -d '\n' <"$WORK/hello4g.json" | grep -o '"mmap": [0-9]*, "munmap": [0-9]*')
run -m 64M --stats="$WORK/hello64m.json" $G/hello.elf
ops64m=$(tr -d '\n' <"$WORK/hello64m.json" | grep -o '"mmap": [0-9]*, "munmap": [0-9]*')
if [ "$status4g" = 0 ] && [ "$status" = 0 ] && [ "$fills" = 0 ] && [ -n "$ops4g" ] &&
   [ "$ops4g" = "$ops64m" ]; then
	ok "a 4 GiB hello writes none of its 2048 P2M frames and makes the same host mappings as 64 MiB"
else
	not_ok "4 GiB hello: $fills P2M frames written; map ops $ops4g vs $ops64m"
fi
run -m 4G --trace=fault $G/p2m.elf
expect "--trace=fault shows a P2M frame written on first use" 0 '' 'why=p2m-fill outcome="P2M frame written on first use"'

for mode in emulate unhook auto; do
	run --ptwr=$mode --check-invariants --stats="$WORK/ptwr-$mode.json" $G/ptwr.elf
	cp "$WORK/out" "$WORK/ptwr-$mode.out"
	expect "ptwr passes in --ptwr=$mode with the host checked after every change" 0 \
		'^ptwr: wrote an L1 hooked nowhere, then hooked it$'
done
if cmp -s "$WORK/ptwr-emulate.out" "$WORK/ptwr-unhook.out" && cmp -s "$WORK/ptwr-emulate.out" "$WORK/ptwr-auto.out"; then
	ok "ptwr prints the same in all three modes"
else
	not_ok "ptwr output differs between modes"
fi
em=$(json_num "$WORK/ptwr-emulate.json" emulated); emu=$(json_num "$WORK/ptwr-emulate.json" unhooks)
empf=$(json_num "$WORK/ptwr-emulate.json" page_fault)
if [ "${em:-0}" -ge 1300 ] && [ "$emu" = 0 ] && [ "$empf" -ge "$em" ]; then
	ok "emulate: one real fault per store ($em stores emulated, $empf page faults, no unhooks)"
else
	not_ok "emulate mode counters" "emulated=$em unhooks=$emu page_faults=$empf"
fi
un=$(json_num "$WORK/ptwr-unhook.json" unhooks); unpf=$(json_num "$WORK/ptwr-unhook.json" page_fault)
unent=$(json_num "$WORK/ptwr-unhook.json" resync_entries)
if [ "${un:-0}" -ge 3 ] && [ "${unpf:-999}" -le 40 ] && [ "${unent:-0}" -ge 1280 ]; then
	ok "unhook: $unent entries resynced from $un unhooks at the cost of $unpf page faults"
else
	not_ok "unhook mode counters" "unhooks=$un page_faults=$unpf resync_entries=$unent"
fi
for mode in emulate unhook auto; do
	run --ptwr=$mode --check-invariants $G/ptwr-bad.elf
	expect "ptwr-bad is crashed in --ptwr=$mode, naming frame, index, value and rule" 1 '' \
		'L1 frame 0x[0-9a-f]+ entry 12 = 0x[0-9a-f]+ refused: a writable mapping of a page-table frame$'
done
run --ptwr=emulate $G/ptwr-bad.elf
expect "emulate refuses the bad entry at the store" 1 '' '^pvmm: store to a page table: '
run --ptwr=unhook $G/ptwr-bad.elf
expect "unhook refuses the bad entry at resync" 1 '' '^pvmm: resync of an out-of-sync page table: '
run --ptwr=sometimes $G/ptwr.elf; expect "a bad --ptwr is refused" 2 '' "bad --ptwr 'sometimes'"

run --ptwr=auto $G/bench.elf
lines=$(grep -c '^bench ' "$WORK/out")
expect "the benchmark guest runs (smoke test, no timing asserted)" 0 '^bench l1_rewrite 512 [0-9]+$'
[ "$lines" = 14 ] && ok "the benchmark guest reports all 14 figures" || not_ok "bench printed $lines figures"

# --- the xenstore -------------------------------------------------------------
run --check-invariants $G/xenstore.elf
expect "xenstore: reads, writes, watches, transactions and a value larger than the ring" 0 \
	'^xenstore: a 3000-byte value written and read through the 1024-byte rings$'
expect "xenstore: transactions commit, abort and conflict (EAGAIN)" 0 \
	'^xenstore: a transaction committed, one aborted, one refused with EAGAIN$'
run --trace=xenstore $G/xenstore.elf
expect "--trace=xenstore shows each request and its reply" 0 '' '^xenstore read +path=domid tx=0 reply=1$'
expect "--trace=xenstore shows errors by name" 0 '' '^xenstore read +path=data/nothing tx=0 error=ENOENT$'
run --trace=xenstore --trace-format=json $G/xenstore.elf
if [ "$status" = 0 ] && grep -q '"what":"transaction_end"' "$WORK/err" &&
   ! grep -v '^{"kind":"xenstore",.*}$' "$WORK/err" | grep -q .; then
	ok "--trace=xenstore --trace-format=json: every line a xenstore object"
else
	not_ok "xenstore JSON trace" "$(head -3 "$WORK/err")"
fi
for a in indices length flood; do
	case $a in
	indices) want="the guest's req_prod [0-9]+ is not within the ring" ;;
	length) want="a message of 100000 bytes" ;;
	flood) want="[0-9]+ bytes of replies wait for a guest that does not read them" ;;
	esac
	run --timeout=30 -c attack=$a $G/xenstore.elf
	if [ "$status" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -Eq "^pvmm: xenstore: $want" "$WORK/err"; then
		ok "xenstore attack '$a' ends the guest with one line ($(cut -c1-70 "$WORK/err"))"
	else
		not_ok "xenstore attack '$a'" "status $status" "$(cat "$WORK/out" "$WORK/err")"
	fi
done

# --- exceptions, modes and system calls -----------------------------------
run --check-invariants --stats="$WORK/traps.json" $G/traps.elf
expect "traps: every exception delivered in kernel mode" 0 '^traps: #PF not-present, write-protect and no-execute, with cr2$'
expect "traps: user mode with its own tables, system calls bounced, iret both ways" 0 \
	'^traps: user mode: system calls bounced, #PF with the user bit, #BP, #GP for a DPL 0 gate, int \$0x80$'
exc=$(json_num "$WORK/traps.json" exceptions); sc=$(json_num "$WORK/traps.json" guest_syscalls)
if [ "${exc:-0}" -ge 14 ] && [ "${sc:-0}" = 3 ]; then ok "traps: $exc exceptions delivered, $sc user system calls bounced"
else not_ok "traps counters" "exceptions=$exc guest_syscalls=$sc"; fi

run --check-invariants --stats="$WORK/privops.json" $G/privops.elf
expect "privops: control registers, forced cpuid, MSRs and segment bases emulated as Xen does" 0 \
	'^privops: flat segment loads, EFER, FS and GS bases, hlt$'
expect "privops: cli, sti, in, out, lgdt, lidt, invlpg get #GP" 0 '^Test result: SUCCESS$'
expect "privops: loads from the M2P and below mmap_min_addr are emulated" 0 '^privops: loads from the M2P table and from page 0 emulated$'
expect "privops: set_gdt and update_descriptor check descriptors and types" 0 '^privops: set_gdt and update_descriptor check every descriptor$'
expect "privops: non-canonical bases get #GP (wrmsr) and -EINVAL (set_segment_base), not a host error" 0 \
	'^privops: non-canonical FS, GS and shadow GS bases get #GP and -EINVAL, as on Xen$'
run -c upper-base $G/privops.elf
expect "privops: an upper-half FS base, which no process can have, crashes the domain (status 1)" 1 '' \
	'Xen would accept this canonical address, but a Linux process cannot have a segment base at or above 0x7ffffffff000'
pv=$(json_num "$WORK/privops.json" privops)
[ "${pv:-0}" -ge 15 ] && ok "privops: $pv privileged instructions emulated" || not_ok "privops counter: $pv"

run --check-invariants --timeout=60 --stats="$WORK/mk.json" $G/minikernel.elf
expect "minikernel: three processes preempted by the timer, paged on demand, all exit" 0 \
	'^minikernel: all 3 processes done: [1-9][0-9]* preemptions, [0-9]+ switches, 12 pages mapped on demand, logs interleaved [1-9][0-9]* times$'
ordered=1
for p in 0 1 2; do
	[ "$(grep -c "^P$p step" "$WORK/out")" = 4 ] && [ "$(grep "^P$p step" "$WORK/out" | awk '{print $3}' | tr -d '\n')" = 0123 ] || ordered=0
done
[ $ordered = 1 ] && ok "minikernel: every process logged its four steps in order" || not_ok "minikernel transcript" "$(cat "$WORK/out")"
irq=$(grep -o '"interrupt": [0-9]*' "$WORK/mk.json" | grep -o '[0-9]*$')
[ "${irq:-0}" -ge 3 ] && ok "minikernel: $irq timer interrupts reached the guest" || not_ok "minikernel interrupts: $irq"

echo "ping pong" | "$PVMM" --check-invariants --timeout=30 $G/events.elf >"$WORK/out" 2>"$WORK/err"
status=$?
expect "events: timers wake block and poll, channels, multicall" 0 '^events: block woke on VIRQ_TIMER after [0-9]+ ms of system time$'
expect "events: the console ring carries output and input" 0 '^events: console input was "PING PONG"$'
expect "events: the registered runstate area counts the time blocked" 0 '^events: the runstate area counted [0-9]+ ms blocked$'
expect "events: SCHEDOP_poll wakes when a masked polled port fires" 0 '^events: poll on a masked port woke when it fired$'
expect "events: output through the console ring reaches stdout" 0 '^events: hello through the console ring$'
run --timeout=30 $G/events.elf
expect "a guest blocked with nothing to wake it is crashed, not hung" 1 '' 'nothing could ever wake it'

# --- guests that fail ----------------------------------------------------
run $G/crash.elf
expect "a failed guest assertion crashes the domain (status 1)" 1 \
	'ASSERT FAILED at sample-guests/crash.c:7' '^pvmm: guest shut down with reason crash$'

run $G/fault.elf
expect "an unhandled page fault crashes the domain with the hardware facts" 1 '' \
	'^pvmm: guest page fault at 0x40000000: write of a not-present page at rip 0x[0-9a-f]+ in kernel mode \(vector 14, error code 0x2\) and no handler in its trap table$'

start=$(date +%s%N)
run --timeout=1 $G/spin.elf
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect "--timeout stops a guest that never stops (status 4)" 4 '^spin: looping forever$' '^pvmm: timeout'
# a bound, not a speed test: the run ended because of --timeout, not later
if [ "$elapsed" -lt 30000 ]; then ok "--timeout=1 took ${elapsed} ms"; else not_ok "--timeout=1 took ${elapsed} ms"; fi
no_guest_left "timeout"

# --- signals and lifecycle ----------------------------------------------
for sig in TERM INT HUP; do
	fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
	"$PVMM" $G/spin.elf >"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	wait_until 60 has_line "$WORK/out" '^spin: looping forever$'
	kill -$sig $pid
	wait $pid
	status=$?
	expect "SIG$sig stops the guest (status 7)" 7 '' "^pvmm: interrupted: the guest was stopped by SIG$sig"
	no_guest_left "SIG$sig"
done

# a guest that watches control/shutdown is asked first, as xl shutdown asks
fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
"$PVMM" -c wait=shutdown $G/xenstore.elf >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
wait_until 60 has_line "$WORK/out" '^xenstore: waiting'
kill -TERM $pid; wait $pid; status=$?
expect "SIGTERM to a guest that watches control/shutdown: it is asked, powers off (status 0)" 0 \
	'^xenstore: asked to poweroff$'
for mode in grace second zero; do
	case $mode in
	grace) args="--shutdown-grace=1" want="did not shut down within 1 s of SIGTERM" ;;
	second) args="--shutdown-grace=30" want="stopped by SIGINT" ;;
	zero) args="--shutdown-grace=0" want="stopped by SIGTERM" ;;
	esac
	start=$(date +%s%N)
	fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
	"$PVMM" $args -c wait=ignore $G/xenstore.elf >"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	wait_until 60 has_line "$WORK/out" '^xenstore: waiting'
	kill -TERM $pid
	# the second signal only once pvmm has asked the guest, so that the two
	# cannot arrive together (the lower-numbered SIGINT would come first)
	[ $mode = second ] && { wait_until 60 has_line "$WORK/err" 'asked the guest to power off'; kill -INT $pid; }
	wait $pid; status=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $status = 7 ] && grep -q "$want" "$WORK/err" && [ $ms -lt 60000 ]; then
		ok "shutdown $mode ($args): status 7, '$want' (${ms} ms)"
	else
		not_ok "shutdown $mode" "status $status, ${ms} ms" "$(cat "$WORK/err")"
	fi
done
no_guest_left "shutdown requests"
run --shutdown-grace=soon $G/hello.elf
expect "a bad --shutdown-grace is refused" 2 '' "bad --shutdown-grace 'soon'"

fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
"$PVMM" $G/spin.elf >"$WORK/out" 2>&1 </dev/null &
pid=$!
wait_until 60 has_line "$WORK/out" '^spin: looping forever$'
guest=$(pgrep -P $pid -x pvmm-guest || true)
kill -KILL $pid
wait $pid 2>/dev/null
guest_gone() { [ -n "$guest" ] && ! alive "$guest"; }
wait_until 10 guest_gone
if [ -n "$guest" ] && ! alive "$guest"; then
	ok "kill -9 of pvmm takes its guest process (pid $guest) with it"
else
	not_ok "kill -9 of pvmm takes its guest process with it" "guest pid '${guest}'"
fi

# --- the guest process is confined --------------------------------------
fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
"$PVMM" $G/spin.elf >"$WORK/out" 2>&1 </dev/null &
pid=$!
wait_until 60 has_line "$WORK/out" '^spin: looping forever$'
guest=$(pgrep -P $pid -x pvmm-guest || true)
if [ -n "$guest" ]; then
	fds=$(ls /proc/"$guest"/fd 2>/dev/null | tr '\n' ' ')
	seccomp=$(awk '/^Seccomp:/ {print $2}' /proc/"$guest"/status)
	lower=$(awk '{ split($1, a, "-"); if (length(a[1]) < 12 || a[1] < "7f8000000000") print }' /proc/"$guest"/maps | grep -v "pvmm-guest-memory" | head -3)
	if [ "$fds" = "3 " ]; then ok "the guest process holds only the guest memory fd"; else not_ok "guest fds: $fds"; fi
	if [ "$seccomp" = 2 ]; then ok "the guest process runs under a seccomp filter"; else not_ok "seccomp mode '$seccomp'"; fi
	if [ -z "$lower" ]; then ok "only guest memory is mapped below the hole"; else not_ok "foreign mappings below the hole" "$lower"; fi
else
	not_ok "guest process of pvmm $pid not found"
fi
kill -TERM $pid; wait $pid 2>/dev/null

# --- debugging tools ------------------------------------------------------
"$PVMM" --ptwr=unhook --trace=pt --trace-format=json --trace-file="$WORK/pt.json" \
	--stats="$WORK/pt-stats.json" $G/ptwr.elf >/dev/null 2>&1
count() { grep -c "\"what\":\"$1\"" "$WORK/pt.json"; }
st_em=$(json_num "$WORK/pt-stats.json" emulated); st_un=$(json_num "$WORK/pt-stats.json" unhooks)
st_rs=$(grep -o '"resyncs": {[^}]*}' "$WORK/pt-stats.json" | grep -o '[0-9]\+' | awk '{s+=$1} END {print s}')
if [ "$(count emulate)" = "$st_em" ] && [ "$(count unhook)" = "$st_un" ] && [ "$(count resync)" = "$st_rs" ]; then
	ok "JSON trace events match --stats (emulate $st_em, unhook $st_un, resync $st_rs)"
else
	not_ok "JSON trace vs stats" "trace: $(count emulate)/$(count unhook)/$(count resync) stats: $st_em/$st_un/$st_rs"
fi
nosym=$(grep -c '"sym":"0x' "$WORK/pt.json" || true)
lines=$(wc -l <"$WORK/pt.json")
if [ "$lines" -gt 0 ] && [ "$nosym" = 0 ] && ! grep -qv '^{"kind":"pt".*}$' "$WORK/pt.json"; then
	ok "all $lines JSON trace lines are objects with a symbolised rip"
else
	not_ok "JSON trace lines" "$nosym without symbols of $lines"
fi
"$PVMM" --pidfile="$WORK/pid" $G/spin.elf >/dev/null 2>&1 </dev/null &
pid=$!
wait_until 60 test -s "$WORK/pid"
if [ -s "$WORK/pid" ] && [ "$(cat /proc/"$(cat "$WORK/pid")"/comm 2>/dev/null)" = pvmm-guest ]; then
	ok "--pidfile names the pvmm-guest process"
else
	not_ok "--pidfile" "$(cat "$WORK/pid" 2>/dev/null)"
fi
kill -TERM $pid; wait $pid 2>/dev/null
# Every example in README.md and docs/*.md runs as written: each indented
# "$ COMMAND" runs (build/ meaning $B/), its status is 0 or 1, and what it
# prints (stdout and stderr) matches the lines shown under it, indented
# like it, up to a blank line or the next "$ ". "..." in a shown line
# stands for any text; a shown line that is only "..." for any lines.
doc_glob() { # the shown line as a bash pattern: only "..." is special
	local l=$1 p="" c
	while [ -n "$l" ]; do
		if [ "${l:0:3}" = ... ]; then p+="*"; l=${l:3}; continue; fi
		c=${l:0:1}; l=${l:1}
		case $c in [][*?\\]) p+="\\$c" ;; *) p+=$c ;; esac
	done
	printf '%s' "$p"
}
# doc_match: the shown lines in $want[] against $got[]; 0, or 1 with the
# first shown line that does not match in $miss and what was printed there in $saw
doc_match() {
	local i=0 j=0 gap=0 nw=${#want[@]} ng=${#got[@]} k len m
	while [ $i -lt $nw ]; do
		if [ "${want[i]}" = ... ]; then gap=1; i=$((i + 1)); continue; fi
		len=0
		while [ $((i + len)) -lt $nw ] && [ "${want[i + len]}" != ... ]; do len=$((len + 1)); done
		for ((k = j; k + len <= ng; k++)); do
			for ((m = 0; m < len; m++)); do
				[[ ${got[k + m]} == $(doc_glob "${want[i + m]}") ]] || break
			done
			[ $m = $len ] && break
			if [ $gap = 0 ]; then miss=${want[i + m]}; saw=${got[k + m]-(no more output)}; return 1; fi
		done
		if [ $((k + len)) -gt $ng ]; then miss=${want[i]}; saw="(no line matches from line $((j + 1)) on)"; return 1; fi
		j=$((k + len)) i=$((i + len)) gap=0
	done
	if [ $gap = 0 ] && [ $j -lt $ng ]; then miss="(end of the example)"; saw=${got[j]}; return 1; fi
	return 0
}
# doc_examples FILE: "CMD<TAB>..." then the shown lines, one example per NUL-ended record
doc_examples() {
	awk '
	function flush() { if (cmd != "") printf "%s%c", out, 0; cmd = "" }
	{
		if (cmd != "" && ($0 == "" || index($0, ind "$ ") == 1 || index($0, ind) != 1)) flush()
		if (match($0, /^ +\$ /)) { ind = substr($0, 1, RLENGTH - 2); cmd = substr($0, RLENGTH + 1); out = cmd; next }
		if (cmd != "") out = out "\n" substr($0, length(ind) + 1)
	}
	END { flush() }' "$1"
}
ndoc=0
for doc in "$README_DIR"/README.md "$README_DIR"/docs/*.md; do
	[ -f "$doc" ] || continue
	name=${doc#"$README_DIR"/}
	while IFS= read -r -d '' ex; do
		ndoc=$((ndoc + 1))
		cmd=${ex%%$'\n'*}
		want=()
		[ "$ex" != "$cmd" ] && mapfile -t want <<<"${ex#*$'\n'}"
		out=$(cd "$README_DIR" && TMPDIR="$WORK" timeout 120 bash -c "${cmd//build\//$B/}" 2>&1); rc=$?
		got=()
		[ -n "$out" ] && mapfile -t got <<<"$out"
		if [ $rc != 0 ] && [ $rc != 1 ]; then not_ok "$name: example runs: $cmd" "status $rc" "$out"
		elif ! doc_match; then not_ok "$name: example prints what it shows: $cmd" "shown:   $miss" "printed: $saw"
		else ok "$name: example runs and prints what it shows: $cmd"; fi
	done < <(doc_examples "$doc")
done
[ $ndoc -ge 6 ] || not_ok "documented examples found: $ndoc"

# --- gdb, the real one, in batch mode --------------------------------------
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

# --- pvmm test: the suite runner -------------------------------------------
"$PVMM" test -j 2 --result-regex='Test result: ' $G/hello.elf $G/hcall.elf $G/pt-basic.elf \
	$G/pt-attacks.elf $G/ptwr.elf $G/traps.elf $G/privops.elf $G/minikernel.elf >"$WORK/out" 2>&1
status=$?
expect "pvmm test: the sample guests all pass" 0 '^8 passed, 0 failed, 0 skipped$'
nguests=$(ls $G/*.elf | wc -l)
"$PVMM" test --result-regex='Test result: ' $G >"$WORK/out" 2>&1
status=$?
expect "pvmm test of the whole guest directory: the $nguests guests pass, those built to fail failing as their .cfg expects" \
	0 "^$nguests passed, 0 failed, 0 skipped\$"
mkdir -p "$WORK/expect"
cp $G/hello.elf $G/crash.elf $G/spin.elf "$WORK/expect/"
printf 'expect = crash\n' >"$WORK/expect/hello.cfg"
printf 'expect = crash\nexpect_log = "no such line"\n' >"$WORK/expect/crash.cfg"
printf 'timeout = 1\nexpect = timeout\nexpect_log = "looping forever"\n' >"$WORK/expect/spin.cfg"
chmod -R a+rX "$WORK/expect"
"$PVMM" test "$WORK/expect" >"$WORK/out" 2>&1
status=$?
if [ $status = 1 ] && grep -Eq '^\[.*hello +FAIL .*pvmm exit status 0, expected 1' "$WORK/out" &&
   grep -Eq 'crash +FAIL .*no line of its log matches expect_log' "$WORK/out" && grep -Eq '^spin +PASS' "$WORK/out"; then
	ok "pvmm test: expect and expect_log decide for guests built to fail"
else
	not_ok "pvmm test expect" "status $status" "$(cat "$WORK/out")"
fi
printf 'expect = explode\n' >"$WORK/expect/hello.cfg"
"$PVMM" test "$WORK/expect" >"$WORK/out" 2>&1
status=$?
expect "pvmm test: a bad expect value makes that guest an ERROR, naming the line; the others run" 1 \
	"hello +ERROR .*expect/hello.cfg:1: expect is poweroff, crash, timeout or reboot"
grep -Eq '^spin +PASS' "$WORK/out" && ok "pvmm test: the guests with a good .cfg still run" || not_ok "bad cfg others" "$(cat "$WORK/out")"
mkdir -p "$WORK/mixed"
cp $G/hello.elf $G/crash.elf $G/fault.elf $G/spin.elf "$WORK/mixed/"
printf 'timeout = 1\n' >"$WORK/mixed/spin.cfg"
printf '# xl style\nname = "hello"\nmemory = 32\ncmdline = "console=hvc0"\npvmm_options = "--ptwr=emulate"\n' >"$WORK/mixed/hello.cfg"
chmod -R a+rX "$WORK/mixed"
"$PVMM" test -j 4 --result-regex='Test result: ' --junit="$WORK/report.xml" --keep="$WORK/kept" \
	--trace-failures "$WORK/mixed" >"$WORK/out" 2>&1
status=$?
expect "pvmm test: a mixed directory fails (status 1) with each outcome right" 1 '^1 passed, 3 failed, 0 skipped$'
if grep -Eq '^crash +ERROR' "$WORK/out" && grep -Eq '^fault +FAIL' "$WORK/out" &&
   grep -Eq '^spin +TIMEOUT' "$WORK/out" && grep -Eq '^hello +PASS' "$WORK/out"; then
	ok "pvmm test: PASS, ERROR (from the result line), FAIL (a crash), TIMEOUT"
else
	not_ok "pvmm test outcomes" "$(cat "$WORK/out")"
fi
x="$WORK/report.xml"
if head -1 "$x" | grep -q '^<?xml' && tail -1 "$x" | grep -q '^</testsuites>$' &&
   grep -q 'tests="4" failures="1" errors="2" skipped="0"' "$x" &&
   [ "$(grep -c '<testcase ' "$x")" = 4 ] && [ "$(grep -c '</testcase>' "$x")" = 4 ] &&
   grep -q "8192 pages, cmdline 'console=hvc0'" "$x" && grep -q 'ASSERT FAILED at sample-guests/crash.c:7' "$x"; then
	ok "pvmm test: JUnit with 4 testcases, the consoles, and the .cfg applied"
else
	not_ok "pvmm test JUnit" "$(head -c 600 "$x")"
fi
if [ -s "$WORK/kept/crash.console" ] && [ -s "$WORK/kept/fault.console" ] && [ -e "$WORK/kept/spin.trace" ] &&
   [ ! -e "$WORK/kept/hello.console" ]; then
	ok "pvmm test: failing guests' consoles and traces kept, passing ones not"
else
	not_ok "pvmm test --keep" "$(ls "$WORK/kept" 2>&1)"
fi
"$PVMM" test --tap --result-regex='Test result: ' "$WORK/mixed" >"$WORK/out" 2>&1
status=$?
if [ $status = 1 ] && grep -q '^TAP version 13$' "$WORK/out" && grep -q '^1\.\.4$' "$WORK/out" &&
   [ "$(grep -c '^not ok ' "$WORK/out")" = 3 ] && grep -q '^ok [0-9] - hello$' "$WORK/out"; then
	ok "pvmm test --tap: TAP 13, plan 1..4, three not ok"
else
	not_ok "pvmm test --tap" "$(cat "$WORK/out")"
fi
mkdir -p "$WORK/par"
for i in 1 2 3 4; do cp $G/spin.elf "$WORK/par/spin$i.elf"; printf 'timeout = 1\n' >"$WORK/par/spin$i.cfg"; done
chmod -R a+rX "$WORK/par"
# -j 4 runs the four at once: while it runs, four guest processes are seen
# together (counted, not timed); -j 1 never has more than one
most_guests() { # most_guests CMD...: runs CMD, prints the most of its pvmm-guests seen at once
	local most=0 n pid
	"$@" >/dev/null 2>&1 &
	pid=$!
	while alive $pid; do
		n=$(guests_among $(descendants $pid))
		[ "$n" -gt "$most" ] && most=$n
		sleep 0.02
	done
	wait $pid
	echo $most
}
for i in 1 2 3 4; do printf 'timeout = 5\n' >"$WORK/par/spin$i.cfg"; done
j4=$(most_guests "$PVMM" test -j 4 "$WORK/par")
for i in 1 2 3 4; do printf 'timeout = 1\n' >"$WORK/par/spin$i.cfg"; done
j1=$(most_guests "$PVMM" test -j 1 "$WORK/par")
[ "$j4" = 4 ] && [ "$j1" = 1 ] && ok "pvmm test -j 4 runs four guests at once, -j 1 one at a time" ||
	not_ok "pvmm test -j: at most $j4 guests at once with -j 4, $j1 with -j 1"
"$PVMM" test "$WORK/nothing-here" >"$WORK/out" 2>&1; status=$?
expect "pvmm test: a missing path is a usage error" 2 'nothing-here'
"$PVMM" test --stop-grace=soon $G/hello.elf >"$WORK/out" 2>&1; status=$?
expect "pvmm test: a bad --stop-grace is a usage error" 2
# one line naming the argument (they printed the whole usage, and -j 2x was -j 2)
for a in "-j 0" "-j 2x" "-t 0" "--result-regex=(" --frobnicate; do
	"$PVMM" test $a $G/hello.elf >"$WORK/out" 2>"$WORK/err"; status=$?
	if [ $status = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && [ ! -s "$WORK/out" ] &&
	   grep -qF -- "${a%%[ =]*}" "$WORK/err"; then
		ok "pvmm test $a: one line naming it: $(cat "$WORK/err")"
	else
		not_ok "pvmm test $a" "status $status" "$(head -3 "$WORK/err")"
	fi
done
# outputs checked before any guest runs (they ran everything, then status 0)
for a in --junit=/nonexistent/r.xml --keep=/nonexistent/dir; do
	"$PVMM" test "$a" $G/hello.elf >"$WORK/out" 2>"$WORK/err"; status=$?
	expect "pvmm test $a: status 2 before any guest runs" 2 '' "^pvmm test: ${a}: No such file or directory\$"
	[ ! -s "$WORK/out" ] || not_ok "pvmm test $a ran guests" "$(head -3 "$WORK/out")"
done


# --- xl configuration files: `pvmm guest.cfg`, as `xl create guest.cfg` ----
# one reader (vmm/xlcfg.c) for pvmm and pvmm test: xl's syntax and keys,
# paths relative to the .cfg's folder, the options given overriding it
mkdir -p "$WORK/xl/cfgs" "$WORK/xl/kernels"
cp $G/hello.elf $G/ramdisk.elf "$WORK/xl/kernels/"
cp $G/xenstore.elf "$WORK/xl/kernels/store-copy.elf"
printf 'Hello from the initial ramdisk\nsecond line\n' >"$WORK/xl/cfgs/rd.txt"
xl() { printf "$2" >"$WORK/xl/cfgs/$1"; chmod -R a+rX "$WORK/xl"; }
xl hello.cfg '# xl syntax\nname = "greeter"; vcpus = 1\nkernel = "../kernels/hello.elf"\nmemory = 32\nroot = "/dev/xvda1"\nextra = '"'"'ro quiet'"'"'\non_crash = "destroy"\ntype = "pv"\n'
run "$WORK/xl/cfgs/hello.cfg"
expect "pvmm guest.cfg: kernel relative to the .cfg, memory in MiB, the command line composed as xl does" \
	0 "8192 pages, cmdline 'root=/dev/xvda1 ro quiet'"
[ ! -s "$WORK/err" ] && ok "pvmm guest.cfg: a clean config, not a line on stderr" || not_ok "xl clean stderr" "$(cat "$WORK/err")"
run --memory=16 --cmdline=given "$WORK/xl/cfgs/hello.cfg"
expect "pvmm --memory=16 --cmdline=given guest.cfg: the options override the file" 0 "4096 pages, cmdline 'given'"
xl cmdline.cfg 'kernel = "../kernels/hello.elf"\ncmdline = "console=hvc0"\nroot = "/dev/xvda"\n'
run "$WORK/xl/cfgs/cmdline.cfg"
expect "guest.cfg: cmdline wins over root and extra, with xl's warning" 0 "cmdline 'console=hvc0'" \
	'cmdline.cfg:2: root and extra ignored in favour of cmdline'
xl bad.cfg 'kernel = "../kernels/hello.elf"\n\nmemory = "lots"\n'
run "$WORK/xl/cfgs/bad.cfg"
expect "guest.cfg: a bad value is status 2 naming the file, the line and the key" 2 '' \
	"^pvmm: $WORK/xl/cfgs/bad.cfg:3: memory: 'lots' is not a number of MiB"
[ "$(wc -l <"$WORK/err")" = 1 ] && ok "guest.cfg: the bad value is one line" || not_ok "xl bad value lines" "$(cat "$WORK/err")"
xl unknown.cfg 'kernel = "../kernels/hello.elf"\n# a typo\n\n\nexpext = "crash"\n'
run "$WORK/xl/cfgs/unknown.cfg"
expect "guest.cfg: an unknown key is one warning line and the guest runs" 0 'Test result: SUCCESS' \
	"^pvmm: $WORK/xl/cfgs/unknown.cfg:5: unknown key 'expext' ignored\$"
[ "$(wc -l <"$WORK/err")" = 1 ] && ok "guest.cfg: the unknown key is one line" || not_ok "xl unknown lines" "$(cat "$WORK/err")"
xl vcpus.cfg 'kernel = "../kernels/hello.elf"\nvcpus = 2\n'
run "$WORK/xl/cfgs/vcpus.cfg"
expect "guest.cfg: vcpus = 2 is status 2: pvmm runs one vCPU" 2 '' 'vcpus.cfg:2: vcpus: 2: pvmm runs one vCPU'
"$PVMM" test --keep="$WORK/xl/kept" "$WORK/xl/cfgs/vcpus.cfg" >"$WORK/out" 2>"$WORK/err"; status=$?
expect "pvmm test --keep: a .cfg it cannot honour is that guest's ERROR (1), with no log to keep" 1 \
	'\] vcpus +ERROR .*vcpus.cfg:2: vcpus: 2: pvmm runs one vCPU'
xl devices.cfg 'kernel = "../kernels/hello.elf"\ndisk = [ "phy:/dev/vg/guest,xvda,w",\n         "file:/tmp/b.img,xvdb,r" ]\nvif = [ "bridge=xenbr0" ]\n'
run "$WORK/xl/cfgs/devices.cfg"
expect "guest.cfg: disk and vif (a list over two lines) are a warning each; the guest runs" 0 'Test result: SUCCESS' \
	'devices.cfg:2: disk: virtual disks are not supported yet'
grep -q 'devices.cfg:4: vif: virtual network interfaces are not supported yet' "$WORK/err" && [ "$(wc -l <"$WORK/err")" = 2 ] &&
	ok "guest.cfg: the vif warning, one line each" || not_ok "xl vif warning" "$(cat "$WORK/err")"
xl hvm.cfg 'kernel = "../kernels/hello.elf"\ntype = "hvm"\n'
run "$WORK/xl/cfgs/hvm.cfg"
expect "guest.cfg: type = hvm is status 2" 2 '' "hvm.cfg:2: type: 'hvm': pvmm runs PV guests only"
xl syntax.cfg 'kernel = "../kernels/hello.elf"\nmemory = 32 64\n'
run "$WORK/xl/cfgs/syntax.cfg"
expect "guest.cfg: a syntax error is status 2 naming the line" 2 '' 'syntax.cfg:2: memory: one value per key'
xl ramdisk.cfg 'kernel = "../kernels/ramdisk.elf"\nramdisk = "rd.txt"\n'
abs_pvmm=$(cd "$(dirname "$PVMM")" && pwd)/$(basename "$PVMM")
(cd / && "$abs_pvmm" "$WORK/xl/cfgs/ramdisk.cfg" >"$WORK/out" 2>"$WORK/err" </dev/null); status=$?
expect "guest.cfg: ramdisk relative to the .cfg is loaded after the kernel and read back through start_info" 0 \
	"module first line: 'Hello from the initial ramdisk'"
grep -q 'mod_len 4096, flags 0x0' "$WORK/out" && grep -q '43 bytes before the first NUL, checksum 9db84b8c' "$WORK/out" &&
	ok "ramdisk: mod_start virtual, mod_len the whole pages, every byte read back (checksum)" ||
	not_ok "ramdisk read back" "$(cat "$WORK/out")"
run --ramdisk="$WORK/xl/cfgs/rd.txt" $G/ramdisk.elf
expect "--ramdisk=FILE without a .cfg" 0 "module first line: 'Hello from the initial ramdisk'"
run $G/ramdisk.elf
expect "the ramdisk guest without a ramdisk: mod_start 0, it fails" 1 'mod_start 0x0, mod_len 0'
run --ramdisk="$WORK/xl/none" $G/ramdisk.elf
expect "--ramdisk of a missing file is status 2" 2 '' 'ramdisk .*/xl/none: No such file'
xl named.cfg 'kernel = "../kernels/store-copy.elf"\nname = "xenstore"\n'
run "$WORK/xl/cfgs/named.cfg"
expect "guest.cfg: name is the domain's xenstore name" 0 '/local/domain/1/name = xenstore'
run --name=xenstore "$WORK/xl/kernels/store-copy.elf"
expect "--name=NAME sets the xenstore name" 0 '/local/domain/1/name = xenstore'
run "$WORK/xl/kernels/store-copy.elf"
expect "without a name the image's file name is the xenstore name" 1 'read name: got store-copy, want xenstore'
xl guestconf 'kernel = "../kernels/hello.elf"\nextra = "by-content"\n'
run "$WORK/xl/cfgs/guestconf"
expect "a config without .cfg, found by its content (not ELF, a kernel key)" 0 "cmdline 'by-content'"
# pvmm test: xl .cfg files as units of their own, and NAME.cfg beside NAME.elf
mkdir -p "$WORK/xl/suite"
printf 'kernel = "../kernels/hello.elf"\nextra = "from-extra"\n' >"$WORK/xl/suite/test-a.cfg"
printf 'kernel = "../kernels/ramdisk.elf"\nramdisk = "../cfgs/rd.txt"\nexpect_log = "module first line: .Hello from the initial ramdisk."\n' \
	>"$WORK/xl/suite/test-b~variant.cfg"
cp $G/hello.elf "$WORK/xl/suite/beside.elf"
printf 'extra = "xl-extra"\npvmm_options = "--ptwr=emulate"\n' >"$WORK/xl/suite/beside.cfg"
chmod -R a+rX "$WORK/xl"
"$PVMM" test --result-regex='Test result: ' --junit="$WORK/xl/report.xml" --tap "$WORK/xl/suite" >"$WORK/out" 2>"$WORK/err"
status=$?
expect "pvmm test DIR: *.cfg files are units (kernel relative to them), NAME.cfg beside NAME.elf is not" 0 '^1\.\.3$'
grep -q '^ok 1 - beside$' "$WORK/out" && grep -q '^ok 2 - test-a$' "$WORK/out" && grep -q '^ok 3 - test-b~variant$' "$WORK/out" &&
   grep -q "cmdline 'from-extra'" "$WORK/xl/report.xml" && grep -q "cmdline 'xl-extra'" "$WORK/xl/report.xml" &&
	ok "pvmm test: units named after their .cfg (test-b~variant), extra is the kernel's command line as in xl" ||
	not_ok "pvmm test cfg units" "$(cat "$WORK/out" "$WORK/err")"
"$PVMM" test --result-regex='Test result: ' "$WORK/xl/suite/test-a.cfg" "$WORK/xl/suite/beside.elf" >"$WORK/out" 2>"$WORK/err"
status=$?
expect "pvmm test a.cfg b.elf: named .cfg files are units too" 0 '^2 passed, 0 failed, 0 skipped$'
for t in 0 soon -5; do
	printf 'kernel = "../kernels/hello.elf"\n\ntimeout = %s\n' "$t" >"$WORK/xl/suite/test-a.cfg"
	"$PVMM" test "$WORK/xl/suite" >"$WORK/out" 2>"$WORK/err"
	status=$?
	expect "pvmm test: timeout = $t in a .cfg is an ERROR naming file:line, never 0" 1 \
		"test-a +ERROR .*test-a.cfg:3: timeout: '$t' is not a positive number of seconds"
done
printf 'kernel = "../kernels/hello.elf"\nexpext = 1\n' >"$WORK/xl/suite/test-a.cfg"
"$PVMM" test "$WORK/xl/suite" >"$WORK/out" 2>"$WORK/err"
status=$?
expect "pvmm test: an unknown key in a .cfg is a warning, the guest runs" 0 '^3 passed' "test-a.cfg:2: unknown key 'expext' ignored"
# --- pvmm test interrupted: no process outlives the runner ---------------------
left_of() { # those of the pids given still alive
	local p
	for p in "$@"; do alive "$p" && printf ' %s' "$p"; done
}
xml_ok() { # well-formed XML, by whichever checker there is
	if command -v python3 >/dev/null; then python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1"
	elif command -v xmllint >/dev/null; then xmllint --noout "$1"
	else head -1 "$1" | grep -q '^<?xml' && tail -1 "$1" | grep -q '^</testsuites>$'; fi
}
# suite_start DIR ARGS...: pvmm test -j 2 on DIR, its workdir under $WORK/tmp;
# returns once two guest processes run below it, their ancestry in $procs
suite_start() {
	local dir=$1 w
	shift
	rm -rf "$WORK/tmp" && mkdir -p "$WORK/tmp"
	fresh "$WORK/out" "$WORK/err" # no line of an earlier run may satisfy a wait
	TMPDIR="$WORK/tmp" "$PVMM" test -j 2 "$@" "$dir" >"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	two_guests() { procs=$(descendants $pid); [ "$(guests_among $procs)" -ge 2 ]; }
	wait_until 60 two_guests
}
mkdir -p "$WORK/forever"
for i in 1 2 3; do cp $G/spin.elf "$WORK/forever/spin$i.elf"; done
chmod -R a+rX "$WORK/forever"
for sig in TERM INT HUP; do
	report=--junit="$WORK/int.xml"
	[ $sig = INT ] && report="$report --tap"
	rm -f "$WORK/int.xml"
	suite_start "$WORK/forever" -t 300 $report
	started=$(guests_among $procs)
	kill -$sig $pid
	wait $pid; status=$?
	left=$(left_of $procs)
	x="$WORK/int.xml"
	if [ $status = 7 ] && [ "$started" = 2 ] && [ -z "$left" ] && grep -q "interrupted by SIG$sig: stopping 2 running guests" "$WORK/err" &&
	   [ -z "$(ls -A "$WORK/tmp")" ]; then
		ok "pvmm test: SIG$sig stops both running guests, status 7, none of its $(echo $procs | wc -w) processes left, no file left"
	else
		not_ok "pvmm test SIG$sig" "status $status, $started guests started, left:$left" "$(cat "$WORK/err")" "$(ls -A "$WORK/tmp")"
	fi
	if xml_ok "$x" && grep -q 'tests="3" failures="0" errors="2" skipped="1"' "$x" &&
	   [ "$(grep -c 'type="INTERRUPTED"' "$x")" = 2 ] && grep -q "<skipped message=\"not run: pvmm test was interrupted by SIG$sig\"/>" "$x" &&
	   grep -q "stopped by SIGTERM to pvmm" "$x"; then
		ok "pvmm test: after SIG$sig the JUnit is well-formed, 2 errors of type INTERRUPTED, 1 skipped as not run"
	else
		not_ok "pvmm test SIG$sig JUnit" "$(head -c 800 "$x" 2>&1)"
	fi
	if [ $sig = INT ]; then
		if grep -q '^1\.\.3$' "$WORK/out" && [ "$(grep -c '^not ok [12] - spin[12]$' "$WORK/out")" = 2 ] &&
		   grep -q '^  outcome: INTERRUPTED$' "$WORK/out" &&
		   grep -q '^ok 3 - spin3 # SKIP not run: pvmm test was interrupted$' "$WORK/out" &&
		   [ "$(tail -1 "$WORK/out")" = 'Bail out! pvmm test was interrupted by SIGINT' ]; then
			ok "pvmm test --tap after SIGINT: 2 not ok (INTERRUPTED), 1 SKIP, Bail out!"
		else
			not_ok "pvmm test --tap after SIGINT" "$(cat "$WORK/out")"
		fi
	elif grep -Eq '^spin1 +INTERRUPTED ' "$WORK/out" && grep -Eq '^spin3 +NOTRUN ' "$WORK/out" &&
	     grep -q "^0 passed, 0 failed, 0 skipped, 2 interrupted, 1 not run (pvmm test was interrupted by SIG$sig)\$" "$WORK/out"; then
		ok "pvmm test: after SIG$sig the table marks the guests INTERRUPTED and NOTRUN"
	else
		not_ok "pvmm test SIG$sig table" "$(cat "$WORK/out")"
	fi
done

# guests that ignore a shutdown request, with pvmm given a long grace: the
# runner's SIGTERM leaves them running; a second signal, or 2 s, kills them
mkdir -p "$WORK/deaf"
for i in 1 2; do
	cp $G/xenstore.elf "$WORK/deaf/deaf$i.elf"
	printf 'cmdline = "wait=ignore"\npvmm_options = "--shutdown-grace=300"\n' >"$WORK/deaf/deaf$i.cfg"
done
chmod -R a+rX "$WORK/deaf"
for how in second deadline; do
	# --stop-grace: the second signal must come before the runner's deadline
	grace=--stop-grace=300; [ $how = deadline ] && grace=--stop-grace=2
	suite_start "$WORK/deaf" -t 300 $grace --junit="$WORK/int.xml"
	both_wait() { [ "$(cat "$WORK"/tmp/pvmm-test.*/*.log 2>/dev/null | grep -c '^xenstore: waiting')" = 2 ]; }
	wait_until 60 both_wait
	kill -TERM $pid
	if [ $how = second ]; then
		wait_until 60 has_line "$WORK/err" 'stopping 2 running guests'
		kill -INT $pid
		want="a second signal: killing the 2 guests left"
	else
		want="still running 2 s after SIGTERM: killing the 2 guests left"
	fi
	wait $pid; status=$?
	left=$(left_of $procs)
	if [ $status = 7 ] && [ -z "$left" ] && grep -q "$want" "$WORK/err" && xml_ok "$WORK/int.xml" &&
	   [ "$(grep -c 'type="INTERRUPTED"' "$WORK/int.xml")" = 2 ]; then
		ok "pvmm test: guests deaf to SIGTERM are killed ($how), status 7, none of its processes left"
	else
		not_ok "pvmm test deaf guests ($how)" "status $status, left:$left" "$(cat "$WORK/err")"
	fi
done

# kill -9 of the runner: its children die with it (PR_SET_PDEATHSIG), and
# their guests with them
suite_start "$WORK/forever" -t 300
started=$(guests_among $procs)
kill -KILL $pid
wait $pid 2>/dev/null
none_left() { [ -z "$(left_of $procs)" ]; }
wait_until 10 none_left
left=$(left_of $procs)
if [ "$started" = 2 ] && [ -n "$procs" ] && [ -z "$left" ]; then
	ok "kill -9 of pvmm test takes its $(echo $procs | wc -w) processes (pvmm and guests) with it"
else
	not_ok "kill -9 of pvmm test" "$started guests started; left:$left"
fi
rm -rf "$WORK/tmp"

# --- install and the man page ----------------------------------------------
if [ -z "${PVMM_E2E_NESTED:-}" ]; then
	make -s install BUILD="$B" DESTDIR="$WORK/dest" PREFIX=/usr >/dev/null 2>&1
	missing=""
	for f in bin/pvmm share/man/man1/pvmm.1 share/pvmm/guests/hello.elf share/pvmm/guests/ptwr.elf; do
		[ -s "$WORK/dest/usr/$f" ] || missing="$missing $f"
	done
	[ -x "$WORK/dest/usr/bin/pvmm" ] || missing="$missing (pvmm not executable)"
	"$WORK/dest/usr/bin/pvmm" "$WORK/dest/usr/share/pvmm/guests/hello.elf" >/dev/null 2>&1 || missing="$missing (installed hello failed)"
	[ -z "$missing" ] && ok "make install DESTDIR=... puts pvmm, its guests and the man page in place" ||
		not_ok "make install:$missing"
	make -s uninstall BUILD="$B" DESTDIR="$WORK/dest" PREFIX=/usr >/dev/null 2>&1
	[ -z "$(find "$WORK/dest" -type f)" ] && ok "make uninstall removes them" || not_ok "make uninstall left files"
	undocumented=""
	for opt in $( { "$PVMM" --help; "$PVMM" test --help; } | grep -o -- '--[a-z-]*' | sort -u); do
		grep -qF -- "$(printf '%s' "$opt" | sed 's/-/\\-/g')" docs/pvmm.1 || undocumented="$undocumented $opt"
	done
	for opt in $( { "$PVMM" --help; "$PVMM" test --help; } | grep -oE -- '^  -[a-zA-Z]' | sort -u); do
		grep -qE -- "\\\\-${opt#-}([^a-zA-Z-]|\$)" docs/pvmm.1 || undocumented="$undocumented $opt"
	done
	[ -z "$undocumented" ] && ok "the man page documents every option of --help" || not_ok "pvmm.1 lacks:$undocumented"
fi

# --- a hostile guest: every escape attempt is contained --------------------
for a in open execve socket fork ptrace kill mmapfd mprotect; do
	rm -f "$WORK/escaped"
	run --timeout=20 -c "attempt=$a file=$WORK/escaped" $G/escape.elf
	if [ "$status" = 1 ] && grep -q 'killed by seccomp: it made a host system call' "$WORK/err" &&
	   ! grep -q 'the host let it through' "$WORK/out" && [ ! -e "$WORK/escaped" ]; then
		ok "escape '$a': a real host system call from the guest kills only the guest"
	else
		not_ok "escape '$a'" "status $status" "$(cat "$WORK/out" "$WORK/err")"
	fi
done
run --timeout=20 -c attempt=exit $G/escape.elf
expect "escape 'exit': a guest that exits its own process through the stub is a crash (1), not a host error" 1 '' \
	'^pvmm: guest process exited with status 0: the guest made the exit system call through its sandbox stub$'
run --timeout=20 -c attempt=stubjump $G/escape.elf
expect "escape 'stubjump': jumping into the stub crashes the guest, not pvmm" 1 '' 'inside the pvmm stub'
run --timeout=20 -c attempt=scribble $G/escape.elf
if [ "$status" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ]; then
	ok "escape 'scribble': overwriting pvmm's control page hurts only the guest ($(cut -c1-60 "$WORK/err"))"
else
	not_ok "escape 'scribble'" "status $status" "$(cat "$WORK/err")"
fi
run --timeout=20 -c attempt=race $G/escape.elf
if { [ "$status" = 0 ] && grep -q '^escape: race: pvmm still answers' "$WORK/out"; } ||
   { [ "$status" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ]; }; then
	ok "escape 'race': 20,000 forged hand-offs over a changing control page hurt only the guest (status $status)"
else
	not_ok "escape 'race'" "status $status" "$(cat "$WORK/out" "$WORK/err")"
fi
run --timeout=20 -c attempt=beyond $G/escape.elf
expect "escape 'beyond': memory mapped past the end of guest memory is a bus error that ends only the guest" \
	1 '' '^pvmm: bus error at 0x100000000000'
run --timeout=20 -c attempt=maps $G/escape.elf
expect "escape 'maps': exhausting host mappings is refused with a clear line" 1 '' \
	'needs more host mappings than a process may have'
no_guest_left "escape attempts"

# --- lifecycle ------------------------------------------------------------
for i in $(seq 50); do "$PVMM" $G/hello.elf >"$WORK/par$i.out" 2>&1 </dev/null & done
wait
good=$(grep -l '^Test result: SUCCESS$' "$WORK"/par*.out | wc -l)
[ "$good" = 50 ] && ok "50 guests at once all power off" || not_ok "50 guests at once: $good succeeded"
leftover=0
for i in 1 2 3 4 5 6 7 8; do
	"$PVMM" $G/minikernel.elf >/dev/null 2>&1 </dev/null &
	pid=$!
	sleep "0.0$((RANDOM % 9))"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
done
wait_until 10 no_guests_alive # the guests die of PR_SET_PDEATHSIG, a moment later
for p in $(pgrep -u "$(id -u)" -x pvmm-guest); do alive "$p" && leftover=$((leftover + 1)); done
[ $leftover = 0 ] && ok "kill -9 of pvmm at random moments leaves no guest process" ||
	not_ok "kill -9 at random moments left $leftover guest processes"
# escape's churn switches between address spaces 4,096 host mappings apart
# forever: pvmm and its stub spend most of their time in mapping batches
files_before=$(ls -A /tmp /dev/shm 2>/dev/null | grep -i pvmm | grep -v "^pvmm-e2e" | sort)
leftover="" started=0
for i in 1 2 3 4 5 6 7 8; do
	rm -f "$WORK/churn.pid"
	fresh "$WORK/churn.out"
	"$PVMM" --pidfile="$WORK/churn.pid" -c attempt=churn $G/escape.elf >"$WORK/churn.out" 2>&1 </dev/null &
	pid=$!
	wait_until 60 has_line "$WORK/churn.out" '^escape: churning' && started=$((started + 1))
	sleep "0.0$((RANDOM % 9))"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	guest=$(cat "$WORK/churn.pid" 2>/dev/null)
	churn_gone() { ! alive "$guest"; }
	wait_until 10 churn_gone || leftover="$leftover $guest"
done
files_after=$(ls -A /tmp /dev/shm 2>/dev/null | grep -i pvmm | grep -v "^pvmm-e2e" | sort)
new_files=$(comm -13 <(echo "$files_before") <(echo "$files_after")) # appeared, not gone
if [ $started = 8 ] && [ -z "$leftover" ] && [ -z "$new_files" ]; then
	ok "kill -9 of pvmm during mapping batches (8 times) leaves no guest process and no file"
else
	not_ok "kill -9 during mapping batches" "$started of 8 churned; left:$leftover" \
		"new files: $(echo $new_files)"
fi
run --timeout=3 -c attempt=churn $G/escape.elf
expect "--timeout stops a guest in the middle of its mapping batches (status 4)" 4 '^escape: churning' \
	'timeout: the guest was stopped'

# --- bad command lines ---------------------------------------------------
run; expect "no image is a usage error (status 2)" 2 '' 'no guest image given'
run --memory=lots $G/hello.elf; expect "a bad --memory is refused (status 2)" 2 '' "bad --memory 'lots'"
run --memory=128G $G/hello.elf; expect "--memory above 64G is refused" 2 '' 'bad --memory'
run --memory=1M $G/hello.elf; expect "too little memory for the bootstrap is refused" 2 '' 'needs at least'
run --timeout=-1 $G/hello.elf; expect "a bad --timeout is refused" 2 '' "bad --timeout"
run --frobnicate $G/hello.elf; expect "an unknown option is refused" 2 '' "unknown option '--frobnicate'"
run --transport=carrier-pigeon $G/hello.elf; expect "an unknown transport is refused" 2 '' "unknown --transport"
run $G/hello.elf $G/hello.elf; expect "two images are refused" 2 '' 'more than one guest image'
run --help; expect "--help documents the exit statuses" 0 'exit status:'
run --version; expect "--version prints a version" 0 '^pvmm '
run $WORK/does-not-exist.elf; expect "a missing image is refused (status 3)" 3 '' 'No such file'
run /; expect "a directory is refused (status 3)" 3 '' '^pvmm: /: not a regular file'
run /dev/null; expect "a device is refused as not a regular file (it was 'Invalid argument')" 3 '' \
	'^pvmm: /dev/null: not a regular file'
run /bin/true; expect "a Linux program is refused as not a Xen PV kernel" 3 '' '^pvmm: /bin/true: not a Xen PV kernel'
# usage errors are one line naming the argument ('--frobnicate' used to
# add a second line, '-kernel' was reported as 'unknown option build/pvmm')
run --frobnicate $G/hello.elf
[ $status = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && ok "an unknown option is one line" ||
	not_ok "unknown option: one line" "status $status" "$(cat "$WORK/err")"
run -kernel $G/hello.elf; expect "qemu's -kernel is named as the unknown option" 2 '' "^pvmm: unknown option '-kernel'"
# every option and output is checked before the guest starts
run --stats=/nonexistent/x.json $G/hello.elf
expect "--stats to a missing directory: status 2 before the guest runs (it was 0)" 2 '' \
	'^pvmm: --stats=/nonexistent/x.json: No such file or directory$'
[ ! -s "$WORK/out" ] || not_ok "--stats=/nonexistent: the guest ran" "$(head -3 "$WORK/out")"
run --pidfile=/nonexistent/p $G/hello.elf
expect "--pidfile to a missing directory: status 2 before the guest runs (it was 5)" 2 '' \
	'^pvmm: --pidfile=/nonexistent/p: No such file or directory$'
[ ! -s "$WORK/out" ] || not_ok "--pidfile=/nonexistent: the guest ran" "$(head -3 "$WORK/out")"
PVMM_TRANSPORT=foo "$PVMM" $G/hello.elf >"$WORK/out" 2>"$WORK/err" </dev/null; status=$?
expect "PVMM_TRANSPORT=foo is a usage error naming it (it ran with seccomp)" 2 '' "PVMM_TRANSPORT 'foo'"
run --cpu=1023 $G/hello.elf
expect "--cpu beyond the machine's CPUs names them (it was 'Invalid argument')" 2 '' \
	'^pvmm: --cpu=1023: this machine has CPUs [0-9]'

# --- malformed images: one clear line each, quickly, no process left ------
mkdir -p "$WORK/bad"
$B/tests/mkbad $G/hello.elf "$WORK/bad"
chmod -R a+rX "$WORK/bad"
for f in "$WORK"/bad/*.elf; do
	name=$(basename "$f" .elf)
	want=$(cat "$WORK/bad/$name.expect")
	start=$(date +%s%N)
	run "$f"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	lines=$(wc -l <"$WORK/err")
	if [ "$status" = 3 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$WORK/err" && [ "$ms" -lt 30000 ]; then
		ok "malformed image '$name' refused: $(cut -c1-100 "$WORK/err")"
	else
		not_ok "malformed image '$name'" "status $status, $lines lines, $ms ms" "$(cat "$WORK/err")"
	fi
done
no_guest_left "malformed images"

if [ -n "${PVMM_E2E_NESTED:-}" ]; then
	echo "$pass $fail" >"$PVMM_E2E_NESTED"
	exit 0
fi
if [ "$(id -u)" = 0 ] && [ "${E2E_UNPRIVILEGED:-1}" = 1 ]; then
	# Once more as an unprivileged user: pvmm needs no root. The run uses a
	# copy of what it needs in a directory that user can reach.
	echo "# the same tests as user nobody"
	copy=$(mktemp -d /tmp/pvmm-e2e-nobody.XXXXXX)
	mkdir -p "$copy/build/tests" "$copy/tests/e2e"
	cp -r "$PVMM" $G "$copy/build/"
	cp $B/tests/mkbad "$copy/build/tests/"
	cp "$0" "$copy/tests/e2e/run.sh"
	cp -r README.md docs "$copy/" # their examples are run
	chmod -R a+rX "$copy"
	touch "$copy/result" && chmod a+w "$copy/result"
	if (cd "$copy" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env PVMM_E2E_NESTED="$copy/result" HOME=/tmp BUILD_DIR=build PVMM=build/pvmm tests/e2e/run.sh) &&
	   read -r p f <"$copy/result" && [ -n "$p" ]; then
		pass=$((pass + p)) fail=$((fail + f))
	else
		not_ok "the unprivileged run as user nobody did not complete"
	fi
	rm -rf "$copy"
fi
echo "# transport: ${PVMM_TRANSPORT:-default}"
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
