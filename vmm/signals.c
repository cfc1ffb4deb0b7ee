/*
 * signals.c - --timeout and SIGINT/SIGTERM/SIGHUP.
 *
 * The handlers kill the guest process themselves (kill(2) is
 * async-signal-safe), so whatever the trap loop is blocked in returns with
 * the guest's death. The exception is a guest that watches its xenstore
 * control/shutdown node: the first SIGINT/SIGTERM/SIGHUP only interrupts
 * it (pvmm then writes "poweroff" there) and arms the grace period; a
 * second signal, or the grace period's end, kills it. This file holds
 * pvmm's only mutable globals: what a signal handler must reach.
 */
#include "vmm/vmm.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t watched_pid;
static volatile sig_atomic_t ended;
static volatile sig_atomic_t ended_by; /* the signal that ended the run */
static volatile sig_atomic_t watching;  /* the guest watches control/shutdown */
static volatile sig_atomic_t asked;     /* the signal that asked it to shut down */
static volatile sig_atomic_t alarm_is_grace; /* SIGALRM ends the grace period */
static volatile sig_atomic_t grace_over;     /* ... and it did */
static volatile sig_atomic_t by_escape;      /* ended_by's SIGINT was the console's escape key */
static unsigned grace_s;                /* --shutdown-grace */
static volatile sig_atomic_t io_seen;   /* SIGIO since vmm_signals_io() last looked */
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

/* A descriptor pvmm watches has something (gdb's Ctrl-C, a packet for the
 * network): note it and interrupt the guest the same way. */
static void on_io(int sig)
{
	io_seen = 1;
	on_timer(sig);
}

int vmm_signals_io(void)
{
	return __atomic_exchange_n(&io_seen, 0, __ATOMIC_SEQ_CST); /* no SIGIO lost between */
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

/* Ask the guest to shut down: interrupt it, and make SIGALRM end the
 * grace period unless --timeout comes first. */
static void ask(int sig)
{
	struct itimerval now, grace = { { 0, 0 }, { (time_t)grace_s, 0 } };

	asked = ended_by = sig;
	if (getitimer(ITIMER_REAL, &now) == 0 &&
	    ((!now.it_value.tv_sec && !now.it_value.tv_usec) ||
	     now.it_value.tv_sec >= (time_t)grace_s)) {
		alarm_is_grace = 1;
		setitimer(ITIMER_REAL, &grace, NULL);
	}
	if (watched_pid > 0)
		kill(watched_pid, SIGUSR1); /* pvmm writes control/shutdown at its next trap */
}

static void on_signal(int sig)
{
	by_escape = 0;
	if (sig != SIGALRM && watching && grace_s && !asked) {
		ask(sig);
		return;
	}
	if (sig == SIGALRM && !alarm_is_grace) {
		ended = VM_TIMEOUT;
	} else {
		ended = VM_INTERRUPTED;
		if (sig == SIGALRM)
			grace_over = 1;
		else
			ended_by = sig;
	}
	if (watched_pid > 0)
		kill(watched_pid, SIGKILL);
}

void vmm_signals_escape(void)
{
	on_signal(SIGINT);
	by_escape = 1;
}

int vmm_signals_escaped(void)
{
	return by_escape && ended_by == SIGINT;
}

void vmm_signals_watching(int on)
{
	watching = on;
}

int vmm_signals_asked(void)
{
	return asked;
}

unsigned vmm_signals_grace(void)
{
	return grace_over ? grace_s : 0;
}

int vmm_signals_install(unsigned timeout_s, unsigned shutdown_grace_s)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
	struct sigaction io;
	struct sigaction sa;

	grace_s = shutdown_grace_s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: waits return EINTR */
	sigfillset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	signal(SIGPIPE, SIG_IGN);
	memset(&io, 0, sizeof(io));
	io.sa_handler = on_io; /* gdb's Ctrl-C, the network's sockets */
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
	case SIGINT: return by_escape ? "the console's escape key" : "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "SIGALRM";
	}
}
