/* fuzz_netback - the netback's transmit parser (vmm/backends/netback.c)
 * on rings nobody vetted: any bytes as the shared tx ring page, a consumer
 * index and a count of requests produced, then the checks a host makes on
 * what the parser gives the copy (every fragment within its page, at most
 * 18 of them, their sizes adding up to the packet's, every slot consumed
 * answered, a reason for every packet refused); and the checksum filler
 * on any frame. ASan and UBSan watch the reads and the writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/backends/netback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct nb_tx_pkt *p, uint32_t avail)
{
	uint32_t sum = 0;

	if (p->verdict == NB_TX_WAIT || p->verdict > NB_TX_WAIT)
		abort();
	if (p->verdict != NB_TX_OK && !p->why)
		abort(); /* every refusal says why */
	if (p->verdict == NB_TX_FATAL)
		return; /* nothing is consumed */
	if (!p->slots || p->slots > avail || p->slots > NB_PKT_SLOTS || !p->nfrags ||
	    p->nfrags > NB_MAX_SLOTS || p->len > NB_FRAME_MAX)
		abort();
	for (unsigned k = 0; k < p->slots; k++)
		if (p->status[k] != NETIF_RSP_OKAY && p->status[k] != NETIF_RSP_NULL &&
		    p->status[k] != NETIF_RSP_ERROR)
			abort();
	if (p->verdict == NB_TX_DROP) {
		for (unsigned k = 0; k < p->slots; k++)
			if (p->status[k] == NETIF_RSP_OKAY)
				abort(); /* a dropped packet's slots are errors */
		return;
	}
	for (unsigned k = 0; k < p->nfrags; k++) {
		if ((uint32_t)p->frag[k].offset + p->frag[k].size > 4096)
			abort(); /* the copy would leave the granted page */
		sum += p->frag[k].size;
	}
	if (sum != p->len || p->len < 14)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct netif_tx_sring ring;
	static uint8_t frame[4096];
	struct nb_tx_pkt p;
	uint32_t cons = 0, avail;

	if (size < 6)
		return 0;
	memcpy(&cons, data, 4);
	avail = 1 + (uint32_t)data[4] % NETIF_RING_SIZE; /* the backend checks prod - cons first */
	memset(&ring, 0, sizeof(ring));
	memcpy(ring.ring, data + 5, size - 5 < sizeof(ring.ring) ? size - 5 : sizeof(ring.ring));
	nb_tx_parse(&ring, cons, avail, &p);
	check(&p, avail);
	size_t n = size - 5 < sizeof(frame) ? size - 5 : sizeof(frame);
	memcpy(frame, data + 5, n);
	nb_csum_fill(frame, n);
	return 0;
}
