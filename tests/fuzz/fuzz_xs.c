/* fuzz_xs - the xenstore ring from a hostile guest: messages built from the
 * input (any type, transaction, path and payload), raw bytes, notifications,
 * replies consumed or not, and the guest's own ring indices scribbled. The
 * store must answer or end the domain, never misbehave (ASan, UBSan). */
#include <stdint.h>

#include "fuzz_common.h"
#include "vmm/backends/xenstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STORE_PFN 100u

static struct xenstore_domain_interface *ring(struct vm *vm)
{
	return (struct xenstore_domain_interface *)(vm->mem + STORE_PFN * 4096ull);
}

static void put(struct vm *vm, const uint8_t *p, size_t n)
{
	struct xenstore_domain_interface *r = ring(vm);

	for (size_t i = 0; i < n; i++)
		r->req[r->req_prod++ % XENSTORE_RING_SIZE] = (char)p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm *vm = fz_vm();
	size_t i = 0;

	vm->lay.store_pfn = STORE_PFN;
	vm->lay.console_pfn = STORE_PFN + 1;
	if (xs_init(vm, "fuzz"))
		abort();
	while (i + 2 <= size && !vm->end) {
		uint8_t op = data[i++], n = data[i++];
		size_t avail = size - i < n ? size - i : n;
		struct xenstore_domain_interface *r = ring(vm);

		switch (op % 6) {
		case 0: { /* a well-formed header over the next (avail) bytes */
			struct xsd_sockmsg h = { op / 6 % 24, n, (uint32_t)(op >> 6), (uint32_t)avail };
			put(vm, (const uint8_t *)&h, sizeof(h));
			put(vm, data + i, avail);
			i += avail;
			break;
		}
		case 1:
			put(vm, data + i, avail); /* raw bytes */
			i += avail;
			break;
		case 2:
		case 3:
			xs_notify(vm);
			break;
		case 4: /* read (n) bytes of replies, as far as there are any */
			r->rsp_cons += n < r->rsp_prod - r->rsp_cons ? n : r->rsp_prod - r->rsp_cons;
			break;
		default: /* the guest scribbles its own indices */
			if (n & 1)
				r->req_prod += (uint32_t)n * 37u;
			else
				r->rsp_cons -= (uint32_t)n * 11u;
			break;
		}
	}
	if (!vm->end)
		xs_notify(vm);
	xs_free(vm);
	return 0;
}
