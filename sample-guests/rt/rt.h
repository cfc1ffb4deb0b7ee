/*
 * rt.h - the sample guests' tiny freestanding runtime.
 *
 * Each guest defines `int guest_main(struct start_info *si)`; the runtime
 * prints the guest's one result line ("Test result: SUCCESS" when it returns
 * 0, "Test result: FAILURE" otherwise) and powers the domain off. A failed
 * guest_assert() prints file:line and crashes the domain instead.
 */
#ifndef PVMM_RT_H
#define PVMM_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_abi.h"

extern char hypercall_page[];

static inline long hypercall5(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3,
			      uint64_t a4, uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	long ret;

	__asm__ volatile("call *%[entry]"
			 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
			 : [entry] "r"(hypercall_page + nr * XEN_HYPERCALL_PAGE_ENTRY)
			 : "rcx", "r11", "r9", "memory");
	return ret;
}

#define hypercall(nr, a1, a2, a3) hypercall5(nr, (uint64_t)(a1), (uint64_t)(a2), (uint64_t)(a3), 0, 0)

static inline long HYPERVISOR_console_io(int cmd, int count, const char *buf)
{
	return hypercall(XEN_HC_console_io, cmd, count, buf);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
	return hypercall(XEN_HC_sched_op, cmd, arg, 0);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
	return hypercall(XEN_HC_xen_version, cmd, arg, 0);
}

static inline long HYPERVISOR_vm_assist(unsigned cmd, unsigned type)
{
	return hypercall(XEN_HC_vm_assist, cmd, type, 0);
}

static inline long HYPERVISOR_mmu_update(struct mmu_update *req, unsigned count,
					 unsigned *done, unsigned domid)
{
	return hypercall5(XEN_HC_mmu_update, (uint64_t)req, count, (uint64_t)done, domid, 0);
}

static inline long HYPERVISOR_mmuext_op(struct mmuext_op *op, unsigned count,
					unsigned *done, unsigned domid)
{
	return hypercall5(XEN_HC_mmuext_op, (uint64_t)op, count, (uint64_t)done, domid, 0);
}

static inline long HYPERVISOR_update_va_mapping(uint64_t va, uint64_t val, uint64_t flags)
{
	return hypercall(XEN_HC_update_va_mapping, va, val, flags);
}

/* ---- page tables (rt.c) ----------------------------------------------------
 * The bootstrap maps frame N at VIRT_BASE + N * 4096 (identity P2M), so
 * these translations hold for everything the builder mapped. */
#define VIRT_BASE 0x400000ul
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)     /* entry of L2-L4 */
#define PTE_DATA (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define PTE_RO (PTE_P | PTE_US | PTE_A)

extern struct start_info *rt_si;

static inline uint64_t virt_to_mfn(const volatile void *va)
{
	return ((uint64_t)va - VIRT_BASE) >> XEN_PAGE_SHIFT;
}

static inline uint64_t pte(uint64_t mfn, uint64_t flags)
{
	return (mfn << XEN_PAGE_SHIFT) | flags;
}

/* A zeroed, writable page from the bootstrap's slack (up to 128). */
void *rt_alloc_page(void);
/* The bootstrap L4's frame, and the frame its slot (i) points at. */
uint64_t rt_l4_mfn(void);
uint64_t rt_l4_entry(unsigned i);
/* Map (va) read-only / writable again; 0 or the hypercall's error. */
long rt_set_readonly(const volatile void *va);
long rt_set_writable(const volatile void *va);
long rt_pin(unsigned level, uint64_t mfn);
long rt_unpin(uint64_t mfn);
/* (rt/user.c) A user address space for the guest's own user mode: the 4 KiB
 * page of user code at (code) mapped read-only and (ustack) writable, at the
 * same addresses as in the kernel's tables (one L1 must cover both), pinned
 * and made the user base pointer; a fresh kernel stack, set with
 * stack_switch, takes traps from user mode. Returns that stack's top. */
uint64_t rt_user_space(const void *code, void *ustack);
/* The tables of such a space, pinned, without making it current: (code)
 * read-only at its address, the page (data) writable at (data_va), which
 * must lie in the 2 MiB of (code). Returns its L4's frame. */
uint64_t rt_user_l4(const void *code, uint64_t data_va, void *data);
long rt_new_baseptr(uint64_t mfn);
/* One mmu_update request; 0 or its error. */
long rt_mmu_update1(uint64_t ptr, uint64_t val);
/* Whether pvmm can read (va) in the current address space: a hypercall
 * with a pointer argument tells without faulting (-EFAULT when not). */
long rt_probe_read(uint64_t va);

size_t strlen(const char *s);
char *strcpy(char *d, const char *s);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int strcmp(const char *a, const char *b);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* When set, printf's text goes there too after console_io (as XTF and
 * Mini-OS write each line to the console ring as well). */
extern void (*rt_console_tee)(const char *s, int n);

__attribute__((noreturn)) void rt_poweroff(void);
__attribute__((noreturn)) void rt_crash(void);
__attribute__((noreturn)) void rt_assert_failed(const char *expr, const char *file, int line);

#define guest_assert(e) ((e) ? (void)0 : rt_assert_failed(#e, __FILE__, __LINE__))

/* Check a value and say what it was when it is not what was expected. */
#define expect_eq(got, want)                                                              \
	do {                                                                              \
		long _g = (long)(got), _w = (long)(want);                                 \
		if (_g != _w) {                                                           \
			printf("expected %s == %s, got %ld (%#lx), want %ld\n", #got, #want, \
			       _g, _g, _w);                                               \
			rt_assert_failed(#got " == " #want, __FILE__, __LINE__);          \
		}                                                                         \
	} while (0)

int guest_main(struct start_info *si);

/* Print the result line and power off (or crash when rc != 0). */
__attribute__((noreturn)) void rt_finish(int rc);

/* ---- exceptions (traps.S, rt.c) ----------------------------------------- */
struct rt_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;   /* vector 0x100: the syscall callback */
	uint64_t rip, cs, rflags, rsp, ss;
};
#define RT_SYSCALL_VECTOR 0x100
#define RT_EVENT_VECTOR 0x101

/* The guest's handler for every trap rt_install_traps() routes; changes to
 * the frame take effect on return. */
extern void (*rt_trap_hook)(struct rt_frame *f);
/* Install a trap table for vectors 0-19, 0x40 (DPL 0) and 0x80 (DPL 3; #BP and
 * #OF DPL 3 too) and the syscall callback. 0 or the hypercall's error. */
long rt_install_traps(void);
/* The same, with events masked on entry to every handler (the kernel then
 * runs with events off; iret to a context with IF set enables them), and
 * the event callback registered. */
long rt_install_traps_masked(void);
/* Ports whose events are pending and unmasked: cleared and returned one by
 * one by rt_next_event() (-1 when none is left). */
long rt_next_event(struct shared_info *s);

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
	return hypercall(XEN_HC_event_channel_op, cmd, arg, 0);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned vcpu, void *arg)
{
	return hypercall(XEN_HC_vcpu_op, cmd, vcpu, arg);
}
/* Map shared_info read-write; returns its address. */
struct shared_info *rt_map_shared_info(void);

static inline long HYPERVISOR_set_trap_table(const struct trap_info *t)
{
	return hypercall(XEN_HC_set_trap_table, t, 0, 0);
}

static inline long HYPERVISOR_stack_switch(uint64_t ss, uint64_t sp)
{
	return hypercall(XEN_HC_stack_switch, ss, sp, 0);
}

static inline long HYPERVISOR_callback_op(int cmd, const struct callback_register *cb)
{
	return hypercall(XEN_HC_callback_op, cmd, cb, 0);
}

static inline long HYPERVISOR_multicall(struct multicall_entry *calls, unsigned n)
{
	return hypercall(XEN_HC_multicall, calls, n, 0);
}

#endif
