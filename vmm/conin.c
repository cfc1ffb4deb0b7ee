/*
 * conin.c - the host's side of the guest's console input: stdin, taken as
 * `xl console` takes the terminal and xenconsoled feeds the ring.
 *
 * Bytes are read from stdin into vm->input (the console backend moves
 * them into the guest's ring; CONSOLEIO_read takes them while the guest
 * has not used the ring). The guest reads its ring without a hypercall
 * (GRUB polls it), so input must move while the guest runs: the
 * transports' waits watch stdin (vmm_conin_running) and, when it becomes
 * readable or the ring has room again for bytes that did not fit, kick the
 * guest once (a SIGUSR1, as its timer does); the hand-off that follows
 * moves the input (vmm_conin_pump, from the trap loop, with the guest
 * stopped). Every hand-off also reads stdin when 20 ms have passed since
 * it was last read, for a guest that hands off too often for the
 * transports' waits to tick.
 *
 * A terminal in the foreground is put in raw mode, as `xl console` does,
 * so that each key reaches the guest as typed (Ctrl-C too); the escape key
 * (Ctrl-] by default, --escape) leaves, which in pvmm ends the domain as
 * SIGINT does. The terminal is restored at exit and on pvmm's own fatal
 * signals: the one piece of state here a signal handler must reach.
 */
#include "vmm/vmm.h"
#include "vmm/backends/backend.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 20000000ull

static struct termios saved_term; /* the terminal as it was */
static volatile sig_atomic_t saved_fd = -1;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vmm_conin_restore(void)
{
	int fd = saved_fd;

	if (fd >= 0) {
		tcsetattr(fd, TCSADRAIN, &saved_term);
		saved_fd = -1;
	}
}

/* pvmm itself crashed: give the terminal back, then die of the signal. */
static void on_fatal(int sig)
{
	vmm_conin_restore();
	raise(sig); /* SA_RESETHAND: the default action now */
}

static void restore_on_fatal_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* Raw mode as `xl console` sets it: no line editing, echo or signal keys,
 * 8-bit input unchanged, each byte as it comes. Output processing stays:
 * guests that end lines with a bare \n are shown as before. */
static int make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &saved_term))
		return -errno;
	t = saved_term;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	saved_fd = fd;
	atexit(vmm_conin_restore);
	restore_on_fatal_signals();
	if (tcsetattr(fd, TCSANOW, &t)) {
		saved_fd = -1;
		return -errno;
	}
	return 0;
}

int vmm_conin_parse_escape(const char *s, int *escape)
{
	if (!strcmp(s, "none"))
		*escape = -1;
	else if (s[0] == '^' && s[1] && !s[2] && ((s[1] >= '@' && s[1] <= '_') || (s[1] >= 'a' && s[1] <= 'z')))
		*escape = s[1] & 0x1f;
	else if (s[0] && !s[1] && (unsigned char)s[0] < 0x80)
		*escape = (unsigned char)s[0];
	else
		return -1;
	return 0;
}

int vmm_conin_open(struct vm *vm, int fd, int escape)
{
	struct vmm_conin *c = &vmm_of(vm)->conin;

	c->fd = fd;
	c->escape = -1; /* a pipe's or a file's bytes all go to the guest */
	if (fd < 0 || !isatty(fd))
		return 0;
	c->escape = escape;
	if (tcgetpgrp(fd) != getpgrp()) {
		c->fd = -1; /* a background job: reading would stop pvmm (SIGTTIN) */
		return 0;
	}
	if (escape < 0)
		return 0; /* --escape=none: the terminal keeps its line discipline */
	return make_raw(fd);
}

/* Whether the guest takes console input now: through its ring, or
 * through console_io with VIRQ_CONSOLE bound to hear of it. */
static int wanted(const struct vm *vm)
{
	return vm->ev.console_used || vm->ev.virq_port[VIRQ_CONSOLE];
}

int vmm_conin_fd(const struct vm *vm)
{
	const struct vmm_conin *c = &vmm_of(vm)->conin;

	return c->fd >= 0 && wanted(vm) && vm->input.len < sizeof(vm->input.buf) ? c->fd : -1;
}

int vmm_conin_running(const struct vm *vm, int *fd)
{
	const struct vmm_conin *c = &vmm_of(vm)->conin;

	*fd = -1;
	if (c->kicked)
		return 0; /* the hand-off it asked for is on its way */
	if (vm->input.len)
		return vm->ev.console_used; /* held for the ring's room: tick */
	*fd = vmm_conin_fd(vm);
	return 0;
}

void vmm_conin_woke(struct vm *vm, int readable)
{
	struct vmm *v = vmm_of(vm);

	if (v->conin.kicked || v->pid <= 0)
		return;
	if (!readable && !(vm->input.len && vm->ev.console_used && be_console_room(vm)))
		return;
	v->conin.kicked = 1;
	kill(v->pid, SIGUSR1);
}

/* The escape key: what came before it is the guest's, what follows it is
 * dropped, and the domain ends as SIGINT ends it. */
static size_t escaped(struct vm *vm, const char *buf, size_t n)
{
	const struct vmm_conin *c = &vmm_of(vm)->conin;
	const char *e = c->escape >= 0 ? memchr(buf, c->escape, n) : NULL;

	if (!e)
		return n;
	vmm_signals_escape();
	return (size_t)(e - buf);
}

/* Read what stdin has now into vm->input, without blocking. */
static void read_input(struct vm *vm)
{
	struct vmm_conin *c = &vmm_of(vm)->conin;
	struct pollfd p = { c->fd, POLLIN, 0 };
	size_t room = sizeof(vm->input.buf) - vm->input.len;
	ssize_t n;

	c->last_ns = mono_ns();
	if (!room || poll(&p, 1, 0) != 1)
		return;
	n = read(c->fd, vm->input.buf + vm->input.len, room);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->fd = -1; /* end of input (or an error): never read again, never spin */
		return;
	}
	n = (ssize_t)escaped(vm, vm->input.buf + vm->input.len, (size_t)n);
	vm->input.len += (uint32_t)n;
	if (n)
		vm->input.fresh = 1;
}

void vmm_conin_pump(struct vm *vm, int now)
{
	struct vmm_conin *c = &vmm_of(vm)->conin;

	if (vmm_conin_fd(vm) >= 0 && (now || c->kicked || mono_ns() - c->last_ns >= TICK_NS))
		read_input(vm);
	c->kicked = 0;
	if (vm->input.len)
		be_console_input(vm);
}
