/* main.c - the pvmm command: options, loading, running, exit status. */
#include "vmm/vmm.h"
#include "vmm/net.h"
#include "hypercalls/hc.h"
#include "vmm/backends/backend.h"
#include "vmm/backends/xenstore.h"
#include "guest-loader/loader.h"
#include "mmu/mmu.h"
#include "mmu/ptwr.h"
#include "vmm/gdb.h"
#include "vmm/xlcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef PVMM_VERSION
#define PVMM_VERSION "dev"
#endif

#define MAX_MEMORY (64ull << 30)
#define DEFAULT_SPIN 4000 /* polls before sleeping; 2000 already reaches the best figure here */
#define MIN_MEMORY (1ull << 20)

struct options {
	const char *image;
	const char *ramdisk;    /* --ramdisk: the initial ramdisk module, or NULL */
	const char *name;       /* --name: the xenstore name, or NULL for the image's */
	uint64_t memory;
	const char *cmdline;
	unsigned timeout;
	unsigned shutdown_grace; /* seconds a signalled guest gets to shut down */
	const char *stats;      /* NULL: off; "-": stderr */
	const char *hvlog;      /* --hvlog: NULL: off; "-": stderr */
	const char *transport;
	int cpu;                /* -1: auto (the CPU pvmm starts on), -2: all */
	int check_invariants;
	enum ptwr_mode ptwr;
	int low_emulate;        /* --low-exec=emulate */
	uint32_t trace;
	const char *trace_file;
	int trace_json;
	const char *pidfile;
	const char *gdb;
	int gdb_s, gdb_S;       /* qemu's -s (gdb on tcp::1234) and -S (wait for it) */
	unsigned spin;
	int spin_set;
	unsigned spaces;        /* --address-spaces */
	int syscall_page;       /* --hypercall-page=syscall */
	struct disk_opt {       /* --disk, in order */
		char path[4096];
		int ro;
		int vdev;           /* -1: the next free xvdX */
	} disk[VM_MAX_DISKS];
	unsigned ndisks;
	int escape;             /* --escape: the byte that leaves the console, -1: none */
	struct vmm_net_cfg net; /* --net */
};

static const char usage_text[] =
	"usage: pvmm [OPTIONS] GUEST.elf | GUEST.cfg\n"
	"Run an x86-64 Xen PV guest kernel in a sandboxed Linux process; GUEST.cfg is\n"
	"an xl domain configuration (kernel, ramdisk, memory, name, cmdline, ...) as\n"
	"for `xl create`; the options given here override it.\n"
	"\n"
	"options:\n"
	"  -m, --memory=SIZE     guest memory; K, M or G suffix, MiB when none (default 64M)\n"
	"  -c, --cmdline=TEXT    guest command line, in start_info (at most 1023 bytes)\n"
	"  -t, --timeout=SECS    stop the guest after SECS seconds (default 0: none)\n"
	"      --ramdisk=FILE    load FILE after the kernel as its initial ramdisk\n"
	"                        (start_info mod_start/mod_len)\n"
	"      --disk=FILE[,ro][,vdev=xvdX]  a PV disk (blkback) on FILE (a file or a\n"
	"                        block device), read-write unless ro; xvda, xvdb, ... in\n"
	"                        order unless vdev says; up to 16\n"
	"      --name=NAME       the domain's name in the xenstore (default: the image's\n"
	"                        file name without .elf)\n"
	"      --shutdown-grace=SECS  on SIGINT/SIGTERM/SIGHUP, a guest that watches its\n"
	"                        xenstore control/shutdown is asked to power off and given\n"
	"                        SECS seconds (default 5; 0: stop it at once)\n"
	"      --stats[=FILE]    write counters as JSON at exit, to FILE or stderr\n"
	"      --hvlog[=FILE]    write what the guest writes with console_io (Xen's log,\n"
	"                        as xl dmesg shows it) to FILE or stderr; stdout then\n"
	"                        shows the PV console ring only (as xl console). Without\n"
	"                        it, stdout shows console_io until the guest uses the ring\n"
	"      --transport=NAME  how traps reach pvmm: seccomp (default: shared memory and\n"
	"                        futexes, no ptrace after start) or ptrace\n"
	"      --cpu=auto|all|N  CPUs for pvmm and its guest process. auto (default): with\n"
	"                        seccomp, a CPU each when there are two; with ptrace, both\n"
	"                        on the CPU pvmm starts on. all: let them float\n"
	"      --spin=N          seccomp: polls of the shared page before sleeping (default\n"
	"                        4000 when on different CPUs, 0 on one)\n"
	"      --hypercall-page=direct|syscall  seccomp: the hypercall page's entries\n"
	"                        call the stub directly (default), or make a `syscall`,\n"
	"                        as they do with ptrace (a host trap each)\n"
	"      --address-spaces=N  guest processes, one per recently used top-level page\n"
	"                        table (1-8, default 4): a switch back to one is a\n"
	"                        hand-off; 1 re-maps what differs at every switch\n"
	"      --ptwr=MODE       writable page tables: emulate (one trap per store),\n"
	"                        unhook (out-of-sync L1s, stores run natively) or\n"
	"                        auto (default: per L1, whichever costs less, as\n"
	"                        measured on this transport)\n"
	"      --low-exec=MODE   code below vm.mmap_min_addr (kernels linked at 0): auto\n"
	"                        (default: mapped natively where pvmm may map page 0,\n"
	"                        else run in an instruction emulator) or emulate\n"
	"      --trace=LIST      trace events to stderr: pt, hypercall, fault, event,\n"
	"                        xenstore, blk, all\n"
	"      --trace-file=FILE write the trace to FILE instead\n"
	"      --trace-format=F  text (default) or json (one object per line)\n"
	"      --pidfile=FILE    write the guest process's pid to FILE\n"
	"      --gdb=tcp:[HOST:]PORT|unix:PATH[,nowait]  serve gdb's remote protocol on\n"
	"                        127.0.0.1 (or HOST: an IPv4 address or localhost) or a\n"
	"                        Unix socket; the guest waits for gdb before its first\n"
	"                        instruction unless nowait, then stops when gdb connects\n"
	"                        (gdb's kill crashes the guest: exit status 1)\n"
	"  -s                    like qemu: --gdb=tcp::1234,nowait\n"
	"  -S                    like qemu: the guest waits for gdb (with -s or --gdb)\n"
	"      --escape=KEY      the key that leaves the console when stdin is a terminal,\n"
	"                        which pvmm puts in raw mode (as xl console): ^] (default),\n"
	"                        ^X for another control key, or one character. Leaving\n"
	"                        ends the domain as SIGINT does. none: no escape key, and\n"
	"                        the terminal keeps its line editing, echo and Ctrl-C\n"
	"      --net=user[,hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT...][,mac=MAC]\n"
	"                        a PV network interface (vif 0) on user-mode networking\n"
	"                        (libslirp, no privilege): DHCP gives the guest 10.0.2.15,\n"
	"                        the host's loopback is 10.0.2.2; hostfwd forwards a host\n"
	"                        port to the guest (as qemu's -nic user)\n"
	"      --check-invariants  after every page-table change, compare the guest\n"
	"                        process's real mappings with the tables (slow; a\n"
	"                        difference stops the guest with status 5)\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n"
	"\n"
	"\n"
	"pvmm test [OPTIONS] GUEST.elf|GUEST.cfg... | DIR...  runs guests as a suite\n"
	"  (pvmm test --help)\n"
	"\n"
	"exit status:\n"
	"  0  the guest powered off           4  --timeout expired\n"
	"  1  the guest crashed or was crashed  5  host error (process, ptrace, seccomp)\n"
	"  2  bad command line                6  the guest asked to reboot\n"
	"  3  guest image refused             7  interrupted (SIGINT, SIGTERM, SIGHUP)\n";

const struct vmm_transport *vmm_transport_find(const char *name)
{
	static const struct vmm_transport *const all[] = { &vmm_ptrace_transport,
							   &vmm_futex_transport };

	for (unsigned i = 0; i < sizeof(all) / sizeof(*all); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

/* One line: what was wrong, and where to look. */
static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "pvmm: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see pvmm --help)\n");
	return VMM_EXIT_USAGE;
}

/* The command-line word getopt found an unknown option in: "-kernel"
 * when it stopped at its 'k' (optind still names it), "--frobnicate". */
static const char *unknown_word(int argc, char **argv)
{
	const char *w = optind < argc ? argv[optind] : NULL;

	if (optopt && w && w[0] == '-' && w[1] != '-' && strchr(w + 1, optopt))
		return w;
	return argv[optind - 1];
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t unit = 1ull << 20;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': unit = 1ull << 10; end++; break;
	case 'm': case 'M': unit = 1ull << 20; end++; break;
	case 'g': case 'G': unit = 1ull << 30; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end || v > MAX_MEMORY / unit)
		return -1;
	*out = v * unit;
	return 0;
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > 1000000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_cpu(const char *s, int *cpu)
{
	unsigned n;

	if (!strcmp(s, "auto"))
		*cpu = -1;
	else if (!strcmp(s, "all"))
		*cpu = -2;
	else if (parse_uint(s, &n) || n >= CPU_SETSIZE)
		return -1;
	else
		*cpu = (int)n;
	return 0;
}

static int two_cpus(void)
{
	cpu_set_t set;

	return !sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) >= 2;
}

/* Keep pvmm and (by inheritance) its guest process on one CPU: a trap is a
 * synchronous ping-pong between the two, and a cross-CPU wake-up costs more
 * than the work on either side. */
static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu == -2)
		return 0;
	if (cpu == -1 && (cpu = sched_getcpu()) < 0)
		return 0; /* unknown: leave it to the scheduler */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* pvmm on the CPU it runs on, the guest process on the next one it may use. */
static int split_cpus(int *guest)
{
	cpu_set_t set;
	int me = sched_getcpu(), n = CPU_SETSIZE;

	if (me < 0 || sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int i = 1; i < n; i++)
		if (CPU_ISSET((me + i) % n, &set)) {
			*guest = (me + i) % n;
			return pin_cpu(me);
		}
	return -1;
}

/* The CPUs pvmm may use, as "0-1" or "0,2-3". */
static void cpu_list(char *out, size_t size)
{
	cpu_set_t set;
	size_t n = 0;

	out[0] = '\0';
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int i = 0; i < CPU_SETSIZE && n < size; i++) {
		int j = i;
		if (!CPU_ISSET(i, &set))
			continue;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set))
			j++;
		n += (size_t)snprintf(out + n, size - n, j > i ? "%s%d-%d" : "%s%d", n ? "," : "", i, j);
		i = j;
	}
}

/* An output option's FILE, opened now ("-": stderr, *f stays NULL). */
static int open_output(const char *opt, const char *path, FILE **f)
{
	if (path && strcmp(path, "-") && !(*f = fopen(path, "w"))) {
		fprintf(stderr, "pvmm: --%s=%s: %s\n", opt, path, strerror(errno));
		return VMM_EXIT_USAGE;
	}
	return 0;
}

/* Everything checkable before the guest starts: the environment's
 * transport, the CPU, and that each output file can be written (--stats
 * and --hvlog are opened now; --pidfile's directory must exist). */
static int check_outputs(struct options *o, FILE **stats_out, FILE **hvlog_out)
{
	char cpus[256];
	cpu_set_t set;

	if (!o->transport) { /* PVMM_TRANSPORT overrides the default, for test suites */
		const char *env = getenv("PVMM_TRANSPORT");
		if (env && !vmm_transport_find(env)) {
			fprintf(stderr, "pvmm: unknown PVMM_TRANSPORT '%s' in the environment "
				"(known: seccomp, ptrace)\n", env);
			return VMM_EXIT_USAGE;
		}
		o->transport = env ? env : "seccomp";
	}
	if (o->cpu >= 0 && (sched_getaffinity(0, sizeof(set), &set) || !CPU_ISSET(o->cpu, &set))) {
		cpu_list(cpus, sizeof(cpus));
		fprintf(stderr, "pvmm: --cpu=%d: this machine has CPUs %s\n", o->cpu, cpus);
		return VMM_EXIT_USAGE;
	}
	if (open_output("stats", o->stats, stats_out) || open_output("hvlog", o->hvlog, hvlog_out))
		return VMM_EXIT_USAGE;
	if (o->pidfile) {
		char dir[4096];
		const char *slash = strrchr(o->pidfile, '/');
		struct stat st;
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - o->pidfile) + 1 : 1,
			 slash ? o->pidfile : ".");
		int bad = stat(o->pidfile, &st) == 0 ? S_ISDIR(st.st_mode) ? EISDIR : 0
						     : access(dir, W_OK | X_OK) ? errno : 0;
		if (bad) {
			errno = bad;
			fprintf(stderr, "pvmm: --pidfile=%s: %s\n", o->pidfile, strerror(errno));
			if (*stats_out)
				fclose(*stats_out);
			if (*hvlog_out)
				fclose(*hvlog_out);
			return VMM_EXIT_USAGE;
		}
	}
	return 0;
}

/* --disk=FILE[,ro|,rw][,vdev=xvdX]: the words after the last commas that
 * are these are options, the rest is the file. 0 or -1. */
static int parse_disk(const char *arg, struct disk_opt *d)
{
	char *comma;

	d->ro = 0, d->vdev = -1;
	if (strlen(arg) >= sizeof(d->path))
		return -1;
	strcpy(d->path, arg);
	while ((comma = strrchr(d->path, ','))) {
		const char *w = comma + 1;
		if (!strcmp(w, "ro") || !strcmp(w, "r"))
			d->ro = 1;
		else if (!strcmp(w, "rw") || !strcmp(w, "w"))
			d->ro = 0;
		else if (!strncmp(w, "vdev=", 5) && (d->vdev = be_blk_vdev(w + 5)) >= 0)
			;
		else if (!strncmp(w, "vdev=", 5))
			return -1;
		else
			break;
		*comma = 0;
	}
	return d->path[0] ? 0 : -1;
}

/* The disks, each at its vdev or the next xvdX no other disk names. 0, or
 * an exit status after one line. */
static int add_disks(struct vm *vm, const struct options *o)
{
	char why[4200];
	int next = 0;

	for (unsigned i = 0; i < o->ndisks; i++) {
		int vdev = o->disk[i].vdev, taken = 1;
		char name[8];
		while (vdev < 0 && taken) {
			snprintf(name, sizeof(name), next < 26 ? "xvd%c" : "xvda%c", 'a' + next % 26);
			vdev = be_blk_vdev(name), next++, taken = 0;
			for (unsigned j = 0; j < o->ndisks; j++)
				taken |= o->disk[j].vdev == vdev;
			if (taken)
				vdev = -1;
		}
		if (be_blk_add(vm, o->disk[i].path, o->disk[i].ro, (unsigned)vdev, why, sizeof(why))) {
			fprintf(stderr, "pvmm: --disk: %s\n", why);
			return VMM_EXIT_USAGE;
		}
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_STATS = 256, OPT_TRANSPORT, OPT_CPU, OPT_CHECK, OPT_PTWR, OPT_TRACE,
	       OPT_TRACE_FILE, OPT_TRACE_FORMAT, OPT_PIDFILE, OPT_GDB, OPT_SPIN, OPT_GRACE, OPT_SPACES,
	       OPT_RAMDISK, OPT_NAME, OPT_HVLOG, OPT_DISK, OPT_ESCAPE, OPT_NET, OPT_LOW,
	       OPT_HCPAGE };
	static const struct option longopts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "shutdown-grace", required_argument, NULL, OPT_GRACE },
		{ "ramdisk", required_argument, NULL, OPT_RAMDISK },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "stats", optional_argument, NULL, OPT_STATS },
		{ "hvlog", optional_argument, NULL, OPT_HVLOG },
		{ "transport", required_argument, NULL, OPT_TRANSPORT },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "check-invariants", no_argument, NULL, OPT_CHECK },
		{ "ptwr", required_argument, NULL, OPT_PTWR },
		{ "low-exec", required_argument, NULL, OPT_LOW },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "trace-file", required_argument, NULL, OPT_TRACE_FILE },
		{ "trace-format", required_argument, NULL, OPT_TRACE_FORMAT },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "gdb", required_argument, NULL, OPT_GDB },
		{ "spin", required_argument, NULL, OPT_SPIN },
		{ "address-spaces", required_argument, NULL, OPT_SPACES },
		{ "hypercall-page", required_argument, NULL, OPT_HCPAGE },
		{ "escape", required_argument, NULL, OPT_ESCAPE },
		{ "net", required_argument, NULL, OPT_NET },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 0; /* a full reset: the options are parsed again after a .cfg */
	while ((c = getopt_long(argc, argv, ":m:c:t:sShV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_size(optarg, &o->memory) || o->memory < MIN_MEMORY ||
			    o->memory % 4096)
				return usage_error("bad --memory '%s': want a size from 1M to 64G, "
						   "a multiple of 4K", optarg);
			break;
		case 'c': o->cmdline = optarg; break;
		case 't':
			if (parse_uint(optarg, &o->timeout))
				return usage_error("bad --timeout '%s': want whole seconds", optarg);
			break;
		case OPT_GRACE:
			if (parse_uint(optarg, &o->shutdown_grace))
				return usage_error("bad --shutdown-grace '%s': want whole seconds", optarg);
			break;
		case OPT_RAMDISK: o->ramdisk = optarg; break;
		case OPT_DISK:
			if (o->ndisks == VM_MAX_DISKS)
				return usage_error("more than %s --disk options", "16");
			if (parse_disk(optarg, &o->disk[o->ndisks]))
				return usage_error("bad --disk '%s': want FILE[,ro|rw][,vdev=xvdX|hdX|sdX|N]", optarg);
			o->ndisks++;
			break;
		case OPT_NAME:
			if (!*optarg || strlen(optarg) > 63 || strchr(optarg, '/'))
				return usage_error("bad --name '%s': want 1 to 63 characters, no /", optarg);
			o->name = optarg;
			break;
		case OPT_STATS: o->stats = optarg ? optarg : "-"; break;
		case OPT_HVLOG: o->hvlog = optarg ? optarg : "-"; break;
		case OPT_TRANSPORT:
			if (!vmm_transport_find(optarg))
				return usage_error("unknown --transport '%s' (known: seccomp, ptrace)", optarg);
			o->transport = optarg;
			break;
		case OPT_CPU:
			if (parse_cpu(optarg, &o->cpu))
				return usage_error("bad --cpu '%s': want auto, all or a CPU number",
						   optarg);
			break;
		case OPT_CHECK: o->check_invariants = 1; break;
		case OPT_PTWR:
			if (mmu_ptwr_mode_parse(optarg, &o->ptwr))
				return usage_error("bad --ptwr '%s': want emulate, unhook or auto", optarg);
			break;
		case OPT_LOW:
			if (strcmp(optarg, "auto") && strcmp(optarg, "emulate"))
				return usage_error("bad --low-exec '%s': want auto or emulate", optarg);
			o->low_emulate = !strcmp(optarg, "emulate");
			break;
		case OPT_TRACE:
			if (vmm_trace_parse(optarg, &o->trace))
				return usage_error("bad --trace '%s': want a list of pt, hypercall, "
						   "fault, event, xenstore, blk, all", optarg);
			break;
		case OPT_TRACE_FILE: o->trace_file = optarg; break;
		case OPT_TRACE_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return usage_error("bad --trace-format '%s': want text or json", optarg);
			o->trace_json = !strcmp(optarg, "json");
			break;
		case OPT_PIDFILE: o->pidfile = optarg; break;
		case OPT_GDB: o->gdb = optarg; break;
		case OPT_NET: {
			char why[200];
			if (o->net.on)
				return usage_error("a second --net%s: pvmm gives the guest one vif", "");
			if (vmm_net_parse(optarg, &o->net, why, sizeof(why)))
				return usage_error("%s", why);
			break;
		}
		case 's': o->gdb_s = 1; break;
		case 'S': o->gdb_S = 1; break;
		case OPT_SPACES:
			if (parse_uint(optarg, &o->spaces) || o->spaces < 1 || o->spaces > MMU_SPACES_MAX)
				return usage_error("bad --address-spaces '%s': want 1 to 8", optarg);
			break;
		case OPT_SPIN:
			if (parse_uint(optarg, &o->spin))
				return usage_error("bad --spin '%s': want a number of polls", optarg);
			o->spin_set = 1;
			break;
		case OPT_HCPAGE:
			if (strcmp(optarg, "direct") && strcmp(optarg, "syscall"))
				return usage_error("bad --hypercall-page '%s': want direct or syscall", optarg);
			o->syscall_page = !strcmp(optarg, "syscall");
			break;
		case OPT_ESCAPE:
			if (vmm_conin_parse_escape(optarg, &o->escape))
				return usage_error("bad --escape '%s': want ^] (^ and a letter or one of "
						   "@[\\]^_), one character, or none", optarg);
			break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("pvmm %s\n", PVMM_VERSION); exit(0);
		case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", unknown_word(argc, argv));
		}
	}
	if (o->gdb_s && o->gdb)
		return usage_error("-s and --gdb=%s both ask for a gdb server: give one", o->gdb);
	if (o->gdb_s)
		o->gdb = o->gdb_S ? "tcp::1234" : "tcp::1234,nowait";
	else if (o->gdb_S && !o->gdb)
		return usage_error("-S%s: the guest would wait for a gdb that cannot connect: "
				   "add -s or --gdb", "");
	else if (o->gdb_S && strlen(o->gdb) >= 7 && !strcmp(o->gdb + strlen(o->gdb) - 7, ",nowait"))
		return usage_error("-S and --gdb=%s contradict each other", o->gdb);
	if (optind != argc - 1)
		return usage_error(optind == argc ? "no guest image given%s"
						  : "more than one guest image given%s", "");
	o->image = argv[optind];
	return 0;
}

/* GUEST.cfg: read the xl configuration and parse the options again, with
 * what it says before the command line's own (which win, being later) and
 * its kernel as the image. Returns 0 or an exit status. */
static int apply_config(int argc, char **argv, struct options *o, const struct options *defaults)
{
	static struct xlcfg cfg;
	static char buf[8192], timeout[32], *args[256];
	char why[XLCFG_WHY];
	int n = 0, k;

	if (vmm_xlcfg_read(o->image, &cfg, why)) {
		fprintf(stderr, "pvmm: %s\n", why);
		return VMM_EXIT_USAGE;
	}
	for (unsigned i = 0; i < cfg.nwarn; i++)
		fprintf(stderr, "pvmm: %s\n", cfg.warn[i]);
	size_t len = strlen(o->image);
	if (!cfg.kernel[0] && len > 4 && !strcmp(o->image + len - 4, ".cfg")) { /* NAME.elf beside? */
		snprintf(cfg.kernel, sizeof(cfg.kernel), "%.*s.elf", (int)(len - 4), o->image);
		if (access(cfg.kernel, F_OK))
			cfg.kernel[0] = '\0';
	}
	if (!cfg.kernel[0]) {
		fprintf(stderr, "pvmm: %s: no kernel key: no guest to run\n", o->image);
		return VMM_EXIT_USAGE;
	}
	args[n++] = argv[0];
	if (cfg.timeout) {
		snprintf(timeout, sizeof(timeout), "--timeout=%u", cfg.timeout);
		args[n++] = timeout;
	}
	k = vmm_xlcfg_options(&cfg, buf, sizeof(buf), args + n, 200);
	if (k < 0) {
		fprintf(stderr, "pvmm: %s: too many pvmm_options\n", o->image);
		return VMM_EXIT_USAGE;
	}
	n += k;
	for (int i = 1; i < argc && n < 254; i++) /* getopt left the image last */
		args[n++] = argv[i] == o->image ? cfg.kernel : argv[i];
	args[n] = NULL;
	*o = *defaults;
	return parse_options(n, args, o);
}

/* Whether this process may map page 0: root with CAP_SYS_RAWIO, or a host
 * whose vm.mmap_min_addr is 0 (and no security module forbidding it). The
 * guest process keeps CAP_SYS_RAWIO when its domain needs that (proc.c). */
static int page0_mappable(void)
{
	void *p = mmap((void *)0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);

	if (p == MAP_FAILED)
		return 0;
	munmap(p, 4096); /* a kernel without MAP_FIXED_NOREPLACE put it elsewhere */
	return p == (void *)0;
}

static uint64_t host_min_va(void)
{
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	unsigned long long v = 65536;

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	return (v + 4095) & ~4095ull;
}

/* Whether the host runs 32-bit user code: Linux's __USER32_CS is in the
 * GDT as a present, DPL 3, 32-bit (D set, L clear) code segment. A kernel
 * with ia32 emulation off, or a hypervisor that offers no such segment,
 * lacks it, and a far transfer to it faults. lar asks the CPU itself. */
static int host_compat(void)
{
	uint32_t ar = 0;
	uint8_t ok = 0;

	__asm__("lar %2, %0; setz %1" : "=r"(ar), "=q"(ok) : "r"((uint32_t)STUB_USER32_CS) : "cc");
	/* P, DPL 3, S, code (type bit 3), D; L clear */
	return ok && (ar & 0x609800u) == 0x409800u && (ar & 0x6000u) == 0x6000u;
}

/* The domain's name in the xenstore: the image's file name without ".elf". */
static const char *domain_name(const char *image)
{
	static char name[64];
	const char *base = strrchr(image, '/') ? strrchr(image, '/') + 1 : image;
	size_t n = strlen(base);

	if (n > 4 && !strcmp(base + n - 4, ".elf"))
		n -= 4;
	snprintf(name, sizeof(name), "%.*s", (int)n, base);
	return name;
}

/* Parse and build the guest; returns an exit status or -1 to go on. */
/* The seccomp transport's hypercall page calls the stub instead of
 * trapping (stub_abi.h: STUB_FASTCALL_ENTRY). */
static void direct_hypercalls(struct vm *vm, const struct options *o)
{
	uint64_t entry = vmm_transport_find(o->transport)->fastcall;

	if (vm->img.hypercall_page && entry && !o->syscall_page)
		loader_fill_hypercall_page(vm->mem + (vm->img.hypercall_page - vm->lay.v_start), entry);
}

static int load_guest(struct vm *vm, const struct options *o)
{
	char why[LOADER_WHY];
	size_t size = 0, mod_size = 0;
	uint8_t *file = (uint8_t *)vmm_read_file(o->image, LOADER_MAX_FILE, 0, &size), *mod = NULL;
	int rc;

	if (!file) {
		fprintf(stderr, "pvmm: %s: %s\n", o->image, errno == EINVAL
			? "not a regular file (want a Xen PV kernel's ELF image)" : strerror(errno));
		return VMM_EXIT_IMAGE;
	}
	if (o->ramdisk && !(mod = (uint8_t *)vmm_read_file(o->ramdisk, LOADER_MAX_FILE, 0, &mod_size))) {
		fprintf(stderr, "pvmm: ramdisk %s: %s\n", o->ramdisk, strerror(errno));
		free(file);
		return VMM_EXIT_USAGE;
	}
	/* a kernel linked below mmap_min_addr (Mini-OS, GRUB at 0) is mapped
	 * from 0 where the host lets pvmm map page 0; elsewhere (or with
	 * --low-exec=emulate) its code there runs in the instruction emulator
	 * (lowexec.h) */
	rc = loader_parse(file, size, 0, HOLE_BASE, &vm->img, why);
	if (!rc && vm->img.virt_kstart < vm->min_va && !o->low_emulate && page0_mappable())
		vm->min_va = 0;
	if (!rc)
		loader_symbols(file, size, &vmm_of(vm)->syms); /* traces work without them */
	if (!rc && (rc = vmm_mem_create(vm, o->memory / 4096)) != 0) {
		free(file);
		free(mod);
		fprintf(stderr, "pvmm: %s\n", vm->end_msg);
		return VMM_EXIT_HOST;
	}
	if (!rc)
		rc = loader_build_mod(&vm->img, vm->mem, vm->nr_pages, o->cmdline, mod, mod_size,
				      &vm->lay, why);
	if (!rc)
		direct_hypercalls(vm, o);
	free(file); /* the image and the ramdisk are in guest memory now */
	free(mod);
	vm->img.file = NULL;
	if (rc) {
		fprintf(stderr, "pvmm: %s: %s\n", o->image, why);
		return rc == -ENOMEM || rc == -E2BIG ? VMM_EXIT_USAGE : VMM_EXIT_IMAGE;
	}
	rc = mmu_defer_p2m(vm); /* written on first use */
	if (!rc)
		rc = xs_init(vm, o->name ? o->name : domain_name(o->image));
	if (!rc)
		rc = be_console_init(vm);
	if (rc) {
		fprintf(stderr, "pvmm: out of memory for the P2M bitmap or the xenstore\n");
		return VMM_EXIT_HOST;
	}
	if ((rc = add_disks(vm, o)))
		return rc;
	if (o->net.on && !(vmm_of(vm)->net = vmm_net_open(vm, &o->net, why, sizeof(why)))) {
		fprintf(stderr, "pvmm: %s\n", why);
		return VMM_EXIT_USAGE; /* a host port that cannot be listened on, as --gdb's */
	}
	/* the bootstrap tables go through the same rules as the guest's own */
	rc = mmu_adopt_bootstrap(vm, _mfn(vm->lay.pt_first_pfn));
	if (rc) {
		fprintf(stderr, "pvmm: the bootstrap page tables failed validation (%d): a pvmm bug\n", rc);
		return VMM_EXIT_HOST;
	}
	return -1;
}

/* Where the domain's events go: gdb (which may stop on them) and --trace. */
static void domain_event(struct vm *vm, const struct vm_event *ev)
{
	if (ev->kind == TRACE_PT)
		vmm_gdb_event(vmm_of(vm)->gdb, ev);
	vmm_trace_event(vm, ev);
}

static int exit_status(const struct vm *vm)
{
	switch (vm->end) {
	case VM_POWEROFF: return VMM_EXIT_POWEROFF;
	case VM_REBOOT: return VMM_EXIT_REBOOT;
	case VM_CRASH: return VMM_EXIT_CRASH;
	case VM_TIMEOUT: return VMM_EXIT_TIMEOUT;
	case VM_INTERRUPTED: return VMM_EXIT_INTERRUPTED;
	default: return VMM_EXIT_HOST;
	}
}

/* --stats, to the file opened before the run (NULL: stderr); -1 when it
 * could not be written. */
static int write_stats(const struct vm *vm, FILE *f, const char *where, double seconds)
{
	vmm_stats_write(vm, f ? f : stderr, seconds);
	if (f && (ferror(f) | fclose(f))) {
		fprintf(stderr, "pvmm: --stats=%s: %s\n", where, strerror(errno));
		return -1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const struct options defaults = { .memory = 64ull << 20, .shutdown_grace = 5, .cpu = -1,
					  .spaces = 4, .escape = 0x1d /* ^], as xl console */ };
	struct options o = defaults;
	struct vmm host;
	FILE *stats_out = NULL, *hvlog_out = NULL;
	double t0 = now();
	int status;

	vmm_init(&host);
	if (argc > 1 && !strcmp(argv[1], "test"))
		return vmm_suite_main(argc - 1, argv + 1, "/proc/self/exe");

	status = parse_options(argc, argv, &o);
	if (!status && vmm_xlcfg_is_config(o.image))
		status = apply_config(argc, argv, &o, &defaults);
	if (status)
		return status;
	status = check_outputs(&o, &stats_out, &hvlog_out);
	if (status)
		return status;
	/* the shared-memory hand-off is fastest with a CPU each */
	int split = o.cpu == -1 && !strcmp(o.transport, "seccomp") && two_cpus();
	if (split && split_cpus(&host.guest_cpu) == 0)
		host.spin = o.spin_set ? o.spin : DEFAULT_SPIN;
	else if (pin_cpu(o.cpu)) {
		fprintf(stderr, "pvmm: --cpu=%d: %s\n", o.cpu, strerror(errno));
		return VMM_EXIT_USAGE;
	}
	host.check_invariants = o.check_invariants;
	/* polling the other side only pays when it runs on another CPU */
	if (host.guest_cpu < 0)
		host.spin = o.spin_set ? o.spin : o.cpu == -2 ? DEFAULT_SPIN : 0;
	host.vm.mmu.ptwr.mode = o.ptwr;
	host.vm.mmu.nspaces = o.spaces;
	host.vm.trace_mask = o.trace;
	host.trace_print = o.trace;
	if (o.gdb && !(host.gdb = vmm_gdb_open(&host.vm, o.gdb))) {
		fprintf(stderr, "pvmm: %s\n", host.vm.end_msg);
		return VMM_EXIT_USAGE;
	}
	host.trace_json = o.trace_json;
	host.pidfile = o.pidfile;
	host.vm.trace = domain_event;
	host.trace_out = stderr;
	if (o.trace_file && !(host.trace_out = fopen(o.trace_file, "w"))) {
		fprintf(stderr, "pvmm: --trace-file %s: %s\n", o.trace_file, strerror(errno));
		return VMM_EXIT_USAGE;
	}
	host.vm.console = stdout;
	host.vm.hvlog = o.hvlog ? hvlog_out ? hvlog_out : stderr : NULL;
	host.vm.min_va = host_min_va();
	host.vm.host_compat = host_compat();
	if (vmm_signals_install(o.timeout, o.shutdown_grace)) {
		fprintf(stderr, "pvmm: cannot install signal handlers: %s\n", strerror(errno));
		return VMM_EXIT_HOST;
	}
	status = load_guest(&host.vm, &o);
	if (status >= 0) {
		xs_free(&host.vm);
		be_blk_free(&host.vm);
		vmm_net_close(host.net);
		vmm_mem_destroy(&host.vm);
		return status;
	}
	if (vmm_conin_open(&host.vm, STDIN_FILENO, o.escape))
		fprintf(stderr, "pvmm: cannot put the terminal in raw mode: %s\n", strerror(errno));
	vmm_run(&host.vm, vmm_transport_find(o.transport));
	vmm_conin_restore();
	status = exit_status(&host.vm);
	fflush(stdout);
	if (status != VMM_EXIT_POWEROFF)
		fprintf(stderr, "pvmm: %s\n", host.vm.end_msg[0] ? host.vm.end_msg : vmm_end_name(host.vm.end));
	if (host.gdb) {
		vmm_gdb_ended(host.gdb, &host.vm, status);
		vmm_gdb_close(host.gdb);
	}
	if (o.stats && write_stats(&host.vm, stats_out, o.stats, now() - t0) && !status)
		status = VMM_EXIT_HOST; /* the guest powered off, but its counters are lost */
	if (host.trace_out != stderr)
		fclose(host.trace_out);
	if (hvlog_out)
		fclose(hvlog_out);
	xs_free(&host.vm);
	be_blk_free(&host.vm);
	vmm_net_close(host.net);
	vmm_mem_destroy(&host.vm);
	loader_symbols_free(&host.syms);
	return status;
}
