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
 * "root=ROOT EXTRA", "root=ROOT" or "EXTRA"), vcpus, type/builder, disk,
 * vif, on_poweroff/on_reboot/on_crash, loader. pvmm's own keys, which xl
 * would ignore: timeout, expect, expect_log, pvmm_options.
 *
 * Pure code: no exit, no printing. Errors return -EINVAL (or -errno when the
 * file cannot be read) with one line "FILE:LINE: key: reason" in (why);
 * things pvmm cannot honour but can run without are warnings, kept in the
 * struct for the caller to print.
 */
#ifndef PVMM_XLCFG_H
#define PVMM_XLCFG_H

#include <stddef.h>
#include <stdint.h>

#define XLCFG_WHY 512
#define XLCFG_PATH 4096 /* Linux's PATH_MAX */
#define XLCFG_MAX_WARN 8
#define XLCFG_MAX_FILE (1u << 20) /* a config file above 1 MiB is refused */

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
	/* pvmm's keys */
	unsigned timeout;          /* seconds, 0: absent */
	int timeout_line;          /* where timeout was set, for the caller's messages */
	int expect;                /* pvmm exit status wanted (0, 1, 4, 6), -1: absent */
	char expect_log[1024];     /* an extended regex, "" absent */
	char pvmm_options[1024];   /* more pvmm options, blank separated */
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
 * run: --memory, --cmdline, --ramdisk, --name (not --timeout, which each
 * caller decides), then the words of pvmm_options. Written as pointers
 * into (buf, len) to at most (max) entries of (argv); returns how many, or
 * -E2BIG when they do not fit. */
int vmm_xlcfg_options(const struct xlcfg *c, char *buf, size_t len, char **argv, int max);

#endif
