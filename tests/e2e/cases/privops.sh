# privops: privileged instructions and descriptors, emulated as Xen does
run --check-invariants --stats="$WORK/privops.json" $G/privops.elf
expect "privops: control registers, forced cpuid, MSRs and segment bases emulated as Xen does" 0 \
	'^privops: flat segment loads, EFER, FS and GS bases, hlt$'
expect "privops: cli, sti, in, out, lgdt, lidt, invlpg get #GP" 0 '^Test result: SUCCESS$'
expect "privops: loads from the M2P and below mmap_min_addr are emulated" 0 '^privops: loads from the M2P table and from page 0 emulated$'
expect "privops: set_gdt and update_descriptor check descriptors and types" 0 '^privops: set_gdt and update_descriptor check every descriptor$'
expect "privops: non-canonical bases get #GP (wrmsr) and -EINVAL (set_segment_base), not a host error" 0 \
	'^privops: non-canonical FS, GS and shadow GS bases get #GP and -EINVAL, as on Xen$'
run -c upper-base $G/privops.elf
expect "privops: an upper-half FS base, which no process can have, crashes the domain (status 1)" 1 '' \
	'Xen would accept this canonical address, but a Linux process cannot have a segment base at or above 0x7ffffffff000'
pv=$(json_num "$WORK/privops.json" privops)
[ "${pv:-0}" -ge 15 ] && ok "privops: $pv privileged instructions emulated" || not_ok "privops counter: $pv"

