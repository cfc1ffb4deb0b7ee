/* rt.c - printf, string helpers and the start/stop path of sample guests. */
#include "rt.h"

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

char *strcpy(char *d, const char *s)
{
	char *r = d;
	while ((*d++ = *s++))
		;
	return r;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int width = 0, lng = 0, alt = 0;
		char pad = ' ';
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '#')
			alt = 1, fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			lng++, fmt++;
		switch (*fmt) {
		case 'd': {
			long long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0)
				put(&o, '-'), v = -v;
			put_num(&o, (unsigned long long)v, 10, width, pad);
			break;
		}
		case 'u':
			put_num(&o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, width, pad);
			break;
		case 'x':
		case 'p':
			if (alt || *fmt == 'p')
				put(&o, '0'), put(&o, 'x');
			put_num(&o, (lng || *fmt == 'p') ? va_arg(ap, unsigned long) : va_arg(ap, unsigned),
				16, width, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			while (*s)
				put(&o, *s++);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		default:
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void (*rt_console_tee)(const char *s, int n);

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, len;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	len = n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1;
	HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
	if (rt_console_tee)
		rt_console_tee(buf, len);
	return n;
}

static void shutdown(unsigned reason)
{
	struct sched_shutdown s = { reason };
	HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
}

void rt_poweroff(void)
{
	for (;;)
		shutdown(SHUTDOWN_poweroff);
}

void rt_crash(void)
{
	for (;;)
		shutdown(SHUTDOWN_crash);
}

void rt_assert_failed(const char *expr, const char *file, int line)
{
	printf("ASSERT FAILED at %s:%d: %s\n", file, line, expr);
	printf("Test result: ERROR\n");
	rt_crash();
}

struct start_info *rt_si;

void *rt_alloc_page(void)
{
	static unsigned used;
	/* after the tables: one page of boot stack, then at least 512 KiB of slack */
	uint64_t slack = rt_si->pt_base + (rt_si->nr_pt_frames + 1) * XEN_PAGE_SIZE;
	void *p;

	guest_assert(used < 128);
	p = (void *)(slack + used++ * XEN_PAGE_SIZE);
	memset(p, 0, XEN_PAGE_SIZE);
	return p;
}

uint64_t rt_l4_mfn(void)
{
	return virt_to_mfn((void *)rt_si->pt_base);
}

uint64_t rt_l4_entry(unsigned i)
{
	return (((const uint64_t *)rt_si->pt_base)[i] & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
}

long rt_set_readonly(const volatile void *va)
{
	return HYPERVISOR_update_va_mapping((uint64_t)va, pte(virt_to_mfn(va), PTE_RO), UVMF_INVLPG);
}

long rt_set_writable(const volatile void *va)
{
	return HYPERVISOR_update_va_mapping((uint64_t)va, pte(virt_to_mfn(va), PTE_DATA), UVMF_INVLPG);
}

static long ext1(unsigned cmd, uint64_t arg1)
{
	struct mmuext_op op = { .cmd = cmd, .arg1 = arg1 };
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

long rt_pin(unsigned level, uint64_t mfn) { return ext1(MMUEXT_PIN_L1_TABLE + level - 1, mfn); }
long rt_unpin(uint64_t mfn) { return ext1(MMUEXT_UNPIN_TABLE, mfn); }
long rt_new_baseptr(uint64_t mfn) { return ext1(MMUEXT_NEW_BASEPTR, mfn); }

long rt_mmu_update1(uint64_t ptr, uint64_t val)
{
	struct mmu_update req = { ptr, val };
	return HYPERVISOR_mmu_update(&req, 1, NULL, DOMID_SELF);
}

long rt_probe_read(uint64_t va)
{
	return HYPERVISOR_sched_op(SCHEDOP_shutdown_code, (void *)va);
}

void (*rt_trap_hook)(struct rt_frame *f);

void rt_trap(struct rt_frame *f);

void rt_trap(struct rt_frame *f)
{
	if (!rt_trap_hook) {
		printf("unexpected trap %lu, error %#lx at rip %#lx\n", (unsigned long)f->vector,
		       (unsigned long)f->error, (unsigned long)f->rip);
		rt_assert_failed("a trap with no hook", __FILE__, __LINE__);
	}
	rt_trap_hook(f);
}

#define ENTRY(v) extern char rt_trap_##v[];
ENTRY(0) ENTRY(1) ENTRY(3) ENTRY(4) ENTRY(5) ENTRY(6) ENTRY(7) ENTRY(8) ENTRY(10) ENTRY(11)
ENTRY(12) ENTRY(13) ENTRY(14) ENTRY(16) ENTRY(17) ENTRY(19) ENTRY(0x40) ENTRY(0x80)
extern char rt_syscall_entry[];

extern char rt_event_entry[];

static long install(uint8_t mask)
{
#define GATE(v, dpl) { v, dpl, FLAT_KERNEL_CS64, 0, (uint64_t)rt_trap_##v }
	struct trap_info table[] = {
		GATE(0, 0), GATE(1, 0), GATE(3, 3), GATE(4, 3), GATE(5, 0), GATE(6, 0), GATE(7, 0),
		GATE(8, 0), GATE(10, 0), GATE(11, 0), GATE(12, 0), GATE(13, 0), GATE(14, 0),
		GATE(16, 0), GATE(17, 0), GATE(19, 0), GATE(0x40, 0), GATE(0x80, 3),
		{ 0, 0, 0, 0, 0 },
	};
	struct callback_register cb = { CALLBACKTYPE_syscall, mask ? CALLBACKF_mask_events : 0, 0,
					(uint64_t)rt_syscall_entry };
	struct callback_register ev = { CALLBACKTYPE_event, 0, 0, (uint64_t)rt_event_entry };
	long rc;

	for (unsigned i = 0; table[i].address; i++)
		table[i].flags |= mask ? TI_MASK_EVENTS : 0;
	rc = HYPERVISOR_set_trap_table(table);
	if (!rc)
		rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
	if (!rc)
		rc = HYPERVISOR_callback_op(CALLBACKOP_register, &ev);
	return rc;
}

long rt_install_traps(void) { return install(0); }
long rt_install_traps_masked(void) { return install(1); }

long rt_next_event(struct shared_info *s)
{
	struct vcpu_info *v = &s->vcpu_info[0];

	v->evtchn_upcall_pending = 0;
	while (v->evtchn_pending_sel) {
		unsigned w = (unsigned)__builtin_ctzl(v->evtchn_pending_sel);
		uint64_t live = s->evtchn_pending[w] & ~s->evtchn_mask[w];
		if (!live) {
			v->evtchn_pending_sel &= ~(1ul << w);
			continue;
		}
		unsigned b = (unsigned)__builtin_ctzl(live);
		s->evtchn_pending[w] &= ~(1ul << b);
		return (long)(w * 64 + b);
	}
	return -1;
}

struct shared_info *rt_map_shared_info(void)
{
	void *va = rt_alloc_page();

	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)va, pte(rt_si->shared_info >> 12, PTE_DATA),
					       UVMF_INVLPG), 0);
	return va;
}

void rt_finish(int rc)
{
	printf("Test result: %s\n", rc ? "FAILURE" : "SUCCESS");
	if (rc)
		rt_crash();
	rt_poweroff();
}

__attribute__((noreturn)) void rt_start(struct start_info *si);

void rt_start(struct start_info *si)
{
	rt_si = si;
	rt_finish(guest_main(si));
}
