# shutdown: a guest is asked to shut down first, as xl shutdown asks
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
