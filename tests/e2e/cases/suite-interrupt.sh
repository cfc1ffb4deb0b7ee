# suite-interrupt: pvmm test interrupted: no process outlives the runner
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
