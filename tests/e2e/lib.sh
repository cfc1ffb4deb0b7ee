# lib.sh - what every end-to-end case may use (sourced by run.sh; the
# cases run in a subshell of it, one at a time). Set by run.sh:
#   B        the build directory          PVMM  the pvmm binary
#   G        the guests ($B/guests)       WORK  this case's own scratch directory
#   README_DIR  the tree whose README.md and docs/ hold the examples
#   E2E_LABEL   the case's name in each TAP line
#   E2E_STATE   the file that carries the TAP count across cases

# --- TAP: "ok N - CASE: what", numbered across cases -------------------------
tap_line() { # tap_line "ok"|"not ok" DESC
	tapn=$((tapn + 1))
	echo "$1 $tapn - $E2E_LABEL: $2"
	echo "$tapn $pass $fail" >"$E2E_STATE"
}
ok() { pass=$((pass + 1)); tap_line ok "$1"; }
not_ok() { # not_ok DESC FACT...: each line of each fact a diagnostic line under it
	local l
	fail=$((fail + 1))
	tap_line "not ok" "$1"
	shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
diag() { echo "# $E2E_LABEL: $*"; }
nested() { [ -n "${E2E_NESTED:-}" ]; } # the rerun as user nobody

# run ARGS...: runs pvmm, leaving $status, $WORK/out, $WORK/err
run() {
	"$PVMM" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	status=$?
}

expect() { # expect DESC STATUS [stdout-regex] [stderr-regex]
	local desc=$1 want=$2 out=${3:-} err=${4:-}
	if [ "$status" != "$want" ]; then
		not_ok "$desc" "exit status $status, want $want" "stderr: $(head -c 400 "$WORK/err" 2>/dev/null)" \
			"stdout (end): $(tail -c 600 "$WORK/out" 2>/dev/null)"
	elif [ -n "$out" ] && ! grep -Eq -- "$out" "$WORK/out"; then
		not_ok "$desc" "stdout lacks /$out/" "stdout: $(head -c 400 "$WORK/out")"
	elif [ -n "$err" ] && ! grep -Eq -- "$err" "$WORK/err"; then
		not_ok "$desc" "stderr lacks /$err/" "stderr: $(head -c 400 "$WORK/err")"
	else
		ok "$desc"
	fi
}

json_num() { grep -o "\"$2\": [0-9]*" "$1" | head -1 | grep -o '[0-9]*$'; } # json_num FILE KEY

# --- processes and waits ---------------------------------------------------------
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

# --- sample guests, judged by their .cfg --------------------------------------
# units UNIT...: runs the sample guests named with `pvmm test`, which judges
# each by its .cfg (docs/suite.md): NAME is NAME.elf with its NAME.cfg,
# NAME~VARIANT is variants/NAME~VARIANT.cfg. One check per unit, named after
# it and described by the first line of its .cfg. A unit whose .cfg sets no
# timeout gets 30 minutes (a bound for a broken run: under the sanitizers
# with --check-invariants a 4 GiB p2m takes minutes). It runs in $WORK, where a file an
# escaping guest wrote would be, and leaves each unit's console and --stats
# JSON in $WORK/kept/UNIT.console and UNIT.stats for checks across runs.
# Whatever a .cfg says, a unit whose log holds a sanitizer's report fails
# (they end pvmm with status 1, as a crash does), and so do warnings about a
# .cfg (an unknown key would drop an expectation unseen).
units() {
	local u args=() pvmm gdir line name desc msg=() n=0
	pvmm=$(cd "$(dirname "$PVMM")" && pwd)/$(basename "$PVMM")
	gdir=$(cd "$G" && pwd)
	for u; do
		if [ -f "$gdir/$u.elf" ]; then args+=("$gdir/$u.elf"); else args+=("$gdir/variants/$u.cfg"); fi
	done
	rm -rf "$WORK/kept"
	(cd "$WORK" && "$pvmm" test --tap -j 2 -t 1800 --result-regex='Test result: ' --keep=kept --keep-all "${args[@]}") \
		>"$WORK/units.tap" 2>"$WORK/units.err" </dev/null
	status=$?
	[ ! -s "$WORK/units.err" ] || not_ok "pvmm test: warnings about the .cfg files" "$(head -5 "$WORK/units.err")"
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*) ;;
		*) continue ;;
		esac
		n=$((n + 1))
		name=${line#* - }
		desc=$(sed -s -n '1s/^# *//p' "$gdir/$name.cfg" "$gdir/variants/$name.cfg" 2>/dev/null | head -1)
		desc="$name: ${desc:-passes}"
		if [ "${line%% *}" = not ]; then
			mapfile -t msg < <(sed -n "/ - $name\$/,/^  \.\.\.\$/s/^  \(\(outcome\|message\): \)/\1/p" "$WORK/units.tap")
			not_ok "$desc" "${msg[@]}" "log: $(tail -5 "$WORK/kept/$name.console" 2>/dev/null)"
		elif grep -Eq '^==[0-9]+==ERROR: |runtime error: |^SUMMARY: [A-Za-z]+Sanitizer' "$WORK/kept/$name.console"; then
			not_ok "$desc" "a sanitizer's report in its log" "$(grep -m3 -E 'ERROR|runtime error' "$WORK/kept/$name.console")"
		else
			ok "$desc"
		fi
	done <"$WORK/units.tap"
	[ $n = $# ] || not_ok "pvmm test ran $n of the $# units (status $status)" "$(head -5 "$WORK/units.tap" "$WORK/units.err")"
}
