# minikernel: three processes preempted by the timer, paged on demand
units minikernel
ordered=1
for p in 0 1 2; do
	[ "$(grep -c "^P$p step" "$WORK/kept/minikernel.console")" = 4 ] &&
		[ "$(grep "^P$p step" "$WORK/kept/minikernel.console" | awk '{print $3}' | tr -d '\n')" = 0123 ] || ordered=0
done
[ $ordered = 1 ] && ok "minikernel: every process logged its four steps in order" ||
	not_ok "minikernel transcript" "$(cat "$WORK/kept/minikernel.console")"
