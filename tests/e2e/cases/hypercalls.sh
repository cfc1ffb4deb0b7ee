# hypercalls: edge cases of the hypercalls get Xen's errors (the hcall guest)
run $G/hcall.elf
expect "hypercall edge cases get Xen's errors" 0 '^Test result: SUCCESS$'
expect "memory_op: reservation, maximum RAM page, the M2P window, a one-region memory map" 0 \
	'^hcall: memory_op reports 16384 pages, the M2P window and one RAM region$'
expect "grant tables: query_size, setup_table (frames mapped and written), version 1, refusals" 0 \
	'^hcall: grant table of 4 frames set up, mapped and written; version 1$'
expect "VCPUOP_register_vcpu_info moves vcpu_info; events are flagged at the new place" 0 \
	"^hcall: vcpu_info moved to a page of the guest's; events flagged there$"

