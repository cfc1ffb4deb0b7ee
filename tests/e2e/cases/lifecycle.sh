# lifecycle: many guests at once, kill -9 at random moments, --pidfile
"$PVMM" --pidfile="$WORK/pid" $G/spin.elf >/dev/null 2>&1 </dev/null &
pid=$!
wait_until 60 test -s "$WORK/pid"
if [ -s "$WORK/pid" ] && [ "$(cat /proc/"$(cat "$WORK/pid")"/comm 2>/dev/null)" = pvmm-guest ]; then
	ok "--pidfile names the pvmm-guest process"
else
	not_ok "--pidfile" "$(cat "$WORK/pid" 2>/dev/null)"
fi
kill -TERM $pid; wait $pid 2>/dev/null
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
# (a pvmm-test.* directory is another run's `pvmm test` on this machine:
# the runner makes them, pvmm never does)
files_before=$(ls -A /tmp /dev/shm 2>/dev/null | grep -i pvmm | grep -v "^pvmm-e2e" | grep -v "^pvmm-test\." | sort)
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
files_after=$(ls -A /tmp /dev/shm 2>/dev/null | grep -i pvmm | grep -v "^pvmm-e2e" | grep -v "^pvmm-test\." | sort)
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
