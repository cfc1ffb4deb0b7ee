# minikernel: three processes preempted by the timer, paged on demand
units minikernel
ordered=1
for p in 0 1 2; do
	[ "$(grep -c "^P$p step" "$WORK/kept/minikernel.console")" = 4 ] &&
		[ "$(grep "^P$p step" "$WORK/kept/minikernel.console" | awk '{print $3}' | tr -d '\n')" = 0123 ] || ordered=0
done
[ $ordered = 1 ] && ok "minikernel: every process logged its four steps in order" ||
	not_ok "minikernel transcript" "$(cat "$WORK/kept/minikernel.console")"

# one guest process per address space: the kernel's and each process's
# tables stay realised in processes of their own, every switch back is a
# hand-off (hits), and every process's mappings match its tables
run --address-spaces=4 --check-invariants --stats="$WORK/spaces.stats" $G/minikernel.elf
expect "minikernel with --address-spaces=4 --check-invariants" 0
ordered=1
for p in 0 1 2; do
	[ "$(grep "^P$p step" "$WORK/out" | awk '{print $3}' | tr -d '\n')" = 0123 ] || ordered=0
done
hits=$(json_num "$WORK/spaces.stats" hits)
procs=$(json_num "$WORK/spaces.stats" processes)
[ $ordered = 1 ] && [ "${hits:-0}" -gt 40 ] && [ "${procs:-0}" -ge 2 ] &&
	ok "minikernel in several guest processes: steps in order, $hits switches were hand-offs to $procs processes" ||
	not_ok "minikernel with several address spaces" "hits=$hits processes=$procs" "$(grep -o '"spaces": {[^}]*}' "$WORK/spaces.stats")" "$(tail -5 "$WORK/out")"
# --address-spaces=1: one guest process realises every table (each switch
# re-maps what differs), and the default keeps four
run --address-spaces=1 --check-invariants --stats="$WORK/one.stats" $G/minikernel.elf
expect "minikernel with --address-spaces=1 --check-invariants" 0
[ "$(json_num "$WORK/one.stats" processes)" = 1 ] && [ "$(json_num "$WORK/one.stats" hits)" = 0 ] &&
	ok "one guest process with --address-spaces=1 (no hand-offs)" ||
	not_ok "--address-spaces=1" "$(grep -o '"spaces": {[^}]*}' "$WORK/one.stats")"
run --stats="$WORK/default.stats" $G/hello.elf
expect "hello with the default address spaces" 0
[ "$(json_num "$WORK/default.stats" limit)" = 4 ] && ok "--address-spaces is 4 by default" ||
	not_ok "the default --address-spaces" "$(grep -o '"spaces": {[^}]*}' "$WORK/default.stats")"
# usage
run --address-spaces=9 $G/hello.elf
expect "--address-spaces=9 is a usage error" 2 '' "bad --address-spaces '9'"
