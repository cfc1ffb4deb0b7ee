/* lowexec.c - guest code below vm.mmap_min_addr, run in Unicorn (lowexec.h). */
#include "vmm/lowexec.h"
#include "mmu/emulate.h"
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <cpuid.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unicorn/unicorn.h>

#define PAGE 4096ull
/* Unicorn 2.0's x86 MMU walks the page tables for presence and
 * permissions but then accesses the virtual address itself as physical,
 * and looks for a memory region there before it walks. So each guest page
 * the code touches becomes a region of the engine at its own address,
 * backed by the frame the guest's tables map there in pvmm's mapping of
 * the memory file (or a page of zeros where they map nothing), made when
 * the engine first finds no region (on_no_region); the shadow's leaves,
 * filled on the #PF that follows, say present, writable, user.
 * pvmm's own pages (the shadow tables, what the switch to ring 3 needs)
 * are a region just below 1 TiB, within the emulated CPU's 40 physical
 * address bits; a guest page there cannot be emulated. */
#define PRIV_BASE 0xff00000000ull
#define MAX_MAPPED 16384u          /* guest pages mapped as regions at most */
#define POOL 1024u                 /* shadow table frames; 0 is the L4 */
#define GDT_PAGE POOL
#define STACK_PAGE (POOL + 1)
#define CODE_PAGE (POOL + 2)
#define PRIV_PAGES (POOL + 3)
#define NEVER 0xffffffffffffffffull /* an exit address no code reaches */
#define SLICE_BLOCKS (1u << 20)    /* blocks between looks at events */
#define MAX_FILLS 64               /* shadow fills for one instruction */
#define MAX_RUN_FILLS 4096         /* shadow fills between looks at events */

#define SEL_CODE 0x0b              /* GDT entry 1, RPL 3: 64-bit code, DPL 3 */
#define SEL_DATA 0x13              /* GDT entry 2, RPL 3: data, DPL 3 */
#define SHADOW_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)
#define USER_FLAGS 0x40cd5ull      /* CF PF AF ZF SF DF OF AC ID: what ring 3 changes */
#define EFLAGS_IF 0x200ull
#define AUDIT_ARCH_I386_VALUE 0x40000003u
#define SYS_USER_DISPATCH_CODE 2

enum { EXEC_UNKNOWN, EXEC_YES, EXEC_NO };
enum stop { STOP_NONE, STOP_LEFT, STOP_SLICE, STOP_STEPPED, STOP_EXC, STOP_SYSCALL };

struct vmm_lowexec {
	uc_engine *uc;
	uc_context *clean;      /* ring 3, paging on, no exception pending */
	uint8_t *priv;          /* PRIV_PAGES pages at PRIV_BASE */
	unsigned used;          /* shadow frames in use */
	int flush_tlb;          /* the shadow changed: the CPU's TLB must go */
	struct vm *vm;
	uint64_t npages;        /* pages below vm->min_va */
	uint8_t *exec;          /* per low page: EXEC_UNKNOWN, _YES or _NO by the guest's tables */
	uint64_t *code_mfn;     /* per low page: frame its translated code came from, or 0 */
	uint8_t *code_copy;     /* ... and that frame's contents then */
	uint64_t gen_mmu, gen_ops, gen_cr3; /* what the shadow was built from */
	uint8_t *zeros;         /* what a region shows where the guest maps nothing */
	uint64_t *mapped;       /* the guest pages mapped as engine regions ... */
	unsigned nmapped;       /* ... and how many */
	/* the run in progress */
	int step, stepped;
	uint32_t budget;
	enum stop stop;
	uint32_t intno;
	uint64_t rip, cr2;      /* at the exception */
	int fetch;              /* the exception is a fetch from a page that may not run */
	uint64_t bad_addr;      /* an access the engine found no region for */
};

static const int reg_ids[STUB_NREGS] = {
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,
	UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RDI, UC_X86_REG_RSI,
	UC_X86_REG_RBP, UC_X86_REG_RBX, UC_X86_REG_RDX, UC_X86_REG_RAX, UC_X86_REG_RCX,
	UC_X86_REG_RSP, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t reg(uc_engine *uc, int id)
{
	uint64_t v = 0;

	uc_reg_read(uc, id, &v);
	return v;
}

static void set_reg(uc_engine *uc, int id, uint64_t v)
{
	uc_reg_write(uc, id, &v);
}

static void set_msr(uc_engine *uc, uint32_t id, uint64_t v)
{
	uc_x86_msr m = { id, v };

	uc_reg_write(uc, UC_X86_REG_MSR, &m);
}

/* ---- the shadow page table ------------------------------------------------ */

static uint64_t *table(struct vmm_lowexec *lx, uint64_t phys)
{
	return (uint64_t *)(lx->priv + (phys - PRIV_BASE));
}

static void shadow_reset(struct vmm_lowexec *lx)
{
	for (unsigned i = 0; i < lx->nmapped; i++) /* also empties the engine's TLB */
		uc_mem_unmap(lx->uc, lx->mapped[i], PAGE);
	lx->nmapped = 0;
	memset(lx->priv, 0, PAGE);
	lx->used = 1;
	memset(lx->exec, 0, lx->npages);
	lx->flush_tlb = 1;
}

/* The table entry that maps (va) at level 1, or NULL when a table above
 * it is missing and (make) is 0 or the pool is spent. */
static uint64_t *shadow_slot(struct vmm_lowexec *lx, uint64_t va, int make)
{
	uint64_t *t = table(lx, PRIV_BASE);

	for (int level = 4; level > 1; level--) {
		uint64_t *e = &t[(va >> (12 + 9 * (level - 1))) & 511];
		if (!(*e & PTE_P)) {
			if (!make || lx->used == POOL)
				return NULL;
			memset(lx->priv + lx->used * PAGE, 0, PAGE);
			*e = (PRIV_BASE + lx->used++ * PAGE) | SHADOW_TABLE;
		}
		t = table(lx, *e & PTE_ADDR_MASK);
	}
	return &t[(va >> 12) & 511];
}

static uint64_t shadow_leaf(struct vmm_lowexec *lx, uint64_t va)
{
	uint64_t *e = shadow_slot(lx, va, 0);

	return e ? *e : 0;
}

/* Let the engine reach page (va), whose region was made from the same
 * walk, with host protection (prot): 0, or -1 where it cannot (pvmm's own
 * region, or the pool is spent: start over, and retry). */
static int shadow_map(struct vmm_lowexec *lx, uint64_t va, int prot)
{
	uint64_t *e = shadow_slot(lx, va, 1);

	if (va >= PRIV_BASE && va - PRIV_BASE < PRIV_PAGES * PAGE)
		return -1;
	if (!e) {
		shadow_reset(lx);
		return 0; /* the region is gone with the rest: the retry makes both again */
	}
	*e = PTE_P | PTE_US | PTE_A | PTE_D | ((prot & PROT_WRITE) ? PTE_RW : 0);
	return 0;
}

static uint64_t ops_emitted(const struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < sizeof(vm->stats.map_ops) / sizeof(*vm->stats.map_ops); i++)
		n += vm->stats.map_ops[i];
	return n;
}

/* The shadow mirrors the host mappings and the tables below vm->min_va:
 * any change to either (a changed entry, a host mapping operation, another
 * L4) starts it over. */
static void shadow_check(struct vmm_lowexec *lx, struct vm *vm)
{
	uint64_t cr3 = mfn_x(vcpu_cr3(&vm->vcpu)), ops = ops_emitted(vm);

	if (lx->gen_mmu == vm->mmu.gen && lx->gen_ops == ops && lx->gen_cr3 == cr3 &&
	    lx->nmapped < MAX_MAPPED / 2)
		return;
	lx->gen_mmu = vm->mmu.gen, lx->gen_ops = ops, lx->gen_cr3 = cr3;
	shadow_reset(lx);
	vm->stats.lowexec_resets++;
}

/* ---- translated code ------------------------------------------------------- */

/* The translations of low pages stand for the frames they were made from;
 * native code (through another mapping) or pvmm may have written those. */
static void code_check(struct vmm_lowexec *lx, struct vm *vm)
{
	struct mmu_walk w;

	for (uint64_t p = 0; p < lx->npages; p++) {
		if (!lx->code_mfn[p])
			continue;
		if (!mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(p * PAGE), &w) && w.mfn == lx->code_mfn[p] &&
		    !memcmp(lx->code_copy + p * PAGE, vm->mem + w.mfn * PAGE, PAGE))
			continue;
		/* a new region for the page: translations are looked up by the
		 * region's memory, so the old ones are never found again (a
		 * whole flush takes seconds, and Unicorn 2.0's range removal
		 * walks the emulated MMU outside a run) */
		for (unsigned i = 0; i < lx->nmapped; i++)
			if (lx->mapped[i] == p * PAGE) {
				uc_mem_unmap(lx->uc, p * PAGE, PAGE);
				lx->mapped[i] = lx->mapped[--lx->nmapped];
				break;
			}
		lx->code_mfn[p] = 0;
		vm->stats.lowexec_flushes++;
	}
}

static void code_note(struct vmm_lowexec *lx, uint64_t page)
{
	struct mmu_walk w;
	uint64_t mfn;

	if (mmu_walk(lx->vm, vcpu_cr3(&lx->vm->vcpu), _gva(page * PAGE), &w) || lx->code_mfn[page] == w.mfn)
		return;
	mfn = w.mfn;
	lx->code_mfn[page] = mfn;
	memcpy(lx->code_copy + page * PAGE, lx->vm->mem + mfn * PAGE, PAGE);
}

/* ---- hooks ----------------------------------------------------------------- */

static void on_interrupt(uc_engine *uc, uint32_t intno, void *data)
{
	struct vmm_lowexec *lx = data;

	lx->stop = STOP_EXC;
	lx->intno = intno;
	lx->rip = reg(uc, UC_X86_REG_RIP);
	lx->cr2 = reg(uc, UC_X86_REG_CR2);
	uc_emu_stop(uc);
}

static bool on_invalid(uc_engine *uc, void *data)
{
	struct vmm_lowexec *lx = data;

	lx->stop = STOP_EXC;
	lx->intno = X86_UD;
	lx->rip = reg(uc, UC_X86_REG_RIP);
	return false;
}

static void on_syscall(uc_engine *uc, void *data)
{
	struct vmm_lowexec *lx = data;

	lx->stop = STOP_SYSCALL;
	lx->rip = reg(uc, UC_X86_REG_RIP);
	uc_emu_stop(uc);
}

/* The engine found no region at (addr): make one for its page (see
 * PRIV_BASE). When it cannot (too many), the address is kept for the one
 * line that ends the domain. */
static bool on_no_region(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
			 void *data)
{
	struct vmm_lowexec *lx = data;
	uint64_t va = addr & ~(PAGE - 1);
	struct mmu_walk w;
	uint8_t *host = lx->zeros;

	(void)type, (void)size, (void)value;
	if (!mmu_walk(lx->vm, vcpu_cr3(&lx->vm->vcpu), _gva(va), &w))
		host = lx->vm->mem + w.mfn * PAGE;
	if (lx->nmapped == MAX_MAPPED || uc_mem_map_ptr(uc, va, PAGE, UC_PROT_ALL, host)) {
		lx->bad_addr = addr;
		return false;
	}
	lx->mapped[lx->nmapped++] = va;
	return true; /* the access goes on to the shadow: a #PF where it has no leaf */
}

/* cpuid answers as the host's does for native code */
static int on_cpuid(uc_engine *uc, void *data)
{
	unsigned a, b, c, d;

	(void)data;
	__cpuid_count((unsigned)reg(uc, UC_X86_REG_RAX), (unsigned)reg(uc, UC_X86_REG_RCX), a, b, c, d);
	set_reg(uc, UC_X86_REG_RAX, a), set_reg(uc, UC_X86_REG_RBX, b);
	set_reg(uc, UC_X86_REG_RCX, c), set_reg(uc, UC_X86_REG_RDX, d);
	return 1;
}

/* Whether the guest's tables let low page (page) run (the emulated CPU,
 * without NX, would run it anyway); known since the shadow last started
 * over, or walked now. */
static int low_exec(struct vmm_lowexec *lx, uint64_t page)
{
	struct mmu_walk w;

	if (lx->exec[page] == EXEC_UNKNOWN)
		lx->exec[page] = !mmu_walk(lx->vm, vcpu_cr3(&lx->vm->vcpu), _gva(page * PAGE), &w) && w.exec
				 ? EXEC_YES : EXEC_NO;
	return lx->exec[page] == EXEC_YES;
}

/* A block of low code is about to run. */
static void on_low_block(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct vmm_lowexec *lx = data;
	uint64_t page = addr / PAGE;

	(void)size;
	if (lx->step) { /* a step ends where low code begins */
		lx->stop = STOP_STEPPED;
		uc_emu_stop(uc);
		return;
	}
	if (page >= lx->npages || !low_exec(lx, page)) { /* the CPU has no NX: the guest's tables do */
		lx->stop = STOP_EXC, lx->intno = X86_PF, lx->rip = lx->cr2 = addr, lx->fetch = 1;
		uc_emu_stop(uc);
		return;
	}
	code_note(lx, page);
	lx->vm->stats.lowexec_blocks++;
	if (!--lx->budget) {
		lx->stop = STOP_SLICE;
		uc_emu_stop(uc);
	}
}

/* An instruction at or above vm->min_va is about to run. */
static void on_high_code(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct vmm_lowexec *lx = data;

	(void)addr, (void)size;
	if (lx->step && !lx->stepped++)
		return; /* the step's own instruction */
	lx->stop = lx->step ? STOP_STEPPED : STOP_LEFT;
	uc_emu_stop(uc);
}

/* ---- the engine -------------------------------------------------------------- */

/* Ring 3: an iretq through a GDT with a 64-bit code and a data segment of
 * DPL 3, run before paging is on; then the GDT is emptied (every segment
 * load faults, as Xen's flat selectors do in a Linux process), the shadow
 * L4 becomes CR3 and paging goes on. */
static int to_ring3(struct vmm_lowexec *lx)
{
	uint64_t *gdt = (uint64_t *)(lx->priv + GDT_PAGE * PAGE);
	uint64_t *stack = (uint64_t *)(lx->priv + STACK_PAGE * PAGE);
	static const uint8_t iretq[] = { 0x48, 0xcf };
	uc_x86_mmr g = { 0, PRIV_BASE + GDT_PAGE * PAGE, 0xffff, 0 };
	uint64_t code = PRIV_BASE + CODE_PAGE * PAGE;

	/* returns to just after itself, where the run ends */
	gdt[1] = 0x00affa000000ffffull; /* code: P, DPL 3, L */
	gdt[2] = 0x00cff2000000ffffull; /* data: P, DPL 3, writable */
	stack[0] = code + sizeof(iretq), stack[1] = SEL_CODE, stack[2] = 0x202, stack[3] = 0, stack[4] = SEL_DATA;
	memcpy(lx->priv + CODE_PAGE * PAGE, iretq, sizeof(iretq));
	if (uc_reg_write(lx->uc, UC_X86_REG_GDTR, &g))
		return -1;
	set_reg(lx->uc, UC_X86_REG_RSP, PRIV_BASE + STACK_PAGE * PAGE);
	if (uc_emu_start(lx->uc, code, code + sizeof(iretq), 0, 0) || (reg(lx->uc, UC_X86_REG_CS) & 3) != 3)
		return -1;
	g.limit = 0;
	uc_reg_write(lx->uc, UC_X86_REG_GDTR, &g);
	shadow_reset(lx);
	set_reg(lx->uc, UC_X86_REG_CR4, 0x620);      /* PAE, OSFXSR, OSXMMEXCPT */
	set_reg(lx->uc, UC_X86_REG_CR3, PRIV_BASE);
	set_reg(lx->uc, UC_X86_REG_CR0, 0x80010033); /* PG, WP, NE, ET, MP, PE */
	return 0;
}

static int add_hooks(struct vmm_lowexec *lx, uint64_t min_va)
{
	uc_hook h;

	return uc_hook_add(lx->uc, &h, UC_HOOK_INTR, (void *)on_interrupt, lx, 1, 0) ||
	       uc_hook_add(lx->uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, lx, 1, 0) ||
	       uc_hook_add(lx->uc, &h, UC_HOOK_MEM_INVALID, (void *)on_no_region, lx, 1, 0) ||
	       uc_hook_add(lx->uc, &h, UC_HOOK_INSN, (void *)on_syscall, lx, 1, 0, UC_X86_INS_SYSCALL) ||
	       uc_hook_add(lx->uc, &h, UC_HOOK_INSN, (void *)on_cpuid, lx, 1, 0, UC_X86_INS_CPUID) ||
	       uc_hook_add(lx->uc, &h, UC_HOOK_BLOCK, (void *)on_low_block, lx, 0, min_va - 1) ||
	       uc_hook_add(lx->uc, &h, UC_HOOK_CODE, (void *)on_high_code, lx, min_va, NEVER);
}

void vmm_lowexec_free(struct vmm_lowexec *lx)
{
	if (!lx)
		return;
	if (lx->clean)
		uc_context_free(lx->clean);
	if (lx->uc)
		uc_close(lx->uc);
	if (lx->priv)
		munmap(lx->priv, PRIV_PAGES * PAGE);
	free(lx->exec);
	free(lx->code_mfn);
	free(lx->code_copy);
	free(lx->mapped);
	free(lx->zeros);
	free(lx);
}

static struct vmm_lowexec *engine(struct vm *vm)
{
	struct vmm_lowexec *lx = calloc(1, sizeof(*lx));

	if (!lx)
		return NULL;
	lx->vm = vm;
	lx->npages = vm->min_va / PAGE;
	lx->exec = calloc(lx->npages ? lx->npages : 1, 1);
	lx->code_mfn = calloc(lx->npages ? lx->npages : 1, sizeof(*lx->code_mfn));
	lx->code_copy = malloc((lx->npages ? lx->npages : 1) * PAGE);
	lx->mapped = calloc(MAX_MAPPED, sizeof(*lx->mapped));
	lx->zeros = aligned_alloc(PAGE, PAGE);
	if (lx->zeros)
		memset(lx->zeros, 0, PAGE);
	lx->priv = mmap(NULL, PRIV_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lx->priv == MAP_FAILED)
		lx->priv = NULL;
	if (!lx->exec || !lx->code_mfn || !lx->code_copy || !lx->mapped || !lx->zeros || !lx->priv ||
	    uc_open(UC_ARCH_X86, UC_MODE_64, &lx->uc) ||
	    uc_mem_map_ptr(lx->uc, PRIV_BASE, PRIV_PAGES * PAGE, UC_PROT_ALL, lx->priv) ||
	    to_ring3(lx) || add_hooks(lx, vm->min_va) || uc_context_alloc(lx->uc, &lx->clean) ||
	    uc_context_save(lx->uc, lx->clean)) {
		vmm_lowexec_free(lx);
		return NULL;
	}
	lx->gen_cr3 = UINT64_MAX; /* built from nothing yet */
	return lx;
}

/* ---- a run -------------------------------------------------------------------- */

/* The guest's registers into the engine, as its process would have them:
 * IF set, IOPL 0, no single step (lowexec.h); the FS and GS bases of its
 * mode. */
static void load_regs(struct vmm_lowexec *lx, const struct vm *vm)
{
	struct stub_regs r = vm->vcpu.regs;
	uint64_t *v = (uint64_t *)&r;
	void *vals[STUB_NREGS];

	r.eflags = (r.eflags & USER_FLAGS) | EFLAGS_IF | 2;
	for (int i = 0; i < STUB_NREGS; i++)
		vals[i] = &v[i];
	uc_reg_write_batch(lx->uc, (int *)reg_ids, vals, STUB_NREGS);
	set_msr(lx->uc, 0xc0000100, vm->vcpu.fs_base);
	set_msr(lx->uc, 0xc0000101, vm->vcpu.user_mode ? vm->vcpu.gs_base_user : vm->vcpu.gs_base_kernel);
}

static void save_regs(struct vmm_lowexec *lx, struct vm *vm)
{
	struct stub_regs r;
	uint64_t *v = (uint64_t *)&r, flags = vm->vcpu.regs.eflags;
	void *vals[STUB_NREGS];

	for (int i = 0; i < STUB_NREGS; i++)
		vals[i] = &v[i];
	uc_reg_read_batch(lx->uc, (int *)reg_ids, vals, STUB_NREGS);
	r.eflags = (r.eflags & USER_FLAGS) | (flags & ~USER_FLAGS);
	r.cs = vm->vcpu.regs.cs; /* not the engine's: the guest's selector stays */
	vm->vcpu.regs = r;
}

static void signal_trap(struct stub_trap *t, int signo, uint64_t trapno, uint64_t err, uint64_t addr)
{
	memset(t, 0, sizeof(*t));
	t->event = STUB_EV_SIGNAL;
	t->signo = signo;
	t->trapno = trapno;
	t->err = err;
	t->addr = addr;
}

/* Whether the instruction at (rip) writes memory (a #PF's W bit). */
static int writes_memory(struct vm *vm, uint64_t rip)
{
	uint8_t bytes[15];
	size_t n = mmu_fetch_insn(vm, rip, bytes);

	return n && mmu_emul_writes(bytes, n) > 0;
}

/* A #PF in the emulator at (cr2). When the guest's tables and the host's
 * view allow an access the shadow lacks, the shadow gets the page and the
 * instruction is retried (1). Otherwise (0) (t) is the fault the host
 * would report natively: P when the host has the page, W for a store, I
 * for a fetch, U (the guest process is user code). -1: the domain ended. */
static int page_fault(struct vmm_lowexec *lx, struct vm *vm, struct stub_trap *t)
{
	uint64_t cr2 = lx->cr2, va = cr2 & ~(PAGE - 1), leaf = 0, err = MMU_PFEC_USER;
	struct mmu_walk w;

	if (va < HOLE_BASE)
		leaf = shadow_leaf(lx, va);
	if (va < HOLE_BASE && !lx->fetch && !leaf) {
		int rc = mmu_ptwr_access(vm, cr2); /* an unhooked L1's range: resync */
		if (rc)
			return rc < 0 || vm->end ? -1 : 1;
		if (!mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(va), &w)) {
			int prot = mmu_page_prot(vm, _gva(va), &w);
			if (prot & PROT_READ) {
				if (shadow_map(lx, va, prot)) {
					vm_end_domain(vm, VM_CRASH, "guest page %#llx lies where the instruction "
						      "emulator keeps its own pages [%#llx, %#llx)",
						      (unsigned long long)va, (unsigned long long)PRIV_BASE,
						      (unsigned long long)(PRIV_BASE + PRIV_PAGES * PAGE));
					return -1;
				}
				vm->stats.lowexec_fills++;
				return 1;
			}
		}
	}
	if (leaf)
		err |= MMU_PFEC_PRESENT | (lx->fetch ? 0 : MMU_PFEC_WRITE); /* reads never fault there */
	else if (lx->fetch || cr2 - lx->rip < 15)
		err |= MMU_PFEC_FETCH; /* bytes of the instruction itself: fetched first */
	else if (writes_memory(vm, lx->rip))
		err |= MMU_PFEC_WRITE;
	if (lx->fetch)
		err |= MMU_PFEC_FETCH | (leaf ? MMU_PFEC_PRESENT : 0);
	signal_trap(t, SIGSEGV, X86_PF, err, cr2);
	return 0;
}

/* The byte pattern of a software interrupt ending at (rip), as the
 * emulator reports them (rip after the instruction): its length, 0 when
 * the exception came from something else. */
static unsigned soft_int_len(struct vm *vm, uint64_t rip, uint32_t intno)
{
	uint8_t b[2];

	if (rip >= 2 && !mmu_copy_from_guest(vm, b, rip - 2, 2) && b[0] == 0xcd && b[1] == intno)
		return 2;
	if (rip >= 1 && !mmu_copy_from_guest(vm, b, rip - 1, 1) &&
	    ((intno == X86_BP && b[0] == 0xcc) || (intno == X86_DB && b[0] == 0xf1)))
		return 1;
	return 0;
}

/* An exception other than #PF, as the host reports it natively (Linux's
 * IDT: int3, icebp and int $0x80 are open to user code, every other
 * `int $n` is #GP with the gate in the error code). 0 with (t) filled, -1
 * when pvmm cannot give it (the domain is ended). */
static int exception(struct vmm_lowexec *lx, struct vm *vm, struct stub_trap *t)
{
	uint32_t v = lx->intno;
	unsigned soft = soft_int_len(vm, lx->rip, v);

	vm->vcpu.regs.rip = lx->rip;
	if (soft && v == 0x80) {
		signal_trap(t, SIGSYS, 0, 0, 0);
		t->code = SYS_USER_DISPATCH_CODE;
		t->syscall_arch = AUDIT_ARCH_I386_VALUE;
		return 0;
	}
	if (soft && (v == X86_BP || v == X86_DB)) {
		signal_trap(t, SIGTRAP, v, 0, 0);
		return 0;
	}
	if (soft) { /* through a gate user code may not use */
		vm->vcpu.regs.rip -= soft;
		signal_trap(t, SIGSEGV, X86_GP, (v << 3) | 2, 0);
		return 0;
	}
	switch (v) {
	case X86_GP: signal_trap(t, SIGSEGV, v, 0, 0); return 0;
	case X86_UD: signal_trap(t, SIGILL, v, 0, 0); return 0;
	case X86_DE: case X86_MF: case X86_XM: signal_trap(t, SIGFPE, v, 0, 0); return 0;
	case X86_SS: case X86_NP: case X86_AC: signal_trap(t, SIGBUS, v, 0, 0); return 0;
	default:
		vm_end_domain(vm, VM_CRASH, "guest code below vm.mmap_min_addr raised exception %u at rip %#llx "
			      "in the instruction emulator, which pvmm cannot deliver", v,
			      (unsigned long long)lx->rip);
		return -1;
	}
}

/* The engine stopped for (lx->stop): the registers are the guest's again. */
static enum vmm_lowexec_end stopped(struct vmm_lowexec *lx, struct vm *vm, struct stub_trap *t)
{
	struct stub_regs *r = &vm->vcpu.regs;

	save_regs(lx, vm);
	switch (lx->stop) {
	case STOP_LEFT: return LOWEXEC_LEFT;
	case STOP_SLICE: return LOWEXEC_SLICE;
	case STOP_STEPPED: return LOWEXEC_STEP;
	case STOP_SYSCALL: /* as the instruction does natively, then SIGSYS */
		r->rip = lx->rip + 2;
		r->rcx = r->rip;
		r->r11 = r->eflags;
		signal_trap(t, SIGSYS, 0, 0, 0);
		t->code = SYS_USER_DISPATCH_CODE;
		t->syscall_arch = 0xc000003eu; /* AUDIT_ARCH_X86_64 */
		return LOWEXEC_TRAP;
	default:
		return exception(lx, vm, t) ? LOWEXEC_ENDED : LOWEXEC_TRAP;
	}
}

static enum vmm_lowexec_end run_once(struct vmm_lowexec *lx, struct vm *vm, int step)
{
	uc_err e;

	uc_context_restore(lx->uc, lx->clean);
	if (lx->flush_tlb) /* a CR3 write flushes the emulated TLB */
		set_reg(lx->uc, UC_X86_REG_CR3, PRIV_BASE);
	lx->flush_tlb = 0;
	load_regs(lx, vm);
	lx->step = step, lx->stepped = 0, lx->fetch = 0;
	lx->budget = SLICE_BLOCKS;
	lx->stop = STOP_NONE;
	e = uc_emu_start(lx->uc, vm->vcpu.regs.rip, NEVER, 0, 0);
	if (lx->stop == STOP_NONE) {
		vm_end_domain(vm, VM_CRASH, "the instruction emulator stopped near rip %#llx (address "
			      "%#llx): %s", (unsigned long long)reg(lx->uc, UC_X86_REG_RIP),
			      (unsigned long long)lx->bad_addr, uc_strerror(e));
		return LOWEXEC_ENDED;
	}
	return LOWEXEC_TRAP; /* for the caller to look at lx->stop */
}

enum vmm_lowexec_end vmm_lowexec_run(struct vmm_lowexec **plx, struct vm *vm, int step,
				     struct stub_trap *t)
{
	struct vmm_lowexec *lx = *plx;
	uint64_t t0 = now_ns();
	enum vmm_lowexec_end end = LOWEXEC_ENDED;

	if (!lx && !(lx = *plx = engine(vm))) {
		vm_end_domain(vm, VM_HOST_ERROR, "cannot start the instruction emulator (Unicorn) for guest "
			      "code below vm.mmap_min_addr");
		return LOWEXEC_ENDED;
	}
	vm->stats.lowexec_runs += !step;
	vm->stats.lowexec_steps += !!step;
	if (!step)
		code_check(lx, vm);
	/* Fills are progress as long as the fault moves: code that walks
	 * memory (a page allocator's first pass, a `rep movs` across pages)
	 * takes one per page. The same instruction faulting on the same page
	 * MAX_FILLS times is stuck. */
	uint64_t at = NEVER, page = NEVER;

	for (unsigned fills = 0, total = 0; fills < MAX_FILLS;) {
		shadow_check(lx, vm);
		if (run_once(lx, vm, step) == LOWEXEC_ENDED)
			break;
		if (lx->stop != STOP_EXC || lx->intno != X86_PF) {
			end = stopped(lx, vm, t);
			break;
		}
		save_regs(lx, vm);
		fills = at == lx->rip && page == (lx->cr2 & ~(PAGE - 1)) ? fills + 1 : 1;
		at = vm->vcpu.regs.rip = lx->rip;
		page = lx->cr2 & ~(PAGE - 1);
		if (lx->cr2 == lx->rip && lx->rip >= HOLE_BASE && lx->rip < HOLE_END) {
			/* a jump into the stub (the hypercall page's direct entry):
			 * the guest process runs it natively, where it is mapped */
			end = LOWEXEC_LEFT;
			break;
		}
		int rc = page_fault(lx, vm, t);
		if (rc <= 0) {
			end = rc ? LOWEXEC_ENDED : LOWEXEC_TRAP;
			break;
		}
		if (!step && ++total == MAX_RUN_FILLS) {
			end = LOWEXEC_SLICE; /* events are due now and then */
			break;
		}
	}
	if (end == LOWEXEC_ENDED && !vm->end)
		vm_end_domain(vm, VM_CRASH, "guest code at rip %#llx faulted %u times on one page in the "
			      "instruction emulator without progress", (unsigned long long)vm->vcpu.regs.rip, MAX_FILLS);
	vm->stats.lowexec_ns += now_ns() - t0;
	return end;
}
