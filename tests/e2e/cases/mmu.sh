# mmu: the PV MMU, with the host mappings checked after every change
run --check-invariants --stats="$WORK/pt.json" $G/pt-basic.elf
expect "pt-basic: tables built, switched and torn down by hypercall" 0 \
	'^pt-basic: switched to a new L4 and back$'
expect "pt-basic reports success" 0 '^Test result: SUCCESS$'
checks=$(grep -o '"invariant_checks": [0-9]*' "$WORK/pt.json" | grep -o '[0-9]*$')
if [ "${checks:-0}" -ge 20 ]; then ok "pt-basic: host mappings matched the tables at all $checks checks"
else not_ok "pt-basic: too few invariant checks" "$(tr -d '\n' <"$WORK/pt.json")"; fi

run --check-invariants --stats="$WORK/pta.json" $G/pt-attacks.elf
expect "pt-attacks: every attack refused, guest intact" 0 '^pt-attacks: every attack refused, guest intact$'
refusals=$(grep -c '^refused: ' "$WORK/out")
if [ "$refusals" -ge 30 ] && grep -q '"updates_refused": [1-9]' "$WORK/pta.json"; then
	ok "pt-attacks: $refusals attacks refused with Xen's errors"
else
	not_ok "pt-attacks: $refusals refusals" "$(tr -d '\n' <"$WORK/pta.json")"
fi

run --check-invariants $G/pt-write-no-assist.elf
expect "a store into a page table is a real fault that crashes the guest" 1 '' \
	'^pvmm: guest wrote to its L4 page-table frame 0x[0-9a-f]+ through 0x[0-9a-f]+ at rip'

