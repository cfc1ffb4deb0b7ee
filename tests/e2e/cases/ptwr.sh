# ptwr: page-table writes in each --ptwr mode, and the refused ones
for mode in emulate unhook auto; do
	run --ptwr=$mode --check-invariants --stats="$WORK/ptwr-$mode.json" $G/ptwr.elf
	cp "$WORK/out" "$WORK/ptwr-$mode.out"
	expect "ptwr passes in --ptwr=$mode with the host checked after every change" 0 \
		'^ptwr: wrote an L1 hooked nowhere, then hooked it$'
done
if cmp -s "$WORK/ptwr-emulate.out" "$WORK/ptwr-unhook.out" && cmp -s "$WORK/ptwr-emulate.out" "$WORK/ptwr-auto.out"; then
	ok "ptwr prints the same in all three modes"
else
	not_ok "ptwr output differs between modes"
fi
em=$(json_num "$WORK/ptwr-emulate.json" emulated); emu=$(json_num "$WORK/ptwr-emulate.json" unhooks)
empf=$(json_num "$WORK/ptwr-emulate.json" page_fault)
if [ "${em:-0}" -ge 1300 ] && [ "$emu" = 0 ] && [ "$empf" -ge "$em" ]; then
	ok "emulate: one real fault per store ($em stores emulated, $empf page faults, no unhooks)"
else
	not_ok "emulate mode counters" "emulated=$em unhooks=$emu page_faults=$empf"
fi
un=$(json_num "$WORK/ptwr-unhook.json" unhooks); unpf=$(json_num "$WORK/ptwr-unhook.json" page_fault)
unent=$(json_num "$WORK/ptwr-unhook.json" resync_entries)
if [ "${un:-0}" -ge 3 ] && [ "${unpf:-999}" -le 40 ] && [ "${unent:-0}" -ge 1280 ]; then
	ok "unhook: $unent entries resynced from $un unhooks at the cost of $unpf page faults"
else
	not_ok "unhook mode counters" "unhooks=$un page_faults=$unpf resync_entries=$unent"
fi
for mode in emulate unhook auto; do
	run --ptwr=$mode --check-invariants $G/ptwr-bad.elf
	expect "ptwr-bad is crashed in --ptwr=$mode, naming frame, index, value and rule" 1 '' \
		'L1 frame 0x[0-9a-f]+ entry 12 = 0x[0-9a-f]+ refused: a writable mapping of a page-table frame$'
done
run --ptwr=emulate $G/ptwr-bad.elf
expect "emulate refuses the bad entry at the store" 1 '' '^pvmm: store to a page table: '
run --ptwr=unhook $G/ptwr-bad.elf
expect "unhook refuses the bad entry at resync" 1 '' '^pvmm: resync of an out-of-sync page table: '
run --ptwr=sometimes $G/ptwr.elf; expect "a bad --ptwr is refused" 2 '' "bad --ptwr 'sometimes'"

