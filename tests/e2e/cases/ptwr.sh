# ptwr: page-table writes in each --ptwr mode, and the refused ones
# ptwr in each mode (auto, ptwr~emulate, ptwr~unhook, with their counters) and
# ptwr-bad in each mode: their .cfg files say what each run shows
units ptwr ptwr~emulate ptwr~unhook ptwr-bad ptwr-bad~emulate ptwr-bad~unhook
k=$WORK/kept
if cmp -s "$k/ptwr~emulate.console" "$k/ptwr~unhook.console" && cmp -s "$k/ptwr~emulate.console" "$k/ptwr.console"; then
	ok "ptwr prints the same in all three modes"
else
	not_ok "ptwr output differs between modes"
fi
run --ptwr=sometimes $G/ptwr.elf; expect "a bad --ptwr is refused" 2 '' "bad --ptwr 'sometimes'"
