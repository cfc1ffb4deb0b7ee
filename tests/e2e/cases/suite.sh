# suite: pvmm test, the suite runner
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


