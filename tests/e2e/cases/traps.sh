# traps: exceptions, user mode and system calls; 32-bit user code
units traps compat32
# compat32 may skip only where pvmm found the host without 32-bit user code
# and said so; where the host has it, the guest must have run 32-bit code
if grep -q '^compat32: SKIP' "$WORK/kept/compat32.console" 2>/dev/null; then
	if grep -q '^pvmm: the guest switched to 32-bit code (CS FLAT_RING3_CS32), which this host cannot run' "$WORK/kept/compat32.console"; then
		ok "compat32 skipped on a host without 32-bit user code, and pvmm said so"
	else
		not_ok "compat32 skipped without pvmm's line about the host" "$(tail -3 "$WORK/kept/compat32.console")"
	fi
fi
