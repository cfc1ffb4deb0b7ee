/*
 * xlcfg - read an xl domain configuration file (xl.cfg(5)), the one reader
 * behind `pvmm guest.cfg` and `pvmm test`.
 *
 * Syntax as xl's: `key = value` statements ended by a newline or `;`,
 * `#` comments, values that are strings ("..." or '...', with \\ \" \' \n
 * \t escapes), numbers, or lists `[ v, v, ... ]` that may span lines.
 * For the `.cfg` files pvmm test has always read, a bare word (`expect =
 * crash`) is taken as a string too.
 *
 * Keys and meanings as xl's for a PV guest: kernel, ramdisk (paths relative
 * to the file's folder), memory (MiB), name, cmdline, root, extra (the
 * command line is composed as xl composes it: cmdline as is, otherwise
 * "root=ROOT EXTRA", "root=ROOT" or "EXTRA"), vcpus, type/builder, disk
 * (xl's disk specification, xl-disk-configuration(5): positional target,
 * format, vdev, access or key=value, target= last; raw files only; the
 * deprecated "phy:", "file:", "raw:", "aio:", "tap:aio:" prefixes; a
 * target relative to the file's folder), vif, on_poweroff/on_reboot/
 * on_crash, loader. pvmm's own keys, which xl
 * would ignore: timeout, pvmm_options, console_input, and what `pvmm test`
 * expects of a run (docs/suite.md): expect, and expect_log, expect_no_log,
 * expect_count, expect_stat, each a string or a [ list ] of them.
 *
 * Pure code: no exit, no printing. Errors return -EINVAL (or -errno when the
 * file cannot be read) with one line "FILE:LINE: key: reason" in (why);
 * things pvmm cannot honour but can run without are warnings, kept in the
 * struct for the caller to print.
 */
#ifndef PVMM_XLCFG_H
#define PVMM_XLCFG_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define XLCFG_WHY 512
#define XLCFG_PATH 4096 /* Linux's PATH_MAX */
#define XLCFG_MAX_WARN 8
#define XLCFG_MAX_FILE (1u << 20) /* a config file above 1 MiB is refused */
#define XLCFG_MAX_LIST 16 /* strings in one expect_* key */
#define XLCFG_ITEM 512    /* bytes of one, its NUL included */
#define XLCFG_MAX_DISKS 16 /* pvmm's --disk limit */

/* An expect_* key: its string, or the strings of its [ list ]. */
struct xlcfg_list {
	unsigned n;
	char item[XLCFG_MAX_LIST][XLCFG_ITEM];
};

/* What a run of the guest must show to pass. */
struct xlcfg_expect {
	int status;               /* expect: the pvmm exit status wanted (0, 1, 4, 6), -1: absent */
	struct xlcfg_list log;    /* expect_log: extended regexes, each matching a line of the log */
	struct xlcfg_list no_log; /* expect_no_log: extended regexes no line matches */
	struct xlcfg_list count;  /* expect_count: "REGEX OP N", how many lines match REGEX */
	struct xlcfg_list stat;   /* expect_stat: "A OP B", each a --stats counter
	                           * (its JSON keys joined by dots) or a whole number */
};

struct xlcfg {
	char file[XLCFG_PATH];       /* the file as named by the caller */
	/* xl's keys */
	char kernel[XLCFG_PATH];     /* resolved against the file's folder; "" absent */
	char ramdisk[XLCFG_PATH];    /* likewise */
	uint64_t memory_mib;       /* 0: absent */
	char name[64];             /* "" absent */
	int has_cmdline;           /* cmdline, root or extra given */
	char cmdline[1024];        /* composed as xl does (at most 1023 bytes) */
	unsigned vcpus;            /* 0: absent; only 1 is accepted */
	unsigned ndisks;           /* disk = [ ... ]: pvmm's --disk for each */
	struct xlcfg_disk {
		char target[XLCFG_PATH]; /* resolved against the file's folder */
		int ro;                  /* access ro (r), not rw (w, the default) */
		char vdev[16];           /* "" for the next xvdX */
	} disk[XLCFG_MAX_DISKS];
	char net[64];              /* vif: --net's value ("user[,mac=...]"), "" none */
	/* pvmm's keys */
	unsigned timeout;          /* seconds, 0: absent */
	int timeout_line;          /* where timeout was set, for the caller's messages */
	struct xlcfg_expect expect;
	char pvmm_options[1024];   /* more pvmm options, blank separated */
	int has_console_input;
	char console_input[1024];  /* pvmm test gives it to the guest's console */
	/* warnings, each one line "FILE:LINE: ..." */
	unsigned nwarn;
	char warn[XLCFG_MAX_WARN][520];
};

/* Parse (text, len), the contents of the file named (file), into (c).
 * Returns 0, or -EINVAL with "FILE:LINE: reason" in (why, XLCFG_WHY bytes). */
int vmm_xlcfg_parse(const char *file, const char *text, size_t len, struct xlcfg *c, char *why);

/* Read and parse the file (path). 0, -EINVAL as above, or -errno when it
 * cannot be read (the reason in (why) as well). */
int vmm_xlcfg_read(const char *path, struct xlcfg *c, char *why);

/* Whether (path) is a configuration rather than a kernel: its name ends in
 * ".cfg", or it does not start with the ELF magic and parses as xl
 * configuration with a kernel key. A file that cannot be read is not. */
int vmm_xlcfg_is_config(const char *path);

/* The pvmm options that say what (c) says, for the command line of a pvmm
 * run: --memory, --cmdline, --ramdisk, --name, --disk, --net (not --timeout, which each
 * caller decides), then the words of pvmm_options. Written as pointers
 * into (buf, len) to at most (max) entries of (argv); returns how many, or
 * -E2BIG when they do not fit. */
int vmm_xlcfg_options(const struct xlcfg *c, char *buf, size_t len, char **argv, int max);

/* Whether a run of the guest met (e), but for its exit status (the
 * caller's): (log) is its log (console and pvmm's messages), (stats) its
 * --stats JSON, NULL when it wrote none. Returns 0, or -1 with every
 * expectation it did not meet in (why), "; " between them (as many as
 * fit in (len)). */
int vmm_xlcfg_judge(const struct xlcfg_expect *e, FILE *log, const char *stats, char *why, size_t len);

/* The whole number at (path), JSON keys joined by dots ("ptwr.emulated"),
 * in pvmm's --stats output (json): 0, -ENOENT when there is no such key,
 * -EINVAL when the JSON is malformed or the value not a whole number. */
int vmm_xlcfg_stat(const char *json, const char *path, long long *out);

/* Compile (s) as an extended regex (REG_NOSUB), as the .cfg keys and
 * --result-regex use them: 0; -EINVAL when it is not one; -E2BIG when it
 * is longer than 1024 bytes or its repetitions would multiply it more than
 * 65536 times (glibc's regcomp copies the operand of each repetition, and a
 * short hostile pattern would take gigabytes). */
int vmm_xlcfg_regcomp(regex_t *re, const char *s);

#endif
