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
# usage
run --address-spaces=9 $G/hello.elf
expect "--address-spaces=9 is a usage error" 2 '' "bad --address-spaces '9'"
