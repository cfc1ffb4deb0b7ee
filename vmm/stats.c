/* stats.c - --stats: counters as JSON at exit. */
#include "vmm/vmm.h"
#include "hypercalls/hc.h"
#include "mmu/ptwr.h"
#include "vmm/backends/backend.h"

static const char *const trap_names[TRAP_KINDS] = {
	[TRAP_HYPERCALL] = "hypercall", [TRAP_PAGE_FAULT] = "page_fault",
	[TRAP_GP_FAULT] = "general_protection", [TRAP_INVALID_OP] = "invalid_opcode",
	[TRAP_BREAKPOINT] = "breakpoint", [TRAP_MATH] = "math", [TRAP_BUS] = "bus",
	[TRAP_INTERRUPT] = "interrupt",
	[TRAP_OTHER] = "other",
};

const char *vmm_end_name(enum vm_end end)
{
	static const char *const names[] = {
		[VM_RUNNING] = "running", [VM_POWEROFF] = "poweroff", [VM_REBOOT] = "reboot",
		[VM_CRASH] = "crash", [VM_TIMEOUT] = "timeout", [VM_INTERRUPTED] = "interrupted",
		[VM_HOST_ERROR] = "host_error",
	};
	return names[end];
}

/* "blk": one object per disk, keyed by its virtual device number. */
static void write_blk(const struct vm *vm, FILE *f)
{
	const struct be_blk_stats *b;
	unsigned vdev;

	fprintf(f, "  \"blk\": {");
	for (unsigned i = 0; (b = be_blk_stats(vm, i, &vdev)); i++)
		fprintf(f, "%s\"%u\": {\"reads\": %llu, \"writes\": %llu, \"flushes\": %llu, "
			"\"read_sectors\": %llu, \"write_sectors\": %llu, \"errors\": %llu, "
			"\"unsupported\": %llu}", i ? ", " : "", vdev,
			(unsigned long long)b->reads, (unsigned long long)b->writes,
			(unsigned long long)b->flushes, (unsigned long long)b->read_sectors,
			(unsigned long long)b->write_sectors, (unsigned long long)b->errors,
			(unsigned long long)b->unsupported);
	fprintf(f, "},\n");
}

static void write_mmu(const struct mmu_counters *c, FILE *f)
{
	fprintf(f, "  \"mmu\": {\"updates\": %llu, \"updates_refused\": %llu, \"pins\": %llu, "
		"\"unpins\": %llu, \"base_switches\": %llu, \"flushes\": %llu, \"invlpgs\": %llu, "
		"\"validations\": %llu, \"devalidations\": %llu, \"syncs\": %llu, "
		"\"sync_ranges\": %llu, \"deferred_fills\": %llu},\n",
		(unsigned long long)c->updates, (unsigned long long)c->updates_refused,
		(unsigned long long)c->pins, (unsigned long long)c->unpins,
		(unsigned long long)c->base_switches, (unsigned long long)c->flushes,
		(unsigned long long)c->invlpgs, (unsigned long long)c->validations,
		(unsigned long long)c->devalidations, (unsigned long long)c->syncs,
		(unsigned long long)c->sync_ranges, (unsigned long long)c->deferred_fills);
}

static void write_ptwr(const struct ptwr_state *p, FILE *f)
{
	static const char *const triggers[PTWR_TRIGGERS] = {
		[PTWR_RESYNC_FAULT] = "fault", [PTWR_RESYNC_HYPERCALL] = "hypercall",
		[PTWR_RESYNC_SLOT] = "slot", [PTWR_RESYNC_SHUTDOWN] = "shutdown",
		[PTWR_RESYNC_SWITCH] = "switch",
	};
	static const char *const fallbacks[PTWR_FALLBACKS] = {
		[PTWR_FB_CODE] = "code", [PTWR_FB_STACK] = "stack", [PTWR_FB_SELF] = "self",
		[PTWR_FB_MULTI] = "multi_hooked", [PTWR_FB_IDLE] = "idle", [PTWR_FB_POLICY] = "policy",
		[PTWR_FB_LOW] = "below_mmap_min_addr",
	};
	const struct ptwr_counters *c = &p->count;

	fprintf(f, "  \"ptwr\": {\"mode\": \"%s\", \"emulated\": %llu, \"unhooks\": %llu, "
		"\"rehooks\": %llu, \"resync_entries\": %llu, \"refused\": %llu, \"aliases\": %llu, "
		"\"resyncs\": {", mmu_ptwr_mode_name(p->mode), (unsigned long long)c->emulated,
		(unsigned long long)c->unhooks, (unsigned long long)c->rehooks,
		(unsigned long long)c->resync_entries, (unsigned long long)c->refused,
		(unsigned long long)c->aliases);
	for (int i = 0; i < PTWR_TRIGGERS; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", triggers[i],
			(unsigned long long)c->resyncs[i]);
	fprintf(f, "}, \"fallbacks\": {");
	for (int i = 0; i < PTWR_FALLBACKS; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", fallbacks[i],
			(unsigned long long)c->fallbacks[i]);
	fprintf(f, "}, \"emulate_ns\": %llu, \"cycle_ns\": %llu, \"fault_ns\": %llu, "
		"\"emulate_samples\": %llu, \"cycle_samples\": %llu},\n",
		(unsigned long long)p->cost.emulate_ns, (unsigned long long)p->cost.cycle_ns,
		(unsigned long long)p->cost.fault_ns, (unsigned long long)p->cost.emulate_samples,
		(unsigned long long)p->cost.cycle_samples);
}

/* The address spaces (mmu/space.c) and their processes (spaces.c). */
static void write_spaces(const struct vm *vm, FILE *f)
{
	const struct mmu_space_counters *c = &vm->mmu.spaces;
	const struct vmm *v = vmm_of(vm);

	fprintf(f, "  \"spaces\": {\"limit\": %u, \"processes\": %llu, \"switches\": %llu, "
		"\"hits\": %llu, \"fresh\": %llu, \"retargets\": %llu, \"forgotten\": %llu, "
		"\"fpu_fetches\": %llu},\n", vm->mmu.nspaces ? vm->mmu.nspaces : 1,
		(unsigned long long)v->spaces.processes, (unsigned long long)c->switches,
		(unsigned long long)c->hits, (unsigned long long)c->fresh,
		(unsigned long long)c->retargets, (unsigned long long)c->forgotten,
		(unsigned long long)v->spaces.fpu_fetches);
}

void vmm_stats_write(const struct vm *vm, FILE *f, double seconds)
{
	const struct vm_stats *s = &vm->stats;
	const char *sep = "";

	fprintf(f, "{\n  \"end\": \"%s\",\n  \"wall_seconds\": %.6f,\n  \"traps\": {",
		vmm_end_name(vm->end), seconds);
	for (int i = 0; i < TRAP_KINDS; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", trap_names[i],
			(unsigned long long)s->traps[i]);
	fprintf(f, "},\n  \"trap_time_ns\": {");
	for (int i = 0; i < TRAP_KINDS; i++)
		fprintf(f, "%s\"%s\": {\"total\": %llu, \"mean\": %llu}", i ? ", " : "", trap_names[i],
			(unsigned long long)s->trap_ns[i],
			(unsigned long long)(s->traps[i] ? s->trap_ns[i] / s->traps[i] : 0));
	fprintf(f, "},\n  \"hypercalls\": {");
	for (unsigned i = 0; i < XEN_HC_COUNT; i++) {
		if (!s->hypercalls[i])
			continue;
		if (hc_name(i))
			fprintf(f, "%s\"%s\": %llu", sep, hc_name(i),
				(unsigned long long)s->hypercalls[i]);
		else
			fprintf(f, "%s\"hypercall_%u\": %llu", sep, i,
				(unsigned long long)s->hypercalls[i]);
		sep = ", ";
	}
	fprintf(f, "%s\"unknown\": %llu, \"fast\": %llu},\n", sep,
		(unsigned long long)s->hypercalls_unknown, (unsigned long long)s->hypercalls_fast);
	fprintf(f, "  \"host_map_ops\": {\"mmap\": %llu, \"munmap\": %llu, \"mprotect\": %llu, "
		"\"mapped_pages\": %llu},\n",
		(unsigned long long)s->map_ops[STUB_OP_MMAP],
		(unsigned long long)s->map_ops[STUB_OP_MUNMAP],
		(unsigned long long)s->map_ops[STUB_OP_MPROTECT], (unsigned long long)s->map_pages);
	write_mmu(&vm->mmu.count, f);
	write_ptwr(&vm->mmu.ptwr, f);
	write_spaces(vm, f);
	fprintf(f, "  \"exceptions\": %llu,\n  \"guest_syscalls\": %llu,\n  \"privops\": %llu,\n"
		"  \"halts\": %llu,\n  \"emulated_loads\": %llu,\n", (unsigned long long)s->exceptions,
		(unsigned long long)s->guest_syscalls, (unsigned long long)s->privops,
		(unsigned long long)s->halts, (unsigned long long)s->emulated_loads);
	fprintf(f, "  \"compat_entries\": %llu,\n  \"compat_refused\": %llu,\n",
		(unsigned long long)s->compat_entries, (unsigned long long)s->compat_refused);
	write_blk(vm, f);
	fprintf(f, "  \"lowexec\": {\"runs\": %llu, \"steps\": %llu, \"blocks\": %llu, \"ns\": %llu, "
		"\"fills\": %llu, \"resets\": %llu, \"code_flushes\": %llu},\n",
		(unsigned long long)s->lowexec_runs, (unsigned long long)s->lowexec_steps,
		(unsigned long long)s->lowexec_blocks, (unsigned long long)s->lowexec_ns,
		(unsigned long long)s->lowexec_fills, (unsigned long long)s->lowexec_resets,
		(unsigned long long)s->lowexec_flushes);
	fprintf(f, "  \"invariant_checks\": %llu,\n  \"handoffs\": %llu,\n  \"console_bytes\": %llu\n}\n",
		(unsigned long long)s->invariant_checks, (unsigned long long)s->handoffs,
		(unsigned long long)s->console_bytes);
}
