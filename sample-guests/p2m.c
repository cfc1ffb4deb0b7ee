/* p2m: use the P2M list the way a PV kernel does, and each way its frames
 * can first be used: read through a second mapping made before anything
 * touched the frame, written by a hypercall, written by the guest, and read
 * across the whole of memory (checked against the M2P). pvmm writes each
 * P2M frame on its first use; "N of M P2M frames used" says how many this
 * guest used, which with "noalias" on the command line must equal --stats'
 * mmu.deferred_fills. Without it, a second mapping of an unread frame
 * follows, and pvmm writes the whole list at once (fills = M). */
#include "rt.h"

#define ENTRIES 512ul /* P2M entries per frame */
#define MAX_FRAMES 32768ul /* 64 GiB of guest memory */

static uint8_t used[MAX_FRAMES / 8];
static unsigned long nused;

static void use(unsigned long pfn)
{
	unsigned long f = pfn / ENTRIES;

	if (!(used[f / 8] & (1u << (f % 8))))
		used[f / 8] |= (uint8_t)(1u << (f % 8)), nused++;
}

static int find_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s; s++)
		if (!memcmp(s, w, n))
			return 1;
	return 0;
}

int guest_main(struct start_info *si)
{
	volatile uint64_t *p2m = (volatile uint64_t *)si->mfn_list;
	const volatile uint64_t *m2p = (const uint64_t *)XEN_RO_MPT_BASE;
	unsigned long n = si->nr_pages, frames = (n + ENTRIES - 1) / ENTRIES;
	unsigned long a = frames / 2, b = a + 1, c = a + 2, checked = 0;
	char extra[XEN_EXTRAVERSION_LEN];

	guest_assert(frames >= 4 && frames <= MAX_FRAMES);

	/* 1. pvmm writes frame b: a hypercall result lands in it */
	expect_eq(HYPERVISOR_xen_version(XENVER_extraversion, extra), 0);
	expect_eq(HYPERVISOR_xen_version(XENVER_extraversion, (void *)&p2m[b * ENTRIES]), 0);
	guest_assert(!memcmp((const void *)&p2m[b * ENTRIES], extra, sizeof(extra)));
	expect_eq(p2m[b * ENTRIES + sizeof(extra) / 8], b * ENTRIES + sizeof(extra) / 8);
	for (unsigned long i = 0; i < sizeof(extra) / 8; i++)
		p2m[b * ENTRIES + i] = b * ENTRIES + i; /* the guest keeps its P2M */
	use(b * ENTRIES);
	printf("p2m: frame %lu written by a hypercall\n", b);

	/* 2. the guest's own first access to frame c is a store */
	p2m[c * ENTRIES + 5] = 0xdead;
	expect_eq(p2m[c * ENTRIES + 4], c * ENTRIES + 4);
	expect_eq(p2m[c * ENTRIES + 5], 0xdead);
	p2m[c * ENTRIES + 5] = c * ENTRIES + 5;
	use(c * ENTRIES);
	printf("p2m: frame %lu first written by the guest\n", c);

	/* 3. every seventh frame or so, the last entry, and what follows it */
	for (unsigned long pfn = 0; pfn < n; pfn += 7 * ENTRIES + 1, checked++) {
		expect_eq(p2m[pfn], pfn);
		expect_eq(m2p[p2m[pfn]], pfn);
		use(pfn);
	}
	expect_eq(p2m[n - 1], n - 1);
	use(n - 1);
	if (n % ENTRIES)
		expect_eq(p2m[n], 0);
	printf("p2m: %lu entries across %lu pages match the M2P\n", checked + 1, n);
	printf("p2m: %lu of %lu P2M frames used\n", nused, frames);
	if (find_word((const char *)si->cmd_line, "noalias"))
		return 0;

	/* 4. a read-only alias of frame a, made before anything read it: pvmm
	 * writes the rest of the list with it (an aliased P2M costs one pass) */
	volatile uint64_t *alias = rt_alloc_page();
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)alias,
					       pte(virt_to_mfn(&p2m[a * ENTRIES]), PTE_RO),
					       UVMF_INVLPG), 0);
	expect_eq(alias[3], a * ENTRIES + 3);
	expect_eq(p2m[a * ENTRIES + 7], a * ENTRIES + 7);
	expect_eq(p2m[(frames - 2) * ENTRIES + 1], (frames - 2) * ENTRIES + 1);
	printf("p2m: frame %lu read through a second mapping\n", a);
	return 0;
}
