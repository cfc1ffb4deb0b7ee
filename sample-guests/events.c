/* events: time and events as a PV kernel sees them: pvclock system time that
 * advances, a wall clock, a single-shot timer that wakes SCHEDOP_block,
 * SCHEDOP_poll with a timeout, event channels (unbound, IPI, status, close,
 * mask and unmask) delivered to the event callback, multicall, and the PV
 * console ring in both directions (input is echoed back upper-cased). */
#include "rt.h"

static struct shared_info *shared;
static volatile unsigned upcalls;
static volatile uint64_t got[8];
static volatile unsigned ngot;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Xen system time from vcpu_info, as a PV kernel reads it. */
static uint64_t now_ns(void)
{
	volatile struct vcpu_time_info *t = &shared->vcpu_info[0].time;
	uint32_t v;
	uint64_t ns;

	do {
		v = t->version;
		__asm__ volatile("" ::: "memory");
		uint64_t delta = rdtsc() - t->tsc_timestamp;
		delta = t->tsc_shift >= 0 ? delta << t->tsc_shift : delta >> -t->tsc_shift;
		ns = t->system_time + (uint64_t)(((__uint128_t)delta * t->tsc_to_system_mul) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != t->version);
	return ns;
}

static void hook(struct rt_frame *f)
{
	long port;

	expect_eq(f->vector, RT_EVENT_VECTOR);
	upcalls++;
	while ((port = rt_next_event(shared)) >= 0)
		got[ngot++ & 7] = (uint64_t)port;
}

static void enable_events(void) { shared->vcpu_info[0].evtchn_upcall_mask = 0; }
static void disable_events(void) { shared->vcpu_info[0].evtchn_upcall_mask = 1; }

static volatile struct vcpu_runstate_info runstate;

static void time_and_timers(void)
{
	struct evtchn_bind_virq bind = { VIRQ_TIMER, 0, 0 };
	uint64_t area = (uint64_t)&runstate, t0, t1;
	struct vcpu_runstate_info ri;

	/* the runstate area Linux registers at boot (it BUG()s without one) */
	expect_eq(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area), 0);
	expect_eq(runstate.state, RUNSTATE_running);
	uint64_t entered = runstate.state_entry_time; /* on pvmm's clock, before t0 */
	t0 = now_ns();

	guest_assert(shared->wc_sec > 1600000000u); /* after 2020 */
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bind), 0);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bind), -XEN_EEXIST);
	expect_eq(hypercall(XEN_HC_set_timer_op, t0 + 20000000, 0, 0), 0); /* in 20 ms */
	ngot = 0;
	expect_eq(HYPERVISOR_sched_op(SCHEDOP_block, NULL), 0); /* enables events */
	t1 = now_ns();
	guest_assert(t1 - t0 >= 19000000);
	guest_assert(t1 - t0 < 2000000000ul);
	guest_assert(ngot >= 1);
	expect_eq(got[0], bind.port);
	disable_events();
	printf("events: block woke on VIRQ_TIMER after %lu ms of system time\n",
	       (unsigned long)((t1 - t0) / 1000000));
	/* the area saw the block: running again since the timer woke it (at
	 * or after its deadline, which pvmm compares with its own clock), the
	 * blocked time within the time since the area was registered. Both
	 * are pvmm's clock: the guest's own reading (t0, t1), extrapolated from
	 * the TSC, may differ from it by the calibration's error, so they are
	 * not compared with it exactly. */
	expect_eq(runstate.state, RUNSTATE_running);
	guest_assert(runstate.state_entry_time >= t0 + 20000000);
	guest_assert(runstate.time[RUNSTATE_blocked] > 0);
	guest_assert(runstate.time[RUNSTATE_blocked] <= runstate.state_entry_time - entered);
	expect_eq(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &ri), 0);
	guest_assert(ri.time[RUNSTATE_blocked] == runstate.time[RUNSTATE_blocked]);
	guest_assert(ri.time[RUNSTATE_running] > 0);
	printf("events: the runstate area counted %lu ms blocked\n",
	       (unsigned long)(runstate.time[RUNSTATE_blocked] / 1000000));

	struct vcpu_set_singleshot_timer past = { t0, VCPU_SSHOTTMR_future, 0 };
	expect_eq(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &past), -XEN_ETIME);
	uint32_t port = bind.port;
	struct sched_poll poll = { (uint64_t)&port, 1, 0, 0 };
	shared->evtchn_mask[0] |= 1ul << port; /* poll works on masked ports */
	t0 = now_ns();
	poll.timeout = t0 + 10000000;
	expect_eq(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
	guest_assert(now_ns() - t0 >= 9000000);
	printf("events: poll timed out after its 10 ms\n");
	/* a masked port still wakes its poller: the timer fires in 5 ms */
	shared->evtchn_pending[0] &= ~(1ul << port);
	t0 = now_ns();
	poll.timeout = t0 + 2000000000ul;
	expect_eq(hypercall(XEN_HC_set_timer_op, t0 + 5000000, 0, 0), 0);
	expect_eq(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
	t1 = now_ns();
	guest_assert(t1 - t0 >= 4000000 && t1 - t0 < 1500000000ul); /* not the 2 s timeout */
	guest_assert(shared->evtchn_pending[0] & (1ul << port));
	shared->evtchn_pending[0] &= ~(1ul << port);
	shared->evtchn_mask[0] &= ~(1ul << port);
	printf("events: poll on a masked port woke when it fired\n");
}

static void channels(void)
{
	struct evtchn_alloc_unbound un = { DOMID_SELF, 0, 0 };
	struct evtchn_bind_ipi ipi = { 0, 0 };
	struct evtchn_status st = { DOMID_SELF, 0, 0, 0, 0, { { 0 } } };

	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &un), 0);
	st.port = un.port;
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
	expect_eq(st.status, EVTCHNSTAT_unbound);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_close, &un.port), 0);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
	expect_eq(st.status, EVTCHNSTAT_closed);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &un.port), -XEN_EINVAL);

	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
	/* masked: pending but no upcall; unmask: the upcall comes */
	shared->evtchn_mask[ipi.port / 64] |= 1ul << (ipi.port % 64);
	ngot = 0, upcalls = 0;
	enable_events();
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &ipi.port), 0);
	expect_eq(upcalls, 0);
	guest_assert(shared->evtchn_pending[ipi.port / 64] & (1ul << (ipi.port % 64)));
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &ipi.port), 0);
	expect_eq(upcalls, 1);
	expect_eq(got[0], ipi.port);
	disable_events();
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &ipi.port), 0); /* events off */
	expect_eq(upcalls, 1);
	enable_events();
	HYPERVISOR_xen_version(XENVER_version, NULL); /* any trap lets a pending upcall in */
	expect_eq(upcalls, 2);
	disable_events();
	printf("events: unbound, IPI, status, close, mask and unmask as Xen does\n");
}

static void multicall(void)
{
	struct multicall_entry calls[3] = {
		{ XEN_HC_xen_version, 0, { XENVER_version } },
		{ XEN_HC_xen_version, 0, { XENVER_pagesize } },
		{ 99, 0, { 0 } },
	};

	expect_eq(HYPERVISOR_multicall(calls, 3), 0);
	expect_eq(calls[0].result, (4 << 16) | 19);
	expect_eq(calls[1].result, 4096);
	expect_eq(calls[2].result, -XEN_ENOSYS);
	printf("events: a multicall of three\n");
}

static struct xencons_interface *ring;

/* Write to the console ring and notify the backend, which takes it all. */
static void ring_write(const char *s, int n)
{
	uint32_t port = rt_si->console_evtchn;

	while (n) {
		for (; n && ring->out_prod - ring->out_cons < sizeof(ring->out); n--)
			ring->out[ring->out_prod++ % sizeof(ring->out)] = *s++;
		HYPERVISOR_event_channel_op(EVTCHNOP_send, &port);
	}
}

/* The console ring in both directions. From here on printf writes each
 * line with console_io and through the ring, as XTF and Mini-OS do, and
 * pvmm shows it once. */
static void console_ring(struct start_info *si)
{
	struct xencons_interface *r = rt_alloc_page();
	uint32_t port = si->console_evtchn;
	const char *msg = "events: hello through the console ring\n";
	char line[64];
	unsigned n = 0;

	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)r, pte(si->console_mfn, PTE_DATA), UVMF_INVLPG), 0);
	for (const char *p = msg; *p; p++)
		r->out[r->out_prod++ % sizeof(r->out)] = *p;
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &port), 0);
	expect_eq(r->out_cons, r->out_prod);
	ring = r;
	rt_console_tee = ring_write;
	/* input: block until a line arrives, echo it upper-cased */
	enable_events();
	while (n < sizeof(line) - 1) {
		while (r->in_cons == r->in_prod)
			HYPERVISOR_sched_op(SCHEDOP_block, NULL);
		char c = r->in[r->in_cons++ % sizeof(r->in)];
		if (c == '\n')
			break;
		line[n++] = c >= 'a' && c <= 'z' ? c - 32 : c;
	}
	line[n] = 0;
	disable_events();
	printf("events: console input was \"%s\"\n", line);
}

int guest_main(struct start_info *si)
{
	shared = rt_map_shared_info();
	/* a boot loader that ran in this domain before us (PV GRUB) may have
	 * left its ports pending: they are not ours to wait for */
	while (rt_next_event(shared) >= 0)
		;
	rt_trap_hook = hook;
	expect_eq(rt_install_traps(), 0);
	time_and_timers();
	channels();
	multicall();
	console_ring(si);
	return 0;
}
