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

size_t strlen(const char *s);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int strcmp(const char *a, const char *b);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

#endif
