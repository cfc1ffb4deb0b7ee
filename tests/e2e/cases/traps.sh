# traps: exceptions, user mode and system calls
run --check-invariants --stats="$WORK/traps.json" $G/traps.elf
expect "traps: every exception delivered in kernel mode" 0 '^traps: #PF not-present, write-protect and no-execute, with cr2$'
expect "traps: user mode with its own tables, system calls bounced, iret both ways" 0 \
	'^traps: user mode: system calls bounced, #PF with the user bit, #BP, #GP for a DPL 0 gate, int \$0x80$'
exc=$(json_num "$WORK/traps.json" exceptions); sc=$(json_num "$WORK/traps.json" guest_syscalls)
if [ "${exc:-0}" -ge 14 ] && [ "${sc:-0}" = 3 ]; then ok "traps: $exc exceptions delivered, $sc user system calls bounced"
else not_ok "traps counters" "exceptions=$exc guest_syscalls=$sc"; fi

