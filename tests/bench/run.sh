#!/usr/bin/env bash
# make bench: pvmm's costs next to the host primitives measured in the same
# run. Every pvmm figure comes from rdtsc inside the guest (tests/bench has
# the primitives, sample-guests/bench.c the guest side), converted with the
# TSC frequency measured here. Prints tables per transport and writes
# build/bench/results.csv, results.json and crossover.svg.
# BENCH_REPS (default 3) runs per mode and transport, the three --ptwr modes
# interleaved run by run; the median is reported.
# When User-Mode Linux is installed (linux.uml, Debian's user-mode-linux),
# the peer runs tests/bench/uml_init.c as its init, and the same operations
# are compared with pvmm's, both pinned to CPU 0 (peer.svg).
set -euo pipefail
PVMM=${PVMM:-build/pvmm}
OUT=build/bench
REPS=${BENCH_REPS:-3}
mkdir -p "$OUT"

build/tests/primitives >"$OUT/primitives.txt"
prim() { awk -v k="$1" '$1 == k { print $2 }' "$OUT/primitives.txt"; }
hz=$(prim tsc_hz)
wf=$(prim write_fault) mp=$(prim mprotect) ss=$(prim sigsys) gp=$(prim getpid) ft=$(prim first_touch)
ppp=$(prim pingpong_pinned) pps=$(prim pingpong_spin)
# the boot's primitive: starting a trivial program, timed the same way
true_ns=$(for r in $(seq 11); do s=$(date +%s%N); /bin/true; e=$(date +%s%N); echo $((e - s)); done |
	sort -n | sed -n 6p)
cycle=$(awk -v w="$wf" -v m="$mp" 'BEGIN { printf "%.0f", w + m }')

: >"$OUT/raw.txt"
for t in seccomp ptrace; do
	for r in $(seq "$REPS"); do # the modes interleaved: a burst of load elsewhere hits all three
		for mode in emulate unhook auto; do
			"$PVMM" --transport=$t --ptwr=$mode --memory=64M "$G_BENCH" 2>/dev/null |
				awk -v t=$t -v m=$mode '$1 == "bench" { print t, m, $2, $3, $4 }' >>"$OUT/raw.txt"
		done
	done
	for r in $(seq "$REPS"); do # the peer comparison's runs: pinned to one CPU
		taskset -c 0 "$PVMM" --transport=$t --memory=64M "$G_BENCH" 2>/dev/null |
			awk -v t=$t '$1 == "bench" { print t, "pinned", $2, $3, $4 }' >>"$OUT/raw.txt"
	done
	for r in $(seq "$REPS"); do # one host process for every address space, or one per space (four)
		for s in 1 4; do
			"$PVMM" --transport=$t --address-spaces=$s --memory=64M "$G_BENCH" 2>/dev/null |
				awk -v t=$t -v s=$s '$1 == "bench" && ($2 == "user_syscall" || $2 == "process_switch") {
					print t, "spaces" s, $2, $3, $4 }' >>"$OUT/raw.txt"
		done
	done
	# seccomp's hypercall page without its direct entry: a `syscall` and SIGSYS each
	for r in $(seq "$REPS"); do
		[ $t = seccomp ] || break
		"$PVMM" --transport=$t --hypercall-page=syscall --memory=64M "$G_BENCH" 2>/dev/null |
			awk -v t=$t '$1 == "bench" && $2 == "hypercall" { print t, "syscall", $2, $3, $4 }' >>"$OUT/raw.txt"
		taskset -c 0 "$PVMM" --transport=$t --hypercall-page=syscall --memory=64M "$G_BENCH" 2>/dev/null |
			awk -v t=$t '$1 == "bench" && $2 == "hypercall" { print t, "syscall-pinned", $2, $3, $4 }' >>"$OUT/raw.txt"
	done
	for r in $(seq 11); do # boot of hello to poweroff, wall time, 64 MiB and 4 GiB
		for m in 64M 4G; do
			s=$(date +%s%N); "$PVMM" --transport=$t --memory=$m "$G_HELLO" >/dev/null; e=$(date +%s%N)
			echo "$t boot hello$m 1 $(( (e - s) * hz / 10000000 ))" >>"$OUT/raw.txt"
		done
	done 2>/dev/null || true
done

uml=$(command -v linux.uml || true)
if [ -n "$uml" ] && [ -x "${UML_INIT:-}" ]; then
	for r in $(seq "$REPS"); do # UML's init powers it off; its console is our stdout
		taskset -c 0 timeout 120 "$uml" mem=64M root=/dev/root rootfstype=hostfs rootflags=/ rw \
			init="$(realpath "$UML_INIT")" quiet con=null con0=null,fd:1 </dev/null 2>&1 |
			tee "$OUT/uml.console" | awk '$1 == "bench" { print "uml", "pinned", $2, $3, $4 }' >>"$OUT/raw.txt" || true
	done
fi

# median cycles*100 per (transport, mode, name, n) -> ns
awk -v hz="$hz" '
	{ key = $1 " " $2 " " $3 " " $4; v[key, ++n[key]] = $5 }
	END {
		for (k in n) {
			m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, i]
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			printf "%s %.1f %.1f %.1f\n", k, a[int((m + 1) / 2)] / 100 / hz * 1e9, a[1] / 100 / hz * 1e9, a[m] / 100 / hz * 1e9
		}
	}' "$OUT/raw.txt" | sort -k1,1 -k2,2 -k3,3 -k4,4n >"$OUT/median.txt"
get() { awk -v t="$1" -v m="$2" -v k="$3" -v n="$4" '$1 == t && $2 == m && $3 == k && $4 == n { print $5 }' "$OUT/median.txt"; }
spread() { awk -v t="$1" -v m="$2" -v k="$3" -v n="$4" '$1 == t && $2 == m && $3 == k && $4 == n { printf "%.0f-%.0f", $6, $7 }' "$OUT/median.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf 'Host primitives, this run (TSC %.2f GHz, %s CPUs):\n' "$(awk -v h="$hz" 'BEGIN { print h / 1e9 }')" "$(nproc)"
printf '  %-52s %8.0f ns\n' "write fault + handler (mprotect) + sigreturn" "$wf" \
	"mprotect of one page" "$mp" "write-fault cycle (mprotect ro + the above)" "$cycle" \
	"SIGSYS round trip (seccomp trap, handler, sigreturn)" "$ss" "getpid system call" "$gp" \
	"minor fault (first touch of a fresh page)" "$ft" \
	"process round trip, one CPU (futex ping-pong)" "$ppp" \
	"process round trip, a CPU each (polling a shared word)" "${pps:-0}" \
	"fork + exec + exit of /bin/true" "$true_ns"

echo "transport,operation,n,median_ns,min_ns,max_ns,primitive,primitive_ns,ratio" >"$OUT/results.csv"
row() { # transport label mode name n primitive-label primitive-ns
	local m s r
	m=$(get "$1" "$3" "$4" "$5"); s=$(spread "$1" "$3" "$4" "$5"); r=$(ratio "$m" "$7")
	printf '  %-26s %10.0f %15s %8sx  %s\n' "$2" "$m" "$s" "$r" "$6"
	echo "$1,$2,$5,$m,${s%-*},${s#*-},$6,$7,$r" >>"$OUT/results.csv"
}
for t in seccomp ptrace; do
	echo
	echo "pvmm, $t transport (median of $REPS runs, min-max; ratio = pvmm / primitive):"
	printf '  %-26s %10s %15s %9s  %s\n' operation ns spread ratio primitive
	row $t "null hypercall" emulate hypercall 1 "SIGSYS round trip" "$ss"
	row $t "... pinned (taskset -c 0)" pinned hypercall 1 "SIGSYS round trip" "$ss"
	if [ $t = seccomp ]; then
		row $t "... by syscall (SIGSYS)" syscall hypercall 1 "SIGSYS round trip" "$ss"
		row $t "... by syscall, pinned" syscall-pinned hypercall 1 "SIGSYS round trip" "$ss"
		row $t "null hypercall, pinned" pinned hypercall 1 "process round trip, one CPU" "$ppp"
	fi
	row $t "update_va_mapping" emulate update_va_mapping 1 "SIGSYS round trip" "$ss"
	row $t "mmu_update of 512 entries" emulate mmu_update_512 512 "SIGSYS round trip" "$ss"
	row $t "guest-handled #PF" emulate page_fault 1 "write fault + handler" "$wf"
	row $t "demand-paged first touch" emulate first_touch 1 "minor fault" "$ft"
	row $t "user-mode system call" emulate user_syscall 1 "getpid system call" "$gp"
	hc=$(get $t emulate hypercall 1)
	row $t "... 1 process (remaps)" spaces1 user_syscall 1 "null hypercall" "$hc"
	row $t "... 4 address spaces" spaces4 user_syscall 1 "null hypercall" "$hc"
	row $t "process switch, 1 process" spaces1 process_switch 1 "null hypercall" "$hc"
	row $t "... 4 address spaces" spaces4 process_switch 1 "null hypercall" "$hc"
	row $t "emulated L1 write" emulate l1_rewrite 1 "write-fault cycle" "$cycle"
	row $t "512-entry rewrite unhooked" unhook l1_rewrite 512 "write-fault cycle" "$cycle"
	row $t "boot of hello to poweroff" boot hello64M 1 "fork+exec of /bin/true" "$true_ns"
	row $t "... with 4 GiB of memory" boot hello4G 1 "the same with 64 MiB" "$(get $t boot hello64M 1)"
	echo "  L1 rewrite of N entries per hook cycle, ns per entry:"
	printf '  %5s %10s %10s %10s  %s\n' N emulate unhook auto "auto / best"
	cross=""
	for n in 1 2 4 8 16 32 64 128 256 512; do
		e=$(get $t emulate l1_rewrite $n) u=$(get $t unhook l1_rewrite $n) a=$(get $t auto l1_rewrite $n)
		awk -v n=$n -v e="$e" -v u="$u" -v a="$a" 'BEGIN { b = e < u ? e : u
			printf "  %5d %10.0f %10.0f %10.0f  %.2f\n", n, e, u, a, a / b }'
		if [ -z "$cross" ] && awk -v e="$e" -v u="$u" 'BEGIN { exit !(u < e) }'; then cross=$n; fi
	done
	e512=$(get $t emulate l1_rewrite 512) u512=$(get $t unhook l1_rewrite 512)
	echo "  crossover: unhooking beats emulation from N = ${cross:-never}; a 512-entry rewrite is" \
		"$(ratio "$e512" "$u512")x faster unhooked than emulated"
done

echo
if [ -z "$(get uml pinned uml_getpid 1)" ]; then
	if [ -z "$uml" ]; then
		echo "Peer: User-Mode Linux is not installed (linux.uml; apt-get install user-mode-linux), no peer rows"
	else
		why=$(grep -m1 -E 'errno|[Pp]anic' "$OUT/uml.console" 2>/dev/null || true)
		echo "Peer: User-Mode Linux ($uml) did not report (UML_INIT=${UML_INIT:-unset}${why:+; it said: $why}), no peer rows"
	fi
else
	echo "Peer: User-Mode Linux ($(dpkg-query -W -f '${Version}' user-mode-linux 2>/dev/null || echo "$uml")), everything pinned to CPU 0 (median of $REPS runs; ratio = pvmm / UML):"
	printf '  %-34s %10s %10s %10s %10s %8s %8s\n' operation "seccomp" "ptrace" "UML" native "sec/UML" "ptr/UML"
	peer() { # label pvmm-name uml-name native-ns
		local s p u
		s=$(get seccomp pinned "$2" 1) p=$(get ptrace pinned "$2" 1) u=$(get uml pinned "$3" 1)
		printf '  %-34s %10.0f %10.0f %10.0f %10.0f %7sx %7sx\n' "$1" "$s" "$p" "$u" "$4" \
			"$(ratio "$s" "$u")" "$(ratio "$p" "$u")"
		for t in seccomp ptrace; do
			v=$(get $t pinned "$2" 1)
			echo "$t,$1 (pinned),1,$v,$v,$v,UML $3,$u,$(ratio "$v" "$u")" >>"$OUT/results.csv"
		done
		echo "uml,$1 (pinned),1,$u,$u,$u,native,$4,$(ratio "$u" "$4")" >>"$OUT/results.csv"
		echo "$1|$s|$p|$u|$4" >>"$OUT/peer.txt"
	}
	: >"$OUT/peer.txt"
	peer "user-mode system call round trip" user_syscall uml_getpid "$gp"
	peer "demand-paged first touch" first_touch uml_first_touch "$ft"
	awk -F'|' -v out="$OUT/peer.svg" '
		{ label[NR] = $1; v[NR, 1] = $2; v[NR, 2] = $3; v[NR, 3] = $4; v[NR, 4] = $5 }
		function bar(x) { return x <= 1 ? 0 : log(x) / log(10) * 90 }
		END {
			name[1] = "pvmm seccomp"; name[2] = "pvmm ptrace"; name[3] = "UML"; name[4] = "native"
			col[1] = "#1f77b4"; col[2] = "#aec7e8"; col[3] = "#d62728"; col[4] = "#7f7f7f"
			printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", 60 + NR * 110 > out
			printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/><text x=\"10\" y=\"20\">pvmm and User-Mode Linux, pinned to one CPU: ns per operation (log scale)</text>\n" > out
			for (r = 1; r <= NR; r++) {
				y = 40 + (r - 1) * 110
				printf "<text x=\"10\" y=\"%d\">%s</text>\n", y + 12, label[r] > out
				for (k = 1; k <= 4; k++) {
					printf "<rect x=\"120\" y=\"%d\" width=\"%.0f\" height=\"16\" fill=\"%s\"/>", y + 18 + (k - 1) * 20, bar(v[r, k]), col[k] > out
					printf "<text x=\"%.0f\" y=\"%d\">%s %.0f ns</text>\n", 126 + bar(v[r, k]), y + 31 + (k - 1) * 20, name[k], v[r, k] > out
				}
			}
			print "</svg>" > out
		}' "$OUT/peer.txt"
fi

# JSON of the same rows, and the crossover plot
awk -F, 'NR > 1 { printf "%s{\"transport\":\"%s\",\"operation\":\"%s\",\"n\":%s,\"median_ns\":%s,\"min_ns\":%s,\"max_ns\":%s,\"primitive\":\"%s\",\"primitive_ns\":%s,\"ratio\":%s}", sep, $1, $2, $3, $4, $5, $6, $7, $8, $9; sep = ",\n" }
	BEGIN { print "[" } END { print "\n]" }' "$OUT/results.csv" >"$OUT/results.json"
awk -v out="$OUT/crossover.svg" '
	$2 != "boot" && $3 == "l1_rewrite" { key = $1 "/" $2; x[key, $4] = $5; keys[key] = 1 }
	function px(n) { return 60 + log(n) / log(2) * 60 }
	function py(v) { return 340 - (log(v) / log(10) - 1) * 70 }
	END {
		col["seccomp/emulate"] = "#d62728"; col["seccomp/unhook"] = "#1f77b4"; col["seccomp/auto"] = "#2ca02c"
		col["ptrace/emulate"] = "#ff9896"; col["ptrace/unhook"] = "#aec7e8"; col["ptrace/auto"] = "#98df8a"
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"400\" font-family=\"sans-serif\" font-size=\"12\">\n" > out
		printf "<rect width=\"720\" height=\"400\" fill=\"white\"/><text x=\"60\" y=\"20\">L1 rewrite: ns per entry (log) vs entries per hook cycle N (log)</text>\n" > out
		for (n = 1; n <= 512; n *= 2) printf "<text x=\"%d\" y=\"370\">%d</text>\n", px(n) - 6, n > out
		for (e = 1; e <= 5; e++) printf "<text x=\"5\" y=\"%d\">1e%d</text><line x1=\"55\" x2=\"660\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n", py(10 ^ e) + 4, e, py(10 ^ e), py(10 ^ e) > out
		i = 0
		for (k in keys) {
			pts = ""
			for (n = 1; n <= 512; n *= 2) if ((k, n) in x) pts = pts sprintf("%.1f,%.1f ", px(n), py(x[k, n]))
			printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", col[k], pts > out
			printf "<text x=\"600\" y=\"%d\" fill=\"%s\">%s</text>\n", 40 + 16 * i++, col[k], k > out
		}
		print "</svg>" > out
	}' "$OUT/median.txt"

# the network: UDP and TCP through --net=user's forwards to the net guest's echo
# port, beside the same traffic over the host's loopback (tests/lib/netpeer.c)
if [ -n "${G_NET:-}" ] && [ -x build/tests/netpeer ]; then
	echo
	echo "network (UDP echo, 2000 round trips, then 2000 1024-byte datagrams with 32 in flight; TCP echo of 2000 KiB):"
	for t in seccomp ptrace; do
		echo "  transport $t:"
		build/tests/netpeer --bench=2000 "$PVMM" --transport=$t -t 120 "$G_NET" 2>/dev/null |
			sed -n 's/^netpeer: \(pvmm guest via hostfwd\|host loopback\): /    \1: /p' |
			tee -a "$OUT/net.txt"
	done
fi
echo
echo "(build/bench: results.csv, results.json, crossover.svg, peer.svg when UML ran, median.txt, net.txt)"
