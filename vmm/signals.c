/*
 * signals.c - --timeout and SIGINT/SIGTERM/SIGHUP.
 *
 * The handlers kill the guest process themselves (kill(2) is
 * async-signal-safe), so whatever the trap loop is blocked in returns with
 * the guest's death. This file holds pvmm's only mutable globals: what a
 * signal handler must reach.
 */
#include "vmm.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t watched_pid;
static volatile sig_atomic_t ended;
static volatile sig_atomic_t ended_by; /* the signal that ended the run */
static timer_t guest_timer;
static int have_timer;

/* The guest's timer expired: interrupt the guest process (the stub hands
 * the SIGUSR1 to pvmm, which fires the timer's event). */
static void on_timer(int sig)
{
	(void)sig;
	if (watched_pid > 0)
		kill(watched_pid, SIGUSR1);
}

int vmm_timer_arm(uint64_t mono_ns)
{
	struct itimerspec its = { { 0, 0 }, { (time_t)(mono_ns / 1000000000ull),
					      (long)(mono_ns % 1000000000ull) } };

	if (!have_timer) {
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
		struct sigaction sa = { .sa_handler = on_timer };
		sigfillset(&sa.sa_mask);
		if (sigaction(SIGUSR2, &sa, NULL) || timer_create(CLOCK_MONOTONIC, &sev, &guest_timer))
			return -1;
		have_timer = 1;
	}
	return timer_settime(guest_timer, TIMER_ABSTIME, &its, NULL);
}

static void on_signal(int sig)
{
	ended = sig == SIGALRM ? VM_TIMEOUT : VM_INTERRUPTED;
	ended_by = sig;
	if (watched_pid > 0)
		kill(watched_pid, SIGKILL);
}

int vmm_signals_install(unsigned timeout_s)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
	struct sigaction io;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: waits return EINTR */
	sigfillset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	signal(SIGPIPE, SIG_IGN);
	memset(&io, 0, sizeof(io));
	io.sa_handler = on_timer; /* gdb's Ctrl-C: interrupt the guest the same way */
	sigfillset(&io.sa_mask);
	sigaction(SIGIO, &io, NULL);
	if (timeout_s) {
		struct itimerval it = { { 0, 0 }, { (time_t)timeout_s, 0 } };
		return setitimer(ITIMER_REAL, &it, NULL);
	}
	return 0;
}

void vmm_signals_watch(int pid)
{
	watched_pid = pid;
	if (ended && pid > 0)
		kill(pid, SIGKILL); /* a signal came before the guest existed */
}

enum vm_end vmm_signals_ended(void)
{
	return (enum vm_end)ended;
}

const char *vmm_signals_name(void)
{
	switch (ended_by) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "SIGALRM";
	}
}
