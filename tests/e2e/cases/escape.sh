# escape: a hostile guest: every escape attempt is contained
for a in open execve socket fork ptrace kill mmapfd mprotect; do
	rm -f "$WORK/escaped"
	run --timeout=20 -c "attempt=$a file=$WORK/escaped" $G/escape.elf
	if [ "$status" = 1 ] && grep -q 'killed by seccomp: it made a host system call' "$WORK/err" &&
	   ! grep -q 'the host let it through' "$WORK/out" && [ ! -e "$WORK/escaped" ]; then
		ok "escape '$a': a real host system call from the guest kills only the guest"
	else
		not_ok "escape '$a'" "status $status" "$(cat "$WORK/out" "$WORK/err")"
	fi
done
run --timeout=20 -c attempt=exit $G/escape.elf
expect "escape 'exit': a guest that exits its own process through the stub is a crash (1), not a host error" 1 '' \
	'^pvmm: guest process exited with status 0: the guest made the exit system call through its sandbox stub$'
run --timeout=20 -c attempt=stubjump $G/escape.elf
expect "escape 'stubjump': jumping into the stub crashes the guest, not pvmm" 1 '' 'inside the pvmm stub'
run --timeout=20 -c attempt=scribble $G/escape.elf
if [ "$status" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ]; then
	ok "escape 'scribble': overwriting pvmm's control page hurts only the guest ($(cut -c1-60 "$WORK/err"))"
else
	not_ok "escape 'scribble'" "status $status" "$(cat "$WORK/err")"
fi
run --timeout=20 -c attempt=race $G/escape.elf
if { [ "$status" = 0 ] && grep -q '^escape: race: pvmm still answers' "$WORK/out"; } ||
   { [ "$status" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ]; }; then
	ok "escape 'race': 20,000 forged hand-offs over a changing control page hurt only the guest (status $status)"
else
	not_ok "escape 'race'" "status $status" "$(cat "$WORK/out" "$WORK/err")"
fi
run --timeout=20 -c attempt=beyond $G/escape.elf
expect "escape 'beyond': memory mapped past the end of guest memory is a bus error that ends only the guest" \
	1 '' '^pvmm: bus error at 0x100000000000'
run --timeout=20 -c attempt=maps $G/escape.elf
expect "escape 'maps': exhausting host mappings is refused with a clear line" 1 '' \
	'needs more host mappings than a process may have'
no_guest_left "escape attempts"
