#!/usr/bin/env bash
# make bench: pvmm's costs next to the host primitives measured in the same
# run. Every pvmm figure comes from rdtsc inside the guest (tests/bench has
# the primitives, sample-guests/bench.c the guest side), converted with the
# TSC frequency measured here. Prints a table and writes build/bench/*.csv.
# BENCH_REPS (default 3) runs per mode; the median is reported.
set -euo pipefail
PVMM=${PVMM:-build/pvmm}
OUT=build/bench
REPS=${BENCH_REPS:-3}
mkdir -p "$OUT"

build/tests/primitives >"$OUT/primitives.txt"
prim() { awk -v k="$1" '$1 == k { print $2 }' "$OUT/primitives.txt"; }
hz=$(prim tsc_hz)

: >"$OUT/raw.txt"
for mode in emulate unhook auto; do
	for r in $(seq "$REPS"); do
		"$PVMM" --ptwr=$mode --memory=64M "$G_BENCH" 2>/dev/null |
			awk -v m=$mode '$1 == "bench" { print m, $2, $3, $4 }' >>"$OUT/raw.txt"
	done
done

# median cycles*100 per (mode, name, n) -> ns
awk -v hz="$hz" '
	{ key = $1 " " $2 " " $3; v[key, ++n[key]] = $4 }
	END {
		for (k in n) {
			m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, i]
			for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			printf "%s %.1f\n", k, a[int((m + 1) / 2)] / 100 / hz * 1e9
		}
	}' "$OUT/raw.txt" | sort -k1,1 -k2,2 -k3,3n >"$OUT/median.txt"
get() { awk -v m="$1" -v k="$2" -v n="$3" '$1 == m && $2 == k && $3 == n { print $4 }' "$OUT/median.txt"; }

wf=$(prim write_fault) mp=$(prim mprotect) ss=$(prim sigsys) gp=$(prim getpid)
printf 'Host primitives, this run (TSC %.2f GHz):\n' "$(awk -v h="$hz" 'BEGIN { print h / 1e9 }')"
printf '  %-42s %10.0f ns\n' "write fault + handler + sigreturn" "$wf" "mprotect of one page" "$mp" \
	"SIGSYS round trip (seccomp trap)" "$ss" "getpid system call" "$gp"
echo
echo "pvmm, ptrace transport (median of $REPS runs; ratio = pvmm / primitive):"
printf '  %-28s %12s %10s  %s\n' operation ns ratio primitive
row() { printf '  %-28s %12.0f %9.1fx  %s\n' "$1" "$2" "$(awk -v a="$2" -v b="$3" 'BEGIN { print a / b }')" "$4"; }
row "null hypercall" "$(get emulate hypercall 1)" "$ss" "SIGSYS round trip"
row "update_va_mapping" "$(get emulate update_va_mapping 1)" "$ss" "SIGSYS round trip"
row "mmu_update, 512 entries" "$(get emulate mmu_update_512 512)" "$ss" "SIGSYS round trip"
row "guest-handled #PF (to iret)" "$(get emulate page_fault 1)" "$wf" "write fault + handler + sigreturn"
echo
echo "L1 rewrite of N entries per hook cycle, ns per entry (ratio to the in-process cycle of"
echo "mprotect read-only + write fault + handler mprotect + sigreturn = $(awk -v w="$wf" -v m="$mp" 'BEGIN { printf "%.0f", w + m }') ns):"
printf '  %5s %14s %14s %14s  %s\n' N emulate unhook auto "auto / best"
echo "n,emulate_ns,unhook_ns,auto_ns,write_fault_ns,mprotect_ns" >"$OUT/l1_rewrite.csv"
cross=""
for n in 1 2 4 8 16 32 64 128 256 512; do
	e=$(get emulate l1_rewrite $n) u=$(get unhook l1_rewrite $n) a=$(get auto l1_rewrite $n)
	echo "$n,$e,$u,$a,$wf,$mp" >>"$OUT/l1_rewrite.csv"
	awk -v n=$n -v e="$e" -v u="$u" -v a="$a" -v p="$(awk -v w="$wf" -v m="$mp" 'BEGIN { print w + m }')" 'BEGIN {
		best = e < u ? e : u
		printf "  %5d %8.0f (%4.1fx) %8.0f (%5.2fx) %8.0f (%4.1fx)  %.2f\n", n, e, e / p, u, u / p, a, a / p, a / best }'
	if [ -z "$cross" ] && awk -v e="$e" -v u="$u" 'BEGIN { exit !(u < e) }'; then cross=$n; fi
done
echo
echo "crossover: unhooking beats emulation from N = ${cross:-never} entries per cycle"
e512=$(get emulate l1_rewrite 512) u512=$(get unhook l1_rewrite 512)
printf 'a 512-entry rewrite: unhook is %.0fx faster than emulating 512 stores\n' \
	"$(awk -v e="$e512" -v u="$u512" 'BEGIN { print e / u }')"
echo "(tables: $OUT/l1_rewrite.csv, $OUT/median.txt)"
