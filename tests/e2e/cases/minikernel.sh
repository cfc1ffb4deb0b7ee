# minikernel: three processes preempted by the timer, paged on demand
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

