/*
 * suite.c - `pvmm test`: run many guests as a test suite, the way CI runs
 * PV test kernels, with JUnit and TAP reports.
 *
 * Each guest runs as its own `pvmm` process (this binary), up to -j at a
 * time, with its console captured. Its outcome comes from the exit status
 * and, with --result-regex, from the last console line matching it
 * (SUCCESS, SKIP, ERROR, FAILURE, severity ordered). Options for one guest
 * come from NAME.cfg beside NAME.elf, or a guest is an xl .cfg of its own
 * whose kernel key names the image; both are read by xlcfg.c
 * (docs/suite.md), which also judges what a passing guest's .cfg expects
 * of its log and --stats (expect_log, expect_count, expect_stat, ...).
 *
 * SIGINT, SIGTERM and SIGHUP are blocked and read from a signalfd beside
 * SIGCHLD, so the one wait in the loop sees both and no signal falls
 * between a check and the wait. The first stops every running guest
 * (SIGTERM to its pvmm, which runs with --shutdown-grace=0, then SIGKILL
 * after --stop-grace seconds or at a second signal; two signals that
 * arrive before the runner reads them count as one), and the reports are written
 * with the unfinished guests marked. The runner is its children's
 * subreaper and reaps every process below it before it exits; each child
 * dies with the runner (PR_SET_PDEATHSIG) and each guest with its pvmm.
 */
#include "vmm/vmm.h"
#include "vmm/xlcfg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* INTERRUPTED: started, then stopped because the runner was interrupted;
 * NOTRUN: not started because it was. */
enum outcome { OUT_PASS, OUT_SKIP, OUT_FAIL, OUT_ERROR, OUT_TIMEOUT, OUT_INTERRUPTED, OUT_NOTRUN,
	       OUT_COUNT };
static const char *const outcome_names[] = { "PASS", "SKIP", "FAIL", "ERROR", "TIMEOUT",
					      "INTERRUPTED", "NOTRUN" };

/* Seconds the guests' pvmm processes get to stop after SIGTERM before
 * SIGKILL (they run with --shutdown-grace=0, so they need far less). */
#define STOP_GRACE_S 2u /* --stop-grace's default */

struct guest {
	char path[PATH_MAX];
	char name[128];
	char opts[4096];       /* from its .cfg: pvmm options, NUL-separated */
	int nopt;
	int unrunnable;        /* its .cfg is bad: ERROR, not started */
	unsigned timeout;
	struct xlcfg_expect *ex; /* what its .cfg expects, NULL: nothing */
	char *input;           /* its .cfg's console_input, NULL: none (/dev/null) */
	pid_t pid;
	char log[PATH_MAX], trace[PATH_MAX], stats[PATH_MAX], in[PATH_MAX];
	double start, seconds;
	int status;
	enum outcome outcome;
	char why[512];
};

struct suite {
	struct guest *g;
	size_t n, cap;
	unsigned jobs, timeout, stop_grace;
	const char *junit, *keep, *regex_text, *self;
	int tap, trace_failures, keep_all, tty;
	int sigfd;             /* SIGINT, SIGTERM, SIGHUP and SIGCHLD, blocked */
	sigset_t oldmask;      /* the mask to give the children back */
	int interrupted;       /* the signal that interrupted the run, or 0 */
	unsigned stops;        /* SIGINT/SIGTERM/SIGHUP received */
	size_t running;        /* guests started and not reaped */
	regex_t regex;
	char workdir[PATH_MAX / 2];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char usage_text[] =
	"usage: pvmm test [OPTIONS] GUEST.elf|GUEST.cfg... | DIR...\n"
	"Run guests as a test suite; a directory means every *.elf in it and every\n"
	"xl *.cfg that is not a NAME.cfg beside a NAME.elf (docs/suite.md).\n"
	"  -j, --jobs=N          guests at a time (default: the number of CPUs)\n"
	"  -t, --timeout=SECS    per guest, unless its .cfg says otherwise (default 60;\n"
	"                        at least 1: -t 0 is refused, every guest has one)\n"
	"      --result-regex=RE the last console line matching RE decides: it must contain\n"
	"                        SUCCESS, SKIP, ERROR or FAILURE (e.g. 'Test result: ')\n"
	"      --junit=FILE      write JUnit XML\n"
	"      --tap             print TAP 13 instead of the table\n"
	"      --keep=DIR        keep each failing guest's console output in DIR\n"
	"      --keep-all        keep every guest's, passing ones too, and its --stats\n"
	"                        JSON (needs --keep)\n"
	"      --trace-failures  also keep a failing guest's page-table trace (needs --keep)\n"
	"      --stop-grace=SECS when interrupted, the running guests get SECS seconds to\n"
	"                        stop after SIGTERM before SIGKILL (default 2)\n"
	"On SIGINT, SIGTERM or SIGHUP it stops the running guests and reports what ran.\n"
	"exit status: 0 all passed or skipped, 1 some failed, 2 bad command line,\n"
	"  5 host error, 7 interrupted (unfinished guests INTERRUPTED or NOTRUN)\n";

/* ---- configuration ------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

/* What a guest's .cfg says (xlcfg.h), kept as the pvmm options it makes,
 * NUL-separated in g->opts. */
static int take_cfg(struct suite *s, struct guest *g, const struct xlcfg *c, char *why, size_t len)
{
	char *argv[64];
	int n = vmm_xlcfg_options(c, g->opts, sizeof(g->opts), argv, 64);

	for (unsigned i = 0; i < c->nwarn; i++)
		fprintf(stderr, "pvmm test: %s\n", c->warn[i]);
	if (n < 0) {
		snprintf(why, len, "%.400s: too many options", c->file);
		return -1;
	}
	g->nopt = n;
	g->timeout = c->timeout ? c->timeout : s->timeout;
	if (!(g->ex = malloc(sizeof(*g->ex))) || (c->has_console_input && !(g->input = strdup(c->console_input)))) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	*g->ex = c->expect;
	return 0;
}

/* A guest whose .cfg cannot be honoured is an ERROR without running; the
 * reason (FILE:LINE: ...) is already in g->why. */
static int not_runnable(struct guest *g)
{
	g->outcome = OUT_ERROR;
	g->unrunnable = 1;
	return 0;
}

/* A guest: NAME.elf (with NAME.cfg beside it when there is one), or an xl
 * configuration whose kernel key names the image (NAME.elf beside it when
 * it has none). */
static int add_guest(struct suite *s, const char *path, char *why, size_t len)
{
	static struct xlcfg cfg;
	char cfgpath[PATH_MAX], elf[PATH_MAX];
	struct guest *g;
	const char *base = strrchr(path, '/');
	int is_cfg = ends_with(path, ".cfg"), rc;
	size_t stem = strlen(path) - (ends_with(path, ".elf") || is_cfg ? 4 : 0);

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct guest *p = realloc(s->g, cap * sizeof(*p));
		if (!p)
			return -1;
		s->g = p, s->cap = cap;
	}
	g = &s->g[s->n++];
	memset(g, 0, sizeof(*g));
	base = base ? base + 1 : path;
	snprintf(g->name, sizeof(g->name), "%.*s", (int)(strlen(base) - (strlen(path) - stem)), base);
	snprintf(g->path, sizeof(g->path), "%s", path);
	g->timeout = s->timeout;
	snprintf(cfgpath, sizeof(cfgpath), "%.*s.cfg", (int)stem, path);
	snprintf(elf, sizeof(elf), "%.*s.elf", (int)stem, path);
	if (!is_cfg && access(cfgpath, F_OK))
		return 0; /* an image without a .cfg */
	if ((rc = vmm_xlcfg_read(cfgpath, &cfg, g->why)) != 0)
		return rc == -ENOMEM ? -1 : not_runnable(g);
	if (is_cfg && cfg.kernel[0])
		snprintf(g->path, sizeof(g->path), "%s", cfg.kernel);
	else if (is_cfg && !access(elf, F_OK))
		snprintf(g->path, sizeof(g->path), "%s", elf);
	else if (is_cfg) {
		snprintf(g->why, sizeof(g->why), "%.300s: no kernel key, and no %.100s.elf beside it",
			 path, g->name);
		return not_runnable(g);
	}
	return take_cfg(s, g, &cfg, why, len);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct guest *)a)->name, ((const struct guest *)b)->name);
}

static int add_path(struct suite *s, const char *path, char *why, size_t len)
{
	struct stat st;
	struct dirent **list;
	int n;

	if (stat(path, &st)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_guest(s, path, why, len);
	n = scandir(path, &list, NULL, alphasort);
	int rc = n < 0 ? -1 : 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(list[i]->d_name);
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%s", path, list[i]->d_name);
		if (!rc && l > 4 && !strcmp(list[i]->d_name + l - 4, ".elf"))
			rc = add_guest(s, full, why, len);
		else if (!rc && l > 4 && !strcmp(list[i]->d_name + l - 4, ".cfg")) {
			/* a unit of its own unless it is NAME.elf's */
			snprintf(full + strlen(full) - 4, 5, ".elf");
			if (access(full, F_OK)) {
				snprintf(full, sizeof(full), "%s/%s", path, list[i]->d_name);
				rc = add_guest(s, full, why, len);
			}
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	return rc;
}

static void suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->g[i].ex), free(s->g[i].input);
	free(s->g);
	s->g = NULL;
	if (s->regex_text)
		regfree(&s->regex);
	s->regex_text = NULL;
}

/* ---- running -------------------------------------------------------------- */

/* Block SIGINT, SIGTERM, SIGHUP and SIGCHLD and open a signalfd for them;
 * become the subreaper of everything started below. 0 or -1 (errno). */
static int signals_open(struct suite *s)
{
	sigset_t set;

	/* an inherited SIG_IGN for SIGCHLD would make the kernel reap the
	 * children itself and queue no SIGCHLD to wait for; a reader of our
	 * output that went away (| tee, killed by the same Ctrl-C) must not
	 * kill the runner before its report and clean-up */
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR || signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &s->oldmask))
		return -1;
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1))
		return -1;
	return 0;
}

/* In the child, before exec: the runner's signal mask undone, and death
 * with the runner. A runner already gone (killed between fork and prctl)
 * means exit at once. */
static void child_prepare(struct suite *s, pid_t parent)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	if (sigaction(SIGPIPE, &dfl, NULL) || sigprocmask(SIG_SETMASK, &s->oldmask, NULL) ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
}

/* The guest's console input, from its .cfg, in a file of the work
 * directory; 0 or -1 (errno). */
static int write_input(const struct guest *g)
{
	FILE *f = fopen(g->in, "w");
	int bad;

	if (!f)
		return -1;
	bad = fputs(g->input, f) < 0;
	return fclose(f) || bad ? -1 : 0;
}

static int start(struct suite *s, struct guest *g, size_t idx)
{
	char timeout[32], *argv[80];
	const char *opt = g->opts;
	static char grace0[] = "--shutdown-grace=0"; /* the runner decides when to stop */
	int argc = 0, fd;
	pid_t parent = getpid();

	snprintf(g->log, sizeof(g->log), "%.3000s/%zu.log", s->workdir, idx);
	snprintf(g->trace, sizeof(g->trace), "%.3000s/%zu.trace", s->workdir, idx);
	snprintf(g->stats, sizeof(g->stats), "%.3000s/%zu.stats", s->workdir, idx);
	snprintf(g->in, sizeof(g->in), "%.3000s/%zu.in", s->workdir, idx);
	snprintf(timeout, sizeof(timeout), "--timeout=%u", g->timeout);
	static char trace_pt[] = "--trace=pt";
	char trace[PATH_MAX + 16], stats[PATH_MAX + 16];

	if (g->input && write_input(g))
		return -1;
	argv[argc++] = (char *)s->self;
	argv[argc++] = timeout;
	argv[argc++] = grace0;
	if (s->trace_failures) {
		argv[argc++] = trace_pt;
		snprintf(trace, sizeof(trace), "--trace-file=%s", g->trace);
		argv[argc++] = trace;
	}
	if (s->keep_all || (g->ex && g->ex->stat.n)) { /* before the .cfg's, which may say otherwise */
		snprintf(stats, sizeof(stats), "--stats=%s", g->stats);
		argv[argc++] = stats;
	}
	/* the .cfg's (pvmm_options last), after grace0, which they may override */
	for (int i = 0; i < g->nopt && argc < 72; i++, opt += strlen(opt) + 1)
		argv[argc++] = (char *)opt;
	argv[argc++] = g->path;
	argv[argc] = NULL;
	g->start = now();
	g->pid = fork();
	if (g->pid == 0) {
		child_prepare(s, parent);
		fd = open(g->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int in = open(g->input ? g->in : "/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || in < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(in, 0) < 0)
			_exit(126);
		execv(s->self, argv);
		_exit(127);
	}
	if (g->pid < 0) {
		g->pid = 0;
		return -1;
	}
	s->running++;
	return 0;
}

/* The last line of the log matching the result regex, or NULL. */
static int result_line(struct suite *s, struct guest *g, char *out, size_t len)
{
	FILE *f = fopen(g->log, "r");
	char line[1024];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!regexec(&s->regex, line, 0, NULL, 0)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line);
			found = 1;
		}
	fclose(f);
	return found;
}

/* A passing guest must also show what its .cfg expects of its log and
 * its --stats (expect_log, expect_no_log, expect_count, expect_stat). */
static void check_expectations(struct guest *g)
{
	const struct xlcfg_expect *e = g->ex;
	size_t len;

	if (g->outcome != OUT_PASS || !e || !(e->log.n + e->no_log.n + e->count.n + e->stat.n))
		return;
	FILE *log = fopen(g->log, "r");
	char *stats = e->stat.n ? vmm_read_file(g->stats, 1 << 20, 0, &len) : NULL, why[sizeof(g->why)];
	if (vmm_xlcfg_judge(e, log, stats, why, sizeof(why))) {
		g->outcome = OUT_FAIL;
		memcpy(g->why, why, sizeof(why));
	}
	if (log)
		fclose(log);
	free(stats);
}

/* A guest built to end a given way (.cfg expect) passes when it does; its
 * own result line is not read. */
static void judge_expected(struct guest *g, int code)
{
	g->outcome = code == g->ex->status ? OUT_PASS : OUT_FAIL;
	snprintf(g->why, sizeof(g->why), "pvmm exit status %d, expected %d", code, g->ex->status);
	check_expectations(g);
}

static void judge(struct suite *s, struct guest *g)
{
	char line[1024];
	int code = WIFEXITED(g->status) ? WEXITSTATUS(g->status) : 128 + WTERMSIG(g->status);

	if (g->ex && g->ex->status >= 0) {
		judge_expected(g, code);
		return;
	}
	g->outcome = code == 0 ? OUT_PASS : code == VMM_EXIT_TIMEOUT ? OUT_TIMEOUT
		     : code == VMM_EXIT_CRASH ? OUT_FAIL : OUT_ERROR;
	snprintf(g->why, sizeof(g->why), "pvmm exit status %d", code);
	if (s->regex_text && result_line(s, g, line, sizeof(line))) {
		/* severity ordered: the worst word on the line decides */
		enum outcome r = strstr(line, "FAILURE") ? OUT_FAIL : strstr(line, "ERROR") ? OUT_ERROR
				 : strstr(line, "SKIP") ? OUT_SKIP : strstr(line, "SUCCESS") ? OUT_PASS
				 : OUT_ERROR;
		if (g->outcome == OUT_PASS || g->outcome == OUT_FAIL)
			g->outcome = r > g->outcome ? r : r == OUT_SKIP ? OUT_SKIP : g->outcome;
		snprintf(g->why, sizeof(g->why), "%.400s (pvmm exit status %d)", line, code);
	} else if (s->regex_text && g->outcome == OUT_PASS) {
		g->outcome = OUT_ERROR;
		snprintf(g->why, sizeof(g->why), "no console line matches the result regex");
	}
	check_expectations(g);
}

/* The width of the name column: 28, or the longest name. */
static int name_width(const struct suite *s)
{
	size_t w = 28;

	for (size_t i = 0; i < s->n; i++)
		w = strlen(s->g[i].name) > w ? strlen(s->g[i].name) : w;
	return (int)w;
}

static void progress(struct suite *s, const struct guest *g, size_t done)
{
	if (s->tap)
		return;
	printf("[%zu/%zu] %-*s %-11s %7.3fs%s%s\n", done, s->n, name_width(s), g->name,
	       outcome_names[g->outcome],
	       g->seconds, g->outcome > OUT_SKIP ? "  " : "", g->outcome > OUT_SKIP ? g->why : "");
	fflush(stdout);
}

static const char *sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

/* A guest that ended after the runner was interrupted, stopped by it
 * (pvmm's status 7, or a signal), is INTERRUPTED; one that finished on its
 * own in the meantime is judged as usual. */
static void judge_ended(struct suite *s, struct guest *g)
{
	int code = WIFEXITED(g->status) ? WEXITSTATUS(g->status) : -1;

	if (s->interrupted && (code == VMM_EXIT_INTERRUPTED || WIFSIGNALED(g->status))) {
		g->outcome = OUT_INTERRUPTED;
		snprintf(g->why, sizeof(g->why), "interrupted: stopped after %.3f s because pvmm test got %s",
			 g->seconds, sig_name(s->interrupted));
		return;
	}
	judge(s, g);
}

/* Reap whatever has ended: the guests' pvmm processes, and any process
 * orphaned below the runner (it is their subreaper). */
static void reap(struct suite *s, size_t *done)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (size_t i = 0; i < s->n; i++) {
			struct guest *g = &s->g[i];
			if (g->pid != pid)
				continue;
			g->status = status;
			g->seconds = now() - g->start;
			g->pid = 0;
			s->running--;
			judge_ended(s, g);
			progress(s, g, ++*done);
		}
}

/* Read the pending signals; the first of SIGINT/SIGTERM/SIGHUP interrupts
 * the run, and each is counted in s->stops. */
static void read_signals(struct suite *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo != SIGCHLD) {
			s->stops++;
			if (!s->interrupted)
				s->interrupted = (int)si.ssi_signo;
		}
}

/* Wait until a signal comes or (timeout_ms, -1 for none) passes. */
static void wait_event(struct suite *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->sigfd, .events = POLLIN };

	poll(&p, 1, timeout_ms); /* an error is EINTR at most: the caller looks again */
}

static void kill_running(struct suite *s, int sig)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->g[i].pid > 0)
			kill(s->g[i].pid, sig);
}

/* SIGKILL to the guests' pvmm processes still running, saying why. */
static void kill_rest(struct suite *s, const char *why)
{
	fprintf(stderr, "pvmm test: %s: killing the %zu guest%s left\n", why, s->running,
		s->running == 1 ? "" : "s");
	kill_running(s, SIGKILL);
}

/* The run was interrupted: SIGTERM to every running guest's pvmm (it
 * kills its guest and exits 7), SIGKILL to those left after --stop-grace
 * or at the next signal; reap them all. */
static void stop_all(struct suite *s, size_t *done)
{
	double deadline = now() + s->stop_grace;
	int killed = 0;

	fprintf(stderr, "pvmm test: interrupted by %s: stopping %zu running guest%s\n",
		sig_name(s->interrupted), s->running, s->running == 1 ? "" : "s");
	kill_running(s, SIGTERM);
	while (s->running) {
		double left = deadline - now();
		if (!killed && s->stops > 1) {
			kill_rest(s, "a second signal");
			killed = 1;
		} else if (!killed && left <= 0) {
			char why[64];
			snprintf(why, sizeof(why), "still running %u s after SIGTERM", s->stop_grace);
			kill_rest(s, why);
			killed = 1;
		}
		wait_event(s, killed ? -1 : (int)(left * 1000) + 1);
		read_signals(s);
		reap(s, done);
	}
}

/* Reap the processes orphaned below the runner (a guest process whose
 * pvmm died first gets SIGKILL from it and is the runner's to reap). */
static void reap_orphans(void)
{
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static void mark_not_run(struct suite *s, size_t from)
{
	for (size_t i = from; i < s->n; i++) {
		s->g[i].outcome = OUT_NOTRUN;
		snprintf(s->g[i].why, sizeof(s->g[i].why), "not run: pvmm test was interrupted by %s",
			 sig_name(s->interrupted));
	}
}

static void start_failed(struct suite *s, struct guest *g, size_t *done)
{
	g->outcome = OUT_ERROR;
	snprintf(g->why, sizeof(g->why), "cannot start pvmm: %s", strerror(errno));
	progress(s, g, ++*done);
}

static void run_all(struct suite *s)
{
	size_t next = 0, done = 0;

	while (done < s->n && !s->interrupted) {
		while (s->running < s->jobs && next < s->n) {
			if (s->g[next].unrunnable)
				progress(s, &s->g[next], ++done);
			else if (start(s, &s->g[next], next))
				start_failed(s, &s->g[next], &done);
			next++;
		}
		if (done == s->n)
			break;
		wait_event(s, -1);
		read_signals(s);  /* first, so a guest stopped by the same signal is INTERRUPTED */
		reap(s, &done);
	}
	if (s->interrupted) {
		stop_all(s, &done);
		mark_not_run(s, next);
	}
	reap_orphans();
}

/* ---- reports --------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<') fputs("&lt;", f);
		else if (c == '>') fputs("&gt;", f);
		else if (c == '&') fputs("&amp;", f);
		else if (c == '"') fputs("&quot;", f);
		else if (c >= 0x20 || c == '\n' || c == '\t') fputc(c, f);
	}
}

static const char *last_lines(const char *log, size_t len, int lines)
{
	const char *p = log + len;

	while (p > log && lines >= 0)
		if (*--p == '\n')
			lines--;
	return p == log ? log : p + 1;
}

static int write_junit(struct suite *s)
{
	FILE *f = fopen(s->junit, "w");
	size_t failures = 0, errors = 0, skipped = 0;
	double total = 0;

	if (!f)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		failures += s->g[i].outcome == OUT_FAIL;
		errors += s->g[i].outcome == OUT_ERROR || s->g[i].outcome == OUT_TIMEOUT ||
			  s->g[i].outcome == OUT_INTERRUPTED;
		skipped += s->g[i].outcome == OUT_SKIP || s->g[i].outcome == OUT_NOTRUN;
		total += s->g[i].seconds;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
		"  <testsuite name=\"pvmm\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
		"time=\"%.3f\">\n", s->n, failures, errors, skipped, total);
	for (size_t i = 0; i < s->n; i++) {
		const struct guest *g = &s->g[i];
		size_t len;
		char *log = vmm_read_file(g->log, 1 << 20, 1, &len); /* its end */
		fprintf(f, "    <testcase classname=\"pvmm\" name=\"");
		xml_text(f, g->name, 128);
		fprintf(f, "\" time=\"%.3f\">\n", g->seconds);
		if (g->outcome == OUT_SKIP) {
			fprintf(f, "      <skipped/>\n");
		} else if (g->outcome == OUT_NOTRUN) {
			fprintf(f, "      <skipped message=\"");
			xml_text(f, g->why, sizeof(g->why));
			fprintf(f, "\"/>\n");
		} else if (g->outcome != OUT_PASS) {
			fprintf(f, "      <%s message=\"", g->outcome == OUT_FAIL ? "failure" : "error");
			xml_text(f, g->why, sizeof(g->why));
			fprintf(f, "\" type=\"%s\">", outcome_names[g->outcome]);
			xml_text(f, log ? last_lines(log, len, 10) : "", 1 << 20);
			fprintf(f, "</%s>\n", g->outcome == OUT_FAIL ? "failure" : "error");
		}
		fprintf(f, "      <system-out>");
		xml_text(f, log ? log : "", 1 << 20);
		fprintf(f, "</system-out>\n    </testcase>\n");
		free(log);
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	return fclose(f);
}

static void write_tap(struct suite *s)
{
	printf("TAP version 13\n1..%zu\n", s->n);
	for (size_t i = 0; i < s->n; i++) {
		const struct guest *g = &s->g[i];
		int ok = g->outcome == OUT_PASS || g->outcome == OUT_SKIP || g->outcome == OUT_NOTRUN;
		printf("%s %zu - %s%s%s\n", ok ? "ok" : "not ok", i + 1, g->name,
		       g->outcome == OUT_SKIP || g->outcome == OUT_NOTRUN ? " # SKIP" : "",
		       g->outcome == OUT_NOTRUN ? " not run: pvmm test was interrupted" : "");
		if (!ok)
			printf("  ---\n  outcome: %s\n  message: \"%s\"\n  ...\n", outcome_names[g->outcome], g->why);
	}
	if (s->interrupted)
		printf("Bail out! pvmm test was interrupted by %s\n", sig_name(s->interrupted));
}

/* rename(), or a copy when (dst) is on another file system. */
static int move_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n = 0;
	int in, out, rc = 0;

	if (!rename(src, dst))
		return 0;
	if (errno != EXDEV)
		return -1;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		for (ssize_t done = 0, w; done < n; done += w)
			if ((w = write(out, buf + done, (size_t)(n - done))) <= 0) {
				rc = -1;
				n = -1;
				break;
			}
	if (out < 0 || n < 0 || close(out))
		rc = -1;
	close(in);
	if (!rc)
		unlink(src);
	return rc;
}

/* Move (src) to --keep's NAME.EXT; -1 when it could not be (said on
 * stderr), a (src) that is not there being fine when (optional). */
static int keep_file(const struct suite *s, const struct guest *g, const char *src, const char *ext,
		     int optional)
{
	char dst[PATH_MAX + 200];

	snprintf(dst, sizeof(dst), "%s/%s.%s", s->keep, g->name, ext);
	if (!move_file(src, dst) || (optional && errno == ENOENT))
		return 0;
	fprintf(stderr, "pvmm test: --keep: %s: %s\n", dst, strerror(errno));
	return -1;
}

/* Each failing guest's console (every guest's with --keep-all), its trace
 * with --trace-failures and its --stats JSON when it wrote one. -1 when
 * one could not be kept. */
static int keep_logs(struct suite *s)
{
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct guest *g = &s->g[i];
		int failed = g->outcome != OUT_PASS && g->outcome != OUT_SKIP && g->outcome != OUT_NOTRUN;
		if ((!failed && !s->keep_all) ||
		    access(g->log, F_OK)) /* never started (a .cfg it could not honour): no log */
			continue;
		rc |= keep_file(s, g, g->log, "console", 0);
		if (s->trace_failures && failed) /* none: pvmm stopped early */
			rc |= keep_file(s, g, g->trace, "trace", 1);
		rc |= keep_file(s, g, g->stats, "stats", 1);
	}
	return rc;
}

static void summary(struct suite *s)
{
	size_t count[OUT_COUNT] = { 0 };

	for (size_t i = 0; i < s->n; i++)
		count[s->g[i].outcome]++;
	int w = name_width(s);

	printf("\n%-*s %-11s %8s\n", w, "guest", "outcome", "seconds");
	for (size_t i = 0; i < s->n; i++)
		printf("%-*s %-11s %8.3f\n", w, s->g[i].name, outcome_names[s->g[i].outcome], s->g[i].seconds);
	printf("\n%zu passed, %zu failed, %zu skipped", count[OUT_PASS],
	       count[OUT_FAIL] + count[OUT_ERROR] + count[OUT_TIMEOUT], count[OUT_SKIP]);
	if (s->interrupted)
		printf(", %zu interrupted, %zu not run (pvmm test was interrupted by %s)",
		       count[OUT_INTERRUPTED], count[OUT_NOTRUN], sig_name(s->interrupted));
	printf("\n");
}

static void cleanup(struct suite *s)
{
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < s->n; i++) {
		unlink(s->g[i].log);
		unlink(s->g[i].trace);
		unlink(s->g[i].stats);
		unlink(s->g[i].in);
	}
	snprintf(path, sizeof(path), "%s", s->workdir);
	rmdir(path);
}

/* A whole number from 1 to (max). */
static int parse_count(const char *v, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !n || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* 0, or -1 with (why) saying which argument was wrong and how. */
static int parse(struct suite *s, int argc, char **argv, char *why, size_t len)
{
	enum { O_REGEX = 256, O_JUNIT, O_TAP, O_KEEP, O_KEEP_ALL, O_TRACE, O_STOP_GRACE };
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' }, { "timeout", required_argument, NULL, 't' },
		{ "result-regex", required_argument, NULL, O_REGEX }, { "junit", required_argument, NULL, O_JUNIT },
		{ "tap", no_argument, NULL, O_TAP }, { "keep", required_argument, NULL, O_KEEP },
		{ "trace-failures", no_argument, NULL, O_TRACE }, { "help", no_argument, NULL, 'h' },
		{ "keep-all", no_argument, NULL, O_KEEP_ALL },
		{ "stop-grace", required_argument, NULL, O_STOP_GRACE },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1, opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (parse_count(optarg, 4096, &s->jobs))
				return snprintf(why, len, "bad -j/--jobs '%.100s': want 1 to 4096 guests "
						"at a time", optarg), -1;
			break;
		case 't':
			if (parse_count(optarg, 1000000, &s->timeout))
				return snprintf(why, len, "bad -t/--timeout '%.100s': want whole seconds, "
						"at least 1", optarg), -1;
			break;
		case O_REGEX:
			if (s->regex_text)
				regfree(&s->regex); /* given twice: the last one counts */
			s->regex_text = NULL;
			if (vmm_xlcfg_regcomp(&s->regex, optarg))
				return snprintf(why, len, "bad --result-regex '%.100s': not an extended "
						"regular expression, or one whose repetitions multiply "
						"too far", optarg), -1;
			s->regex_text = optarg;
			break;
		case O_JUNIT: s->junit = optarg; break;
		case O_TAP: s->tap = 1; break;
		case O_KEEP: s->keep = optarg; break;
		case O_KEEP_ALL: s->keep_all = 1; break;
		case O_TRACE: s->trace_failures = 1; break;
		case O_STOP_GRACE: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || v > 3600 || optarg[0] == '-')
				return snprintf(why, len, "bad --stop-grace '%.100s': want 0 to 3600 "
						"seconds", optarg), -1;
			s->stop_grace = (unsigned)v;
			break;
		}
		case 'h': fputs(usage_text, stdout); exit(0);
		case ':':
			return snprintf(why, len, "option '%.100s' needs a value", argv[optind - 1]), -1;
		default:
			return snprintf(why, len, "unknown option '%.100s'",
					optopt && optind < argc && argv[optind][0] == '-' &&
					argv[optind][1] != '-' && strchr(argv[optind], optopt)
						? argv[optind] : argv[optind - 1]), -1;
		}
	}
	if (optind == argc)
		return snprintf(why, len, "no guests given: want GUEST.elf... or a directory"), -1;
	return 0;
}

/* The outputs, checked before anything runs: --junit's file is created
 * (written at the end), --keep's directory made. */
static int check_outputs(struct suite *s)
{
	struct stat st;
	FILE *f;

	if (s->junit && !(f = fopen(s->junit, "a"))) {
		fprintf(stderr, "pvmm test: --junit=%s: %s\n", s->junit, strerror(errno));
		return -1;
	}
	if (s->junit)
		fclose(f);
	if (s->keep) {
		const char *bad = NULL;
		if (mkdir(s->keep, 0755) && errno != EEXIST)
			bad = strerror(errno);
		else if (stat(s->keep, &st))
			bad = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			bad = "not a directory";
		else if (access(s->keep, W_OK | X_OK))
			bad = strerror(errno);
		if (bad) {
			fprintf(stderr, "pvmm test: --keep=%s: %s\n", s->keep, bad);
			return -1;
		}
	}
	return 0;
}

int vmm_suite_main(int argc, char **argv, const char *self)
{
	struct suite s = { .jobs = 0, .timeout = 60, .stop_grace = STOP_GRACE_S, .self = self,
			   .sigfd = -1 };
	char why[600] = "";
	int bad, lost;

	s.jobs = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (parse(&s, argc, argv, why, sizeof(why))) {
		fprintf(stderr, "pvmm test: %s (see pvmm test --help)\n", why);
		return suite_free(&s), VMM_EXIT_USAGE;
	}
	if ((s.trace_failures || s.keep_all) && !s.keep) {
		fprintf(stderr, "pvmm test: %s needs --keep=DIR\n", s.keep_all ? "--keep-all" : "--trace-failures");
		return suite_free(&s), VMM_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		if (add_path(&s, argv[i], why, sizeof(why))) {
			fprintf(stderr, "pvmm test: %s\n", why[0] ? why : strerror(errno));
			return suite_free(&s), VMM_EXIT_USAGE;
		}
	if (!s.n) {
		fprintf(stderr, "pvmm test: no guests (*.elf or *.cfg) found\n");
		return suite_free(&s), VMM_EXIT_USAGE;
	}
	if (check_outputs(&s))
		return suite_free(&s), VMM_EXIT_USAGE;
	qsort(s.g, s.n, sizeof(*s.g), by_name);
	snprintf(s.workdir, sizeof(s.workdir), "%s/pvmm-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(s.workdir)) {
		fprintf(stderr, "pvmm test: %s: %s\n", s.workdir, strerror(errno));
		return VMM_EXIT_HOST;
	}
	if (signals_open(&s)) {
		fprintf(stderr, "pvmm test: cannot take SIGINT/SIGTERM/SIGHUP: %s\n", strerror(errno));
		cleanup(&s);
		return suite_free(&s), VMM_EXIT_HOST;
	}
	run_all(&s);
	if (s.tap)
		write_tap(&s);
	else
		summary(&s);
	/* a report that cannot be written is a host error, whatever ran */
	lost = 0;
	if (s.junit && write_junit(&s)) {
		fprintf(stderr, "pvmm test: --junit=%s: %s\n", s.junit, strerror(errno));
		lost = 1;
	}
	if (s.keep && keep_logs(&s))
		lost = 1;
	cleanup(&s);
	bad = 0;
	for (size_t i = 0; i < s.n; i++)
		bad |= s.g[i].outcome > OUT_SKIP;
	close(s.sigfd);
	suite_free(&s);
	return s.interrupted ? VMM_EXIT_INTERRUPTED : lost ? VMM_EXIT_HOST : bad ? 1 : 0;
}
