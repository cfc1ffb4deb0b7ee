# signals: SIGTERM, SIGINT, SIGHUP and kill -9 of pvmm
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

