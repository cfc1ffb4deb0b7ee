/* primitives - the host operations pvmm's costs are measured against, in
 * this process, on this machine, in the same run:
 *   write_fault: a store to a read-only page, the SIGSEGV handler making it
 *                writable, sigreturn (plus the mprotect that re-arms it)
 *   mprotect:    mprotect of one page
 *   sigsys:      a system call turned into SIGSYS by seccomp, handled, returned
 *   getpid:      a plain system call
 *   pingpong_pinned: a round trip between two processes on one CPU through
 *                a shared word, each sleeping on a futex, woken only when it
 *                said it sleeps, as pvmm's hand-off does (two context
 *                switches: the floor of any hand-off to another process there)
 *   pingpong_spin: the same with a CPU each, both polling the word (the floor
 *                of a hand-off between two CPUs)
 * Prints "NAME NANOSECONDS" lines and the TSC frequency ("tsc_hz HZ"). */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char *page;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

static void on_sys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
}

static double best_of(int reps, double (*fn)(int), int n)
{
	double best = 1e30;
	for (int r = 0; r < reps; r++) {
		double t = fn(n);
		if (t < best)
			best = t;
	}
	return best;
}

static double write_fault(int n)
{
	double t0 = now();
	for (int i = 0; i < n; i++) {
		mprotect(page, 4096, PROT_READ);
		*(volatile char *)page = (char)i;
	}
	return (now() - t0) / n;
}

static double mprotect_one(int n)
{
	double t0 = now();
	for (int i = 0; i < n; i++)
		mprotect(page, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE);
	return (now() - t0) / n;
}

static double plain_syscall(int n)
{
	double t0 = now();
	for (int i = 0; i < n; i++)
		syscall(SYS_getpid);
	return (now() - t0) / n;
}

/* A minor fault: the first touch of a fresh anonymous page. */
static double first_touch(int n)
{
	char *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	double t0 = now();

	if (p == MAP_FAILED)
		return 0;
	for (int i = 0; i < n; i++)
		p[(size_t)i * 4096] = 1;
	t0 = (now() - t0) / n;
	munmap(p, (size_t)n * 4096);
	return t0;
}

static void on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* the value, and each side's "I may sleep on it" (parent 0, child 1) */
static volatile uint32_t *word, *sleeps;
static int pp_spin; /* poll the word instead of sleeping on it */

/* Wait as side (me) until *word != (old), then return it. */
static uint32_t pp_wait(int me, uint32_t old)
{
	uint32_t v;

	while ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == old) {
		if (pp_spin)
			continue;
		__atomic_store_n(&sleeps[me * 16], 1, __ATOMIC_SEQ_CST);
		if ((v = __atomic_load_n(word, __ATOMIC_SEQ_CST)) != old)
			break;
		syscall(SYS_futex, word, FUTEX_WAIT, old, NULL, NULL, 0);
	}
	if (!pp_spin)
		__atomic_store_n(&sleeps[me * 16], 0, __ATOMIC_RELAXED);
	return v;
}

/* Post (v) to the other side of (me), waking it if it said it sleeps. */
static void pp_post(int me, uint32_t v)
{
	__atomic_store_n(word, v, __ATOMIC_SEQ_CST);
	if (!pp_spin && __atomic_load_n(&sleeps[!me * 16], __ATOMIC_SEQ_CST))
		syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* The parent posts odd values, the child answers with the next even one;
 * n round trips, a value of 0 ends the child. */
static double pingpong(int n)
{
	uint32_t v = 2;
	double t0;
	pid_t child;

	__atomic_store_n(word, 2, __ATOMIC_RELEASE);
	child = fork();
	if (child == 0) {
		on_cpu(pp_spin ? 1 : 0);
		for (uint32_t seen = 2;;) {
			seen = pp_wait(1, seen);
			if (seen == 1)
				_exit(0);
			pp_post(1, seen + 1);
			seen++;
		}
	}
	t0 = now();
	for (int i = 0; i < n; i++) {
		pp_post(0, v + 1);
		v = pp_wait(0, v + 1);
	}
	t0 = (now() - t0) / n;
	pp_post(0, 1);
	waitpid(child, NULL, 0);
	return t0;
}

static double pingpong_pinned(int n)
{
	pp_spin = 0;
	return pingpong(n);
}

static double pingpong_spin(int n)
{
	pp_spin = 1;
	return pingpong(n);
}

static double sigsys(int n)
{
	double t0 = now();
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (now() - t0) / n;
}

int main(void)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	cpu_set_t all;
	double t0, mp;
	uint64_t c0;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_sigaction = on_sys;
	sigaction(SIGSYS, &sa, NULL);

	t0 = now(), c0 = rdtsc();
	usleep(200000);
	printf("tsc_hz %.0f\n", (double)(rdtsc() - c0) / ((now() - t0) / 1e9));
	mp = best_of(5, mprotect_one, 20000);
	printf("write_fault %.1f\n", best_of(5, write_fault, 20000) - mp);
	printf("mprotect %.1f\n", mp);
	printf("getpid %.1f\n", best_of(5, plain_syscall, 100000));
	printf("first_touch %.1f\n", best_of(5, first_touch, 2048));
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (word == MAP_FAILED)
		return 1;
	sleeps = word + 16; /* a cache line each, apart from the word */
	sched_getaffinity(0, sizeof(all), &all);
	on_cpu(0);
	printf("pingpong_pinned %.1f\n", best_of(5, pingpong_pinned, 5000));
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		printf("pingpong_spin %.1f\n", best_of(5, pingpong_spin, 20000));
	sched_setaffinity(0, sizeof(all), &all); /* the rest as before */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(getppid), 0) || seccomp_load(ctx)) {
		fprintf(stderr, "primitives: seccomp unavailable\n");
		return 1;
	}
	printf("sigsys %.1f\n", best_of(5, sigsys, 20000));
	return 0;
}
