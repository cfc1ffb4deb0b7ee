/* netpeer - the host's side of the net guest's test (tests/e2e/cases/net.sh)
 * and of its benchmark (make bench).
 *
 *   netpeer [--bench=N] PVMM [PVMM-OPTIONS...] NET.elf
 *
 * Listens on a UDP port of 127.0.0.1 the kernel picks, picks a free UDP
 * port for the forward the same way, and runs
 *   PVMM --net=user,hostfwd=udp:127.0.0.1:FWD-:7,hostfwd=tcp:127.0.0.1:TFWD-:7
 *        --cmdline=peer=LISTEN OPTIONS NET.elf
 * (again with other ports, up to 5 times, when another process took the
 * forward's port in between: pvmm then exits 2). It then waits for the
 * guest's datagram (to 10.0.2.2:LISTEN, which is the host's loopback),
 * sends datagrams to 127.0.0.1:FWD and checks each echo (a lost one is
 * sent again after a second, up to 10 times: UDP), connects to
 * 127.0.0.1:TFWD, sends three messages (one of 3000 bytes, more than a
 * segment) and reads them back, closes its side and waits for the guest's
 * close, then sends "quit", and
 * returns pvmm's status, or 1 when the exchange failed, saying what
 * happened on stdout. Waits are bounded (30 s) only so that a broken run
 * ends: nothing is timed.
 *
 * --bench=N: N echoes one after the other, then N datagrams as fast as the
 * echoes come back with 32 in flight, through the forward and then through
 * a loopback echo of its own: one line of figures each; then N KiB through
 * the TCP forward's echo and through a loopback TCP echo of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOUND_MS 30000

static pid_t child;

/* A socket of (type) bound to a port of 127.0.0.1 the kernel picks. */
static int loopback_socket(int type, unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || getsockname(s, (struct sockaddr *)&a, &n)) {
		perror("netpeer: socket");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return s;
}

/* Wait for a datagram on (s) for at most (ms), while pvmm runs: its
 * length, -1 on timeout, -2 when pvmm ended. A datagram pvmm sent just
 * before it ended is still read: the socket is looked at first. */
static ssize_t recv_wait(int s, char *buf, size_t len, int ms, struct sockaddr_in *from)
{
	struct pollfd p = { s, POLLIN, 0 };
	socklen_t fl = sizeof(*from);

	for (int waited = 0; waited < ms; waited += 100) {
		int status;

		if (poll(&p, 1, ms - waited < 100 ? ms - waited : 100) > 0)
			return recvfrom(s, buf, len, 0, (struct sockaddr *)from, &fl);
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = -status - 1; /* remembered for main */
			if (poll(&p, 1, 0) > 0)
				return recvfrom(s, buf, len, 0, (struct sockaddr *)from, &fl);
			return -2;
		}
	}
	return -1;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Send (msg) to (to) from (s) until its echo comes back. 0 or -1. */
static int echo(int s, const struct sockaddr_in *to, const char *msg)
{
	char buf[2048];
	struct sockaddr_in from;

	for (int tries = 0; tries < 10; tries++) {
		sendto(s, msg, strlen(msg), 0, (const struct sockaddr *)to, sizeof(*to));
		for (;;) {
			ssize_t n = recv_wait(s, buf, sizeof(buf), 1000, &from);
			if (n == -2)
				return -1;
			if (n < 0)
				break; /* lost: again */
			if ((size_t)n == strlen(msg) && !memcmp(buf, msg, (size_t)n))
				return 0;
		}
	}
	return -1;
}

static int udp_socket(unsigned *port)
{
	return loopback_socket(SOCK_DGRAM, port);
}

static void free_tcp_port(unsigned *port)
{
	close(loopback_socket(SOCK_STREAM, port));
}

/* Wait until (s) is readable for at most BOUND_MS: 0, or -1. */
static int readable(int s)
{
	struct pollfd p = { s, POLLIN, 0 };

	return poll(&p, 1, BOUND_MS) == 1 ? 0 : -1;
}

/* The TCP echo through the forward to the guest's port 7: every byte back
 * in order, then a close from each side. 0, or -1 saying why. */
static int tcp_echo(unsigned port)
{
	static char out[3019], back[sizeof(out)];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;
	ssize_t k;

	memcpy(out, "hello over tcp\n", 15);
	for (size_t i = 15; i < 3015; i++)
		out[i] = (char)('a' + i % 26);
	memcpy(out + 3015, "bye\n", 4);
	if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to))) {
		printf("netpeer: TCP: connect to 127.0.0.1:%u: %s\n", port, strerror(errno));
		return -1;
	}
	if (write(s, out, 15) != 15 || write(s, out + 15, 3000) != 3000 || write(s, out + 3015, 4) != 4) {
		printf("netpeer: TCP: write: %s\n", strerror(errno));
		close(s);
		return -1;
	}
	while (got < sizeof(out) && !readable(s) && (k = read(s, back + got, sizeof(out) - got)) > 0)
		got += (size_t)k;
	if (got != sizeof(out) || memcmp(out, back, sizeof(out))) {
		printf("netpeer: TCP: %zu of %zu bytes came back%s\n", got, sizeof(out),
		       got == sizeof(out) ? ", not the same" : "");
		close(s);
		return -1;
	}
	shutdown(s, SHUT_WR);
	k = readable(s) ? -1 : read(s, back, 1);
	close(s);
	if (k != 0) {
		printf("netpeer: TCP: the guest did not close its side\n");
		return -1;
	}
	printf("netpeer: TCP: %zu bytes to 127.0.0.1:%u (the guest's TCP port 7) echoed, then both sides "
	       "closed\n", sizeof(out), port);
	return 0;
}

static pid_t spawn(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		perror("netpeer: exec");
		_exit(127);
	}
	return pid;
}

static int finish(void)
{
	int status;

	if (child > 0) {
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	} else {
		status = -(child + 1);
	}
	child = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Round trips one after the other, then a window of 32 in flight. */
static void bench(int s, const struct sockaddr_in *to, unsigned n, const char *what)
{
	char msg[1024], buf[2048];
	struct sockaddr_in from;
	double t0 = mono(), t1, t2;
	unsigned sent = 0, got = 0;

	for (unsigned i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "rtt %u", i);
		if (echo(s, to, msg)) {
			printf("netpeer: %s: echo %u lost\n", what, i);
			return;
		}
	}
	t1 = mono();
	memset(msg, 'x', sizeof(msg));
	while (got < n) {
		while (sent < n && sent - got < 32)
			sendto(s, msg, sizeof(msg), 0, (const struct sockaddr *)to, sizeof(*to)), sent++;
		if (recv_wait(s, buf, sizeof(buf), 1000, &from) < 0)
			break;
		got++;
	}
	t2 = mono();
	printf("netpeer: %s: %u round trips in %.3f s (%.0f/s, %.1f us each); %u of %u 1024-byte "
	       "datagrams echoed with 32 in flight in %.3f s (%.0f datagrams/s, %.2f MB/s each way)\n",
	       what, n, t1 - t0, n / (t1 - t0), (t1 - t0) / n * 1e6, got, n, t2 - t1, got / (t2 - t1),
	       got * 1024.0 / (t2 - t1) / 1e6);
}

/* Bulk TCP through an echo at (port): (total) bytes written in 16 KiB
 * writes while the echo is read back, both at once; one line of figures. */
static void tcp_bench(unsigned port, size_t total, const char *what)
{
	static char out[16384], in[65536];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t sent = 0, got = 0;
	double t0;

	memset(out, 'x', sizeof(out));
	if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to))) {
		printf("netpeer: %s: TCP connect: %s\n", what, strerror(errno));
		return;
	}
	t0 = mono();
	while (got < total) {
		struct pollfd p = { s, POLLIN | (sent < total ? POLLOUT : 0), 0 };
		if (poll(&p, 1, BOUND_MS) != 1)
			break;
		if (p.revents & POLLOUT) {
			size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
			ssize_t k = send(s, out, n, MSG_DONTWAIT);
			sent += k > 0 ? (size_t)k : 0;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t k = recv(s, in, sizeof(in), MSG_DONTWAIT);
			if (k == 0 || (k < 0 && errno != EAGAIN))
				break;
			got += k > 0 ? (size_t)k : 0;
		}
	}
	double t = mono() - t0;
	close(s);
	printf("netpeer: %s: TCP echo of %zu of %zu bytes in %.3f s (%.2f MB/s each way)%s\n", what, got,
	       total, t, got / t / 1e6, got < total ? ", INCOMPLETE" : "");
}

/* A TCP echo server on the host's loopback, in a child: its port. */
static pid_t tcp_echo_server(unsigned *port)
{
	int ls = loopback_socket(SOCK_STREAM, port);

	if (listen(ls, 1)) {
		perror("netpeer: listen");
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0) {
		char buf[65536];
		ssize_t k;
		int c = accept(ls, NULL, NULL);
		while (c >= 0 && (k = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, (size_t)k) != k)
				break;
		_exit(0);
	}
	close(ls);
	return pid;
}

/* A loopback echo of our own, in a child, for comparison. */
static void bench_loopback(unsigned n)
{
	unsigned port;
	int es = udp_socket(&port), s;
	pid_t pid = fork();

	if (pid == 0) {
		char buf[2048];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		for (;;) {
			ssize_t k = recvfrom(es, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (k > 0)
				sendto(es, buf, (size_t)k, 0, (struct sockaddr *)&from, fl);
		}
	}
	close(es);
	unsigned mine;
	s = udp_socket(&mine);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	pid_t saved = child;
	child = 0;
	bench(s, &to, n, "host loopback");
	child = saved;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(s);
}

int main(int argc, char **argv)
{
	unsigned nbench = 0, lport, fport, tport, sport;
	char net[160], peer[64], buf[2048];
	char *args[64];
	int n = 0, ls, rc;
	struct sockaddr_in from, to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (argc > 1 && !strncmp(argv[1], "--bench=", 8))
		nbench = (unsigned)atoi(argv[1] + 8), argv++, argc--;
	if (argc < 3 || argc > 50) {
		fprintf(stderr, "usage: netpeer [--bench=N] PVMM [OPTIONS...] NET.elf\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ls = udp_socket(&lport);
	for (int attempt = 0;; attempt++) {
		int f = udp_socket(&fport); /* a port free a moment ago */
		close(f);
		free_tcp_port(&tport);
		snprintf(net, sizeof(net), "--net=user,hostfwd=udp:127.0.0.1:%u-:7,hostfwd=tcp:127.0.0.1:%u-:7",
			 fport, tport);
		snprintf(peer, sizeof(peer), "--cmdline=peer=%u", lport);
		n = 0;
		args[n++] = argv[1];
		args[n++] = net;
		args[n++] = peer;
		for (int i = 2; i < argc; i++)
			args[n++] = argv[i];
		args[n] = NULL;
		fflush(stdout);
		child = spawn(args);
		ssize_t k = recv_wait(ls, buf, sizeof(buf) - 1, BOUND_MS, &from);
		if (k == -2 && finish() == 2 && attempt < 4)
			continue; /* the forward's port was taken meanwhile: other ports */
		if (k < 0) {
			printf("netpeer: no datagram from the guest (%s)\n", k == -1 ? "30 s" : "pvmm ended");
			if (child > 0)
				kill(child, SIGKILL);
			finish();
			return 1;
		}
		buf[k] = 0;
		printf("netpeer: the guest's datagram to 127.0.0.1:%u: \"%s\"\n", lport, buf);
		break;
	}
	int s = udp_socket(&sport);
	to.sin_port = htons((uint16_t)fport);
	for (int i = 0; i < 5; i++) {
		char msg[32];
		snprintf(msg, sizeof(msg), "ping %d", i);
		if (echo(s, &to, msg)) {
			printf("netpeer: \"%s\" to the forward 127.0.0.1:%u came not back\n", msg, fport);
			if (child > 0)
				kill(child, SIGKILL);
			finish();
			return 1;
		}
	}
	printf("netpeer: 5 datagrams to 127.0.0.1:%u (the guest's UDP port 7) echoed\n", fport);
	if (tcp_echo(tport)) {
		if (child > 0)
			kill(child, SIGKILL);
		finish();
		return 1;
	}
	if (nbench) {
		unsigned eport;
		bench(s, &to, nbench, "pvmm guest via hostfwd");
		bench_loopback(nbench);
		tcp_bench(tport, (size_t)nbench * 1024, "pvmm guest via hostfwd");
		pid_t echo_pid = tcp_echo_server(&eport);
		tcp_bench(eport, (size_t)nbench * 1024, "host loopback");
		kill(echo_pid, SIGKILL);
		waitpid(echo_pid, NULL, 0);
	}
	rc = echo(s, &to, "quit");
	int status = finish();
	if (rc)
		printf("netpeer: \"quit\" was not echoed\n");
	printf("netpeer: pvmm exited with status %d\n", status);
	return rc ? 1 : status;
}
