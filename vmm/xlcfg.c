/* xlcfg.c - xl domain configuration files: lexer, keys, command line. */
#include "vmm/xlcfg.h"
#include "vmm/vmm.h"
#include "vmm/backends/backend.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_VALUE 1024
#define MAX_MEMORY_MIB 65536u /* pvmm's --memory limit, 64 GiB */

enum tok { T_EOF, T_NL, T_SEMI, T_EQ, T_LBR, T_RBR, T_COMMA, T_STR, T_WORD, T_BAD };

struct lexer {
	const char *file, *p, *end;
	int line;
	enum tok t;
	char text[MAX_VALUE];
	int too_long;
	int unclosed;          /* a string not closed on its line */
};

/* A value: one atom, or a list (its length, and its first XLCFG_MAX_LIST
 * atoms; atom is the first). */
struct value {
	int list;
	unsigned items;
	int too_long;             /* an atom of the list was */
	char item[XLCFG_MAX_LIST][MAX_VALUE];
	char *atom;
};

/* Raw strings before the command line is composed. */
struct raw {
	char cmdline[MAX_VALUE], root[MAX_VALUE], extra[MAX_VALUE];
	int has_cmdline, has_root, has_extra, cmdline_line;
};

static int is_word_char(int c)
{
	return c > ' ' && !strchr("#=,;[]\"'", c);
}

static void read_string(struct lexer *lx, char quote)
{
	size_t n = 0;

	lx->t = T_BAD;
	while (lx->p < lx->end && *lx->p != quote && *lx->p != '\n') {
		char c = *lx->p++;
		if (c == '\\' && lx->p < lx->end && *lx->p != '\n') {
			c = *lx->p++;
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
		}
		if (n + 1 < sizeof(lx->text))
			lx->text[n++] = c;
		else
			lx->too_long = 1;
	}
	lx->text[n] = '\0';
	if (lx->p < lx->end && *lx->p == quote) {
		lx->p++;
		lx->t = T_STR;
	} else {
		lx->unclosed = 1;
	}
}

static enum tok next(struct lexer *lx)
{
	static const char single[] = "\n;=[],";
	static const enum tok kinds[] = { T_NL, T_SEMI, T_EQ, T_LBR, T_RBR, T_COMMA };
	size_t n = 0;

	lx->too_long = lx->unclosed = 0;
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '#') /* a comment runs to the end of the line */
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	if (lx->p >= lx->end)
		return lx->t = T_EOF;
	const char *s = strchr(single, *lx->p);
	if (s && *lx->p) {
		if (*lx->p == '\n')
			lx->line++;
		lx->p++;
		return lx->t = kinds[s - single];
	}
	if (*lx->p == '"' || *lx->p == '\'') {
		char q = *lx->p++;
		read_string(lx, q);
		return lx->t;
	}
	if (!is_word_char((unsigned char)*lx->p)) {
		lx->p++;
		return lx->t = T_BAD;
	}
	while (lx->p < lx->end && is_word_char((unsigned char)*lx->p)) {
		if (n + 1 < sizeof(lx->text))
			lx->text[n++] = *lx->p;
		else
			lx->too_long = 1;
		lx->p++;
	}
	lx->text[n] = '\0';
	return lx->t = T_WORD;
}

static int fail(char *why, const struct lexer *lx, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, XLCFG_WHY, "%.300s:%d: ", lx->file, line);

	va_start(ap, fmt);
	vsnprintf(why + n, XLCFG_WHY - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void warn(struct xlcfg *c, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[300], full[sizeof(c->warn[0])];

	if (c->nwarn >= XLCFG_MAX_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%.200s:%d: %s", c->file, line, msg);
	memcpy(c->warn[c->nwarn++], full, sizeof(full));
}

/* value := STRING | WORD | '[' [ atom { ',' atom } [','] ] ']' ; lists
 * may span lines. Leaves the token after the value in lx->t. */
static int parse_value(struct lexer *lx, struct value *v, const char *key, char *why)
{
	int line = lx->line;

	memset(v, 0, sizeof(*v));
	v->atom = v->item[0];
	if (lx->t == T_STR || lx->t == T_WORD) {
		if (lx->too_long)
			return fail(why, lx, line, "%s: value longer than %d characters", key, MAX_VALUE - 1);
		snprintf(v->atom, MAX_VALUE, "%s", lx->text);
		next(lx);
		return 0;
	}
	if (lx->unclosed)
		return fail(why, lx, line, "%s: string not closed on its line", key);
	if (lx->t != T_LBR)
		return fail(why, lx, line, "%s: want a value (a \"string\", a number or a [ list ])", key);
	v->list = 1;
	while (next(lx) == T_NL)
		;
	while (lx->t == T_STR || lx->t == T_WORD) {
		if (v->items < XLCFG_MAX_LIST)
			snprintf(v->item[v->items], MAX_VALUE, "%s", lx->text);
		v->too_long |= lx->too_long;
		v->items++;
		while (next(lx) == T_NL)
			;
		if (lx->t != T_COMMA)
			break;
		while (next(lx) == T_NL)
			;
	}
	if (lx->t != T_RBR)
		return fail(why, lx, lx->line, "%s: list not closed with ]", key);
	if (v->too_long)
		return fail(why, lx, line, "%s: a value longer than %d characters", key, MAX_VALUE - 1);
	next(lx);
	return 0;
}

/* A whole number written as xl writes numbers (decimal, or 0x hex). */
static int number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	*out = strtoull(s, &end, 0);
	return errno || *end || *out > max ? -1 : 0;
}

static void resolve(const char *file, const char *path, char *out, size_t len)
{
	const char *slash = strrchr(file, '/');

	if (path[0] == '/' || !slash)
		snprintf(out, len, "%s", path);
	else
		snprintf(out, len, "%.*s/%s", (int)(slash - file), file, path);
}

static int expect_status(const char *v)
{
	static const struct { const char *name; int status; } ends[] = {
		{ "poweroff", VMM_EXIT_POWEROFF }, { "crash", VMM_EXIT_CRASH },
		{ "timeout", VMM_EXIT_TIMEOUT }, { "reboot", VMM_EXIT_REBOOT },
	};

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (!strcmp(v, ends[i].name))
			return ends[i].status;
	return -1;
}

/* ---- expect_count and expect_stat: REGEX OP N, A OP B ---------------------- */

enum cmp { CMP_EQ, CMP_NE, CMP_LE, CMP_GE, CMP_LT, CMP_GT };
static const char *const cmp_ops[] = { "==", "!=", "<=", ">=", "<", ">" };

struct cond {
	char left[XLCFG_ITEM];
	enum cmp op;
	char right[XLCFG_ITEM];
};

static int cmp_holds(long long a, enum cmp op, long long b)
{
	switch (op) {
	case CMP_EQ: return a == b;
	case CMP_NE: return a != b;
	case CMP_LE: return a <= b;
	case CMP_GE: return a >= b;
	case CMP_LT: return a < b;
	default: return a > b;
	}
}

/* The last blank-separated word of (s, *n): where it starts, its length
 * in (*wlen); (*n) becomes the length before it, trailing blanks dropped.
 * NULL when there is none. */
static const char *last_word(const char *s, size_t *n, size_t *wlen)
{
	size_t end = *n, start;

	while (end && isblank((unsigned char)s[end - 1]))
		end--;
	for (start = end; start && !isblank((unsigned char)s[start - 1]); start--)
		;
	if (start == end)
		return NULL;
	*wlen = end - start;
	for (*n = start; *n && isblank((unsigned char)s[*n - 1]); (*n)--)
		;
	return s + start;
}

static int is_whole(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n && n <= 18 && !s[n];
}

/* A counter: JSON keys ([a-z_][a-z0-9_]*) joined by dots. */
static int is_counter(const char *s)
{
	for (;;) {
		if (!(islower((unsigned char)*s) || *s == '_'))
			return 0;
		s += strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (*s != '.')
			return !*s;
		s++;
	}
}

/* How much glibc's regcomp() may multiply a pattern: it copies the operand
 * of every repetition (twice for + and ?, n times for {m,n}), and nested
 * repetitions multiply, so a short hostile pattern ("a++++...") takes
 * gigabytes. A pattern whose repetitions multiply past this is refused. */
#define REGEX_MAX_BLOWUP 65536u

int vmm_xlcfg_regcomp(regex_t *re, const char *s)
{
	uint64_t blowup = 1;

	if (strlen(s) > 1024)
		return -E2BIG;
	for (const char *p = s; *p; p++) {
		unsigned long f = 1;
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '+' || *p == '?')
			f = 2;
		else if (*p == '{' && isdigit((unsigned char)p[1])) {
			char *e;
			f = strtoul(p + 1, &e, 10);
			if (*e == ',' && isdigit((unsigned char)e[1]))
				f = strtoul(e + 1, &e, 10);
			f = f < 2 ? 2 : f;
		}
		if (f > REGEX_MAX_BLOWUP || (blowup *= f) > REGEX_MAX_BLOWUP)
			return -E2BIG;
	}
	return regcomp(re, s, REG_EXTENDED | REG_NOSUB) ? -EINVAL : 0;
}

/* (text) as expect_count's "REGEX OP N" (count) or expect_stat's "A OP B",
 * each side a counter or a whole number, one a counter. 0 or -1. */
static int parse_cond(const char *text, int count, struct cond *c)
{
	size_t n = strlen(text), wl = 0, ol = 0;
	const char *w = last_word(text, &n, &wl), *o = w ? last_word(text, &n, &ol) : NULL;
	regex_t re;
	int op = -1;

	for (int i = 0; o && i < (int)(sizeof(cmp_ops) / sizeof(cmp_ops[0])); i++)
		if (strlen(cmp_ops[i]) == ol && !strncmp(o, cmp_ops[i], ol))
			op = i;
	if (op < 0 || !n)
		return -1;
	while (!count && isblank((unsigned char)*text))
		text++, n--;
	snprintf(c->left, sizeof(c->left), "%.*s", (int)n, text);
	snprintf(c->right, sizeof(c->right), "%.*s", (int)wl, w);
	c->op = (enum cmp)op;
	if (count) {
		if (!is_whole(c->right) || vmm_xlcfg_regcomp(&re, c->left))
			return -1;
		regfree(&re);
		return 0;
	}
	return (is_counter(c->left) || is_whole(c->left)) && (is_counter(c->right) || is_whole(c->right)) &&
	       (is_counter(c->left) || is_counter(c->right)) ? 0 : -1;
}

/* One `key = value` being applied. */
struct kv {
	struct xlcfg *c;
	struct raw *r;
	const struct lexer *lx;
	int line;
	const char *key;
	const struct value *v;
	const char *a;     /* the value's (first) atom */
	char *why;
};

#define FAIL(kv, ...) fail((kv)->why, (kv)->lx, (kv)->line, __VA_ARGS__)

static int k_path(struct kv *kv)
{
	char *dst = kv->key[0] == 'k' ? kv->c->kernel : kv->c->ramdisk;

	if (!*kv->a)
		return FAIL(kv, "%s: empty path", kv->key);
	resolve(kv->c->file, kv->a, dst, XLCFG_PATH);
	return 0;
}

static int k_memory(struct kv *kv)
{
	unsigned long long n;

	if (number(kv->a, MAX_MEMORY_MIB, &n) || !n)
		return FAIL(kv, "memory: '%s' is not a number of MiB (1 to %u)", kv->a, MAX_MEMORY_MIB);
	kv->c->memory_mib = n;
	return 0;
}

static int k_name(struct kv *kv)
{
	if (!*kv->a || strlen(kv->a) >= sizeof(kv->c->name) || strchr(kv->a, '/'))
		return FAIL(kv, "name: '%s' is not a domain name (1 to 63 characters, no /)", kv->a);
	snprintf(kv->c->name, sizeof(kv->c->name), "%s", kv->a);
	return 0;
}

/* cmdline, root, extra: kept for compose_cmdline() */
static int k_cmdline(struct kv *kv)
{
	struct raw *r = kv->r;
	char *dst = kv->key[0] == 'c' ? r->cmdline : kv->key[0] == 'r' ? r->root : r->extra;

	snprintf(dst, MAX_VALUE, "%s", kv->a);
	if (kv->key[0] == 'c')
		r->has_cmdline = 1, r->cmdline_line = kv->line;
	else if (kv->key[0] == 'r')
		r->has_root = 1;
	else
		r->has_extra = 1;
	return 0;
}

static int k_vcpus(struct kv *kv)
{
	unsigned long long n;

	if (number(kv->a, 4096, &n) || !n)
		return FAIL(kv, "%s: '%s' is not a number of vCPUs", kv->key, kv->a);
	if (n > 1)
		return FAIL(kv, "%s: %llu: pvmm runs one vCPU", kv->key, n);
	kv->c->vcpus = 1;
	return 0;
}

static int k_type(struct kv *kv)
{
	if (strcmp(kv->a, "pv") && strcmp(kv->a, "pvh") && strcmp(kv->a, "hvm"))
		return FAIL(kv, "type: '%s' is not pv, pvh or hvm", kv->a);
	if (strcmp(kv->a, "pv"))
		return FAIL(kv, "type: '%s': pvmm runs PV guests only", kv->a);
	return 0;
}

/* xl's name for type before Xen 4.10 */
static int k_builder(struct kv *kv)
{
	if (strcmp(kv->a, "generic") && strcmp(kv->a, "linux"))
		return FAIL(kv, "builder: '%s': pvmm runs PV guests only (generic)", kv->a);
	return 0;
}

/* One word of a disk specification, spaces around it dropped. */
static char *trim(char *w)
{
	char *e;

	while (*w == ' ' || *w == '\t')
		w++;
	e = w + strlen(w);
	while (e > w && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return w;
}

static int disk_access(struct kv *kv, struct xlcfg_disk *d, const char *v)
{
	if (!strcmp(v, "ro") || !strcmp(v, "r"))
		d->ro = 1;
	else if (!strcmp(v, "rw") || !strcmp(v, "w") || !*v)
		d->ro = 0;
	else
		return FAIL(kv, "disk: access '%s': want ro or rw", v);
	return 0;
}

static int disk_vdev(struct kv *kv, struct xlcfg_disk *d, char *v)
{
	size_t n = strlen(v);

	if (n > 5 && !strcmp(v + n - 5, ":disk"))
		v[n - 5] = 0;
	if (strchr(v, ':'))
		return FAIL(kv, "disk: vdev '%s': pvmm's disks are disks (no cdrom)", v);
	if (be_blk_vdev(v) < 0)
		return FAIL(kv, "disk: vdev '%s': want xvdX, hdX, sdX or a number", v);
	snprintf(d->vdev, sizeof(d->vdev), "%s", v);
	return 0;
}

static int disk_format(struct kv *kv, const char *v)
{
	return !*v || !strcmp(v, "raw") ? 0 : FAIL(kv, "disk: format '%s': pvmm's disks are raw", v);
}

/* A positional parameter: target, format, vdev, access in turn (after a
 * deprecated prefix on the target, no format). */
static int disk_positional(struct kv *kv, struct xlcfg_disk *d, char *w, int *pos, char *target)
{
	static const char *const prefixes[] = { "tap:aio:", "tap2:aio:", "phy:", "file:", "raw:", "aio:" };
	int p = (*pos)++;

	if (p == 0) {
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
			if (!strncmp(w, prefixes[i], strlen(prefixes[i]))) {
				w += strlen(prefixes[i]);
				(*pos)++; /* the deprecated form: no format follows */
				break;
			}
		snprintf(target, XLCFG_PATH, "%s", w);
		return 0;
	}
	if (!*w)
		return 0; /* empty: the default */
	switch (p) {
	case 1: return disk_format(kv, w);
	case 2: return disk_vdev(kv, d, w);
	case 3: return disk_access(kv, d, w);
	default: return FAIL(kv, "disk: '%s': more than target, format, vdev, access", w);
	}
}

static int disk_keyword(struct kv *kv, struct xlcfg_disk *d, char *w, char *target)
{
	char *v = strchr(w, '=');

	if (!v) {
		if (!strcmp(w, "discard") || !strcmp(w, "no-discard") || !strcmp(w, "direct-io-safe"))
			return 0; /* hints pvmm has no use for */
		return FAIL(kv, "disk: '%s': pvmm's disks are read-write or read-only disks only", w);
	}
	*v++ = 0;
	if (!strcmp(w, "target"))
		snprintf(target, XLCFG_PATH, "%s", v);
	else if (!strcmp(w, "format"))
		return disk_format(kv, v);
	else if (!strcmp(w, "vdev"))
		return disk_vdev(kv, d, v);
	else if (!strcmp(w, "access"))
		return disk_access(kv, d, v);
	else if (!strcmp(w, "devtype") && strcmp(v, "disk"))
		return FAIL(kv, "disk: devtype '%s': pvmm's disks are disks", v);
	else if (strcmp(w, "devtype") && strcmp(w, "backend") && strcmp(w, "backendtype"))
		return FAIL(kv, "disk: '%s=%s': not something pvmm's disks take", w, v);
	return 0;
}

/* One disk specification as xl reads it (xl-disk-configuration(5)). */
static int disk_spec(struct kv *kv, const char *spec)
{
	struct xlcfg_disk *d;
	char copy[MAX_VALUE], target[XLCFG_PATH] = "", *w, *next;
	int pos = 0, rc = 0;

	if (kv->c->ndisks == XLCFG_MAX_DISKS)
		return FAIL(kv, "disk: more than %d disks", XLCFG_MAX_DISKS);
	d = &kv->c->disk[kv->c->ndisks];
	memset(d, 0, sizeof(*d));
	snprintf(copy, sizeof(copy), "%s", spec);
	for (w = copy; w && !rc; w = next) {
		next = strchr(w, ',');
		if (!strncmp(trim(w), "target=", 7)) /* the rest of the string, commas and all */
			next = NULL;
		else if (next)
			*next++ = 0;
		w = trim(w);
		int flag = pos >= 1 && (!strcmp(w, "cdrom") || !strcmp(w, "discard") ||
					!strcmp(w, "no-discard") || !strcmp(w, "direct-io-safe"));
		rc = strchr(w, '=') || flag ? disk_keyword(kv, d, w, target)
					    : disk_positional(kv, d, w, &pos, target);
	}
	if (rc)
		return rc;
	if (!target[0])
		return FAIL(kv, "disk: '%s': no target (the file)", spec);
	resolve(kv->c->file, target, d->target, sizeof(d->target));
	kv->c->ndisks++;
	return 0;
}

static int k_disk(struct kv *kv)
{
	int rc = 0;

	if (!kv->v->list)
		return *kv->a ? disk_spec(kv, kv->a) : 0;
	if (kv->v->too_long)
		return FAIL(kv, "disk: a specification longer than %d characters", MAX_VALUE - 1);
	for (unsigned i = 0; i < kv->v->items && !rc; i++)
		rc = disk_spec(kv, kv->v->item[i]);
	if (!rc && kv->v->items > XLCFG_MAX_LIST)
		return FAIL(kv, "disk: more than %d disks", XLCFG_MAX_LIST);
	return rc;
}

/* vif: the first becomes --net=user (its mac kept); xl's other keys
 * (bridge, script, ...) mean nothing for user networking: a warning. */
static int k_vif(struct kv *kv)
{
	unsigned n = kv->v->list ? kv->v->items : *kv->a != '\0';
	char spec[MAX_VALUE], *save = NULL, *w;

	kv->c->net[0] = '\0';
	if (!n)
		return 0;
	if (n > 1)
		warn(kv->c, kv->line, "vif: %u interfaces: pvmm gives the guest one, the first", n);
	snprintf(spec, sizeof(spec), "%s", kv->v->list ? kv->v->item[0] : kv->a);
	snprintf(kv->c->net, sizeof(kv->c->net), "user");
	for (w = strtok_r(spec, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
		size_t k = strcspn(w, "=");
		if (!strncmp(w, "mac=", 4)) {
			if (strlen(w + 4) != 17 || strspn(w + 4, "0123456789abcdefABCDEF:") != 17)
				return FAIL(kv, "vif: mac '%.40s': want xx:xx:xx:xx:xx:xx", w + 4);
			snprintf(kv->c->net, sizeof(kv->c->net), "user,mac=%s", w + 4);
		} else {
			warn(kv->c, kv->line, "vif: '%.*s' ignored: pvmm's vif is user networking (libslirp); "
			     "forward ports with pvmm_options = \"--net=user,hostfwd=...\"", (int)k, w);
		}
	}
	return 0;
}

/* on_poweroff, on_reboot, on_crash, ...: xl's actions. pvmm ends the run
 * whatever happens, which is destroy. */
static int k_action(struct kv *kv)
{
	static const char *const actions[] = { "destroy", "restart", "rename-restart", "preserve",
					       "coredump-destroy", "coredump-restart", "soft-reset" };

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(kv->a, actions[i])) {
			if (i)
				warn(kv->c, kv->line, "%s = '%s' not supported yet: pvmm ends the run (destroy)",
				     kv->key, kv->a);
			return 0;
		}
	return FAIL(kv, "%s: '%s' is not an xl action (destroy, restart, preserve, ...)", kv->key, kv->a);
}

/* loader: XTF's legacy PV key; uuid, maxmem: nothing to do with one
 * domain; viridian, hap: HVM keys xl does not read for a PV guest */
static int k_nothing(struct kv *kv)
{
	(void)kv;
	return 0;
}

static int k_timeout(struct kv *kv)
{
	unsigned long long n;

	if (number(kv->a, 1000000, &n) || !n)
		return FAIL(kv, "timeout: '%s' is not a positive number of seconds", kv->a);
	kv->c->timeout = (unsigned)n, kv->c->timeout_line = kv->line;
	return 0;
}

static int k_expect(struct kv *kv)
{
	if ((kv->c->expect.status = expect_status(kv->a)) < 0)
		return FAIL(kv, "expect is poweroff, crash, timeout or reboot, not '%s'", kv->a);
	return 0;
}

static struct xlcfg_list *expect_list(struct xlcfg *c, const char *key)
{
	return !strcmp(key, "expect_log") ? &c->expect.log : !strcmp(key, "expect_no_log") ? &c->expect.no_log
	       : !strcmp(key, "expect_count") ? &c->expect.count : &c->expect.stat;
}

/* Why (s) is not what the expect_* key (key) takes, or NULL when it is. */
static const char *bad_item(const char *key, const char *s)
{
	struct cond cd;
	regex_t re;

	if (!strcmp(key, "expect_count"))
		return parse_cond(s, 1, &cd) ? "want REGEX OP N, OP one of == != < <= > >=" : NULL;
	if (!strcmp(key, "expect_stat"))
		return parse_cond(s, 0, &cd) ? "want COUNTER OP COUNTER or COUNTER OP N, a counter "
					       "being its --stats JSON keys joined by dots" : NULL;
	switch (vmm_xlcfg_regcomp(&re, s)) {
	case 0: break;
	case -E2BIG: return "a regular expression longer than 1024 bytes or whose repetitions multiply it too far";
	default: return "not a regular expression";
	}
	regfree(&re);
	return NULL;
}

/* expect_log, expect_no_log, expect_count, expect_stat: a string or a
 * list of them (a single "" is none), each checked now */
static int k_expect_list(struct kv *kv)
{
	struct xlcfg_list *l = expect_list(kv->c, kv->key);
	unsigned n = kv->v->list ? kv->v->items : *kv->a != '\0';
	const char *bad;

	if (n > XLCFG_MAX_LIST)
		return FAIL(kv, "%s: %u entries, at most %d", kv->key, n, XLCFG_MAX_LIST);
	l->n = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *item = kv->v->item[i];
		if (strlen(item) >= XLCFG_ITEM)
			return FAIL(kv, "%s: an entry longer than %d characters", kv->key, XLCFG_ITEM - 1);
		if ((bad = bad_item(kv->key, item)))
			return FAIL(kv, "%s: '%.200s': %s", kv->key, item, bad);
		snprintf(l->item[l->n++], XLCFG_ITEM, "%s", item);
	}
	return 0;
}

static int k_console_input(struct kv *kv)
{
	if (strlen(kv->a) >= sizeof(kv->c->console_input))
		return FAIL(kv, "console_input: longer than %zu characters", sizeof(kv->c->console_input) - 1);
	snprintf(kv->c->console_input, sizeof(kv->c->console_input), "%s", kv->a);
	kv->c->has_console_input = 1;
	return 0;
}

static int k_pvmm_options(struct kv *kv)
{
	snprintf(kv->c->pvmm_options, sizeof(kv->c->pvmm_options), "%s", kv->a);
	return 0;
}

/* Every key known, xl's then pvmm's; lists are for disk and vif only. */
static const struct {
	const char *key;
	int (*set)(struct kv *kv);
	int list;
} keys[] = {
	{ "kernel", k_path, 0 }, { "ramdisk", k_path, 0 }, { "memory", k_memory, 0 },
	{ "name", k_name, 0 }, { "cmdline", k_cmdline, 0 }, { "root", k_cmdline, 0 },
	{ "extra", k_cmdline, 0 }, { "vcpus", k_vcpus, 0 }, { "maxvcpus", k_vcpus, 0 },
	{ "type", k_type, 0 }, { "builder", k_builder, 0 }, { "disk", k_disk, 1 },
	{ "vif", k_vif, 1 }, { "on_poweroff", k_action, 0 }, { "on_reboot", k_action, 0 },
	{ "on_crash", k_action, 0 }, { "on_watchdog", k_action, 0 },
	{ "on_soft_reset", k_action, 0 }, { "loader", k_nothing, 0 }, { "uuid", k_nothing, 0 },
	{ "maxmem", k_nothing, 0 }, { "viridian", k_nothing, 0 }, { "hap", k_nothing, 0 },
	/* pvmm's own */
	{ "timeout", k_timeout, 0 }, { "pvmm_options", k_pvmm_options, 0 },
	{ "console_input", k_console_input, 0 }, { "expect", k_expect, 0 },
	{ "expect_log", k_expect_list, 1 }, { "expect_no_log", k_expect_list, 1 },
	{ "expect_count", k_expect_list, 1 }, { "expect_stat", k_expect_list, 1 },
};

static int set_key(struct kv *kv)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(kv->key, keys[i].key))
			continue;
		if (kv->v->list && !keys[i].list)
			return FAIL(kv, "%s: want a single value, not a list", kv->key);
		return keys[i].set(kv);
	}
	warn(kv->c, kv->line, "unknown key '%s' ignored", kv->key);
	return 0;
}

/* As xl's parse_cmdline(): cmdline wins over root and extra (with a
 * warning); otherwise "root=ROOT EXTRA", "root=ROOT" or "EXTRA". */
static int compose_cmdline(struct xlcfg *c, const struct raw *r, const struct lexer *lx, char *why)
{
	int n = 0;

	if (r->has_cmdline) {
		n = snprintf(c->cmdline, sizeof(c->cmdline), "%s", r->cmdline);
		if (r->has_root || r->has_extra)
			warn(c, r->cmdline_line, "root and extra ignored in favour of cmdline, as xl does");
	} else if (r->has_root && r->has_extra) {
		n = snprintf(c->cmdline, sizeof(c->cmdline), "root=%s %s", r->root, r->extra);
	} else if (r->has_root) {
		n = snprintf(c->cmdline, sizeof(c->cmdline), "root=%s", r->root);
	} else if (r->has_extra) {
		n = snprintf(c->cmdline, sizeof(c->cmdline), "%s", r->extra);
	}
	c->has_cmdline = r->has_cmdline || r->has_root || r->has_extra;
	if ((size_t)n >= sizeof(c->cmdline))
		return fail(why, lx, r->cmdline_line ? r->cmdline_line : lx->line,
			    "the command line is %d characters, Xen allows 1023", n);
	return 0;
}

int vmm_xlcfg_parse(const char *file, const char *text, size_t len, struct xlcfg *c, char *why)
{
	struct lexer lx = { .file = file, .p = text, .end = text + len, .line = 1 };
	struct raw *r = calloc(1, sizeof(*r));
	struct value *v = malloc(sizeof(*v));
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->expect.status = -1;
	snprintf(c->file, sizeof(c->file), "%s", file);
	if (!r || !v) {
		free(r), free(v);
		snprintf(why, XLCFG_WHY, "%.300s: out of memory", file);
		return -ENOMEM;
	}
	next(&lx);
	while (!rc && lx.t != T_EOF) {
		char key[64];
		int line = lx.line;
		if (lx.t == T_NL || lx.t == T_SEMI) {
			next(&lx);
			continue;
		}
		if (lx.t != T_WORD || !(isalpha((unsigned char)lx.text[0]) || lx.text[0] == '_') ||
		    strlen(lx.text) >= sizeof(key)) {
			rc = fail(why, &lx, line, "want key = value");
			break;
		}
		snprintf(key, sizeof(key), "%s", lx.text);
		if (next(&lx) != T_EQ) {
			rc = fail(why, &lx, line, "%s: want key = value", key);
			break;
		}
		next(&lx);
		if ((rc = parse_value(&lx, v, key, why)))
			break;
		if (lx.t != T_NL && lx.t != T_SEMI && lx.t != T_EOF) {
			rc = fail(why, &lx, line, "%s: one value per key (a string with blanks needs quotes)", key);
			break;
		}
		struct kv kv = { c, r, &lx, line, key, v, v->atom, why };
		rc = set_key(&kv);
	}
	if (!rc)
		rc = compose_cmdline(c, r, &lx, why);
	free(r);
	free(v);
	return rc;
}

int vmm_xlcfg_read(const char *path, struct xlcfg *c, char *why)
{
	size_t len = 0;
	char *text = vmm_read_file(path, XLCFG_MAX_FILE, 0, &len);
	int rc;

	if (!text) {
		rc = -errno;
		snprintf(why, XLCFG_WHY, "%.300s: %s", path, strerror(errno));
		return rc;
	}
	rc = vmm_xlcfg_parse(path, text, len, c, why);
	free(text);
	return rc;
}

int vmm_xlcfg_is_config(const char *path)
{
	size_t n = strlen(path), len = 0;
	char *text, why[XLCFG_WHY];
	struct xlcfg *c = NULL;
	int yes;

	if (n > 4 && !strcmp(path + n - 4, ".cfg"))
		return 1;
	if (!(text = vmm_read_file(path, XLCFG_MAX_FILE, 0, &len)))
		return 0;
	yes = !(len >= 4 && !memcmp(text, "\177ELF", 4)) && (c = malloc(sizeof(*c))) &&
	      !vmm_xlcfg_parse(path, text, len, c, why) && c->kernel[0];
	free(c);
	free(text);
	return yes;
}

/* Append one option to (argv); -E2BIG when out of room. */
static int add(char **argv, int *argc, int max, char **buf, size_t *left, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*argc >= max)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(*buf, *left, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= *left)
		return -E2BIG;
	argv[(*argc)++] = *buf;
	*buf += n + 1, *left -= (size_t)n + 1;
	return 0;
}

int vmm_xlcfg_options(const struct xlcfg *c, char *buf, size_t len, char **argv, int max)
{
	int argc = 0, rc = 0;
	char words[sizeof(c->pvmm_options)], *save = NULL;

	if (c->memory_mib)
		rc = add(argv, &argc, max, &buf, &len, "--memory=%lluM", (unsigned long long)c->memory_mib);
	if (!rc && c->has_cmdline)
		rc = add(argv, &argc, max, &buf, &len, "--cmdline=%s", c->cmdline);
	if (!rc && c->ramdisk[0])
		rc = add(argv, &argc, max, &buf, &len, "--ramdisk=%s", c->ramdisk);
	if (!rc && c->name[0])
		rc = add(argv, &argc, max, &buf, &len, "--name=%s", c->name);
	for (unsigned i = 0; !rc && i < c->ndisks; i++)
		rc = add(argv, &argc, max, &buf, &len, "--disk=%s%s%s%s", c->disk[i].target,
			 c->disk[i].ro ? ",ro" : "", c->disk[i].vdev[0] ? ",vdev=" : "", c->disk[i].vdev);
	if (!rc && c->net[0])
		rc = add(argv, &argc, max, &buf, &len, "--net=%s", c->net);
	snprintf(words, sizeof(words), "%s", c->pvmm_options);
	for (char *w = strtok_r(words, " \t", &save); !rc && w; w = strtok_r(NULL, " \t", &save))
		rc = add(argv, &argc, max, &buf, &len, "%s", w);
	return rc ? rc : argc;
}

/* ---- the stats JSON ------------------------------------------------------------ */

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* The string at (p) (its opening quote) into (out, len); after it, or NULL. */
static const char *json_string(const char *p, char *out, size_t len)
{
	size_t n = 0;

	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		if (n + 1 < len)
			out[n++] = *p;
	}
	out[n] = '\0';
	return *p == '"' ? p + 1 : NULL;
}

/* After the value at (p): a string, a number or word, an object or an
 * array (strings inside them skipped as strings); NULL if malformed. */
static const char *json_skip(const char *p)
{
	char ignored[1];
	int depth = 0;
	size_t n;

	if (*p != '"' && *p != '{' && *p != '[') { /* a number or a word */
		n = strcspn(p, ",}] \n\t\r");
		return n ? p + n : NULL;
	}
	do {
		if (*p == '"') {
			if (!(p = json_string(p, ignored, sizeof(ignored))))
				return NULL;
			continue;
		}
		if (!*p)
			return NULL;
		depth += *p == '{' || *p == '[' ? 1 : *p == '}' || *p == ']' ? -1 : 0;
		p++;
	} while (depth > 0);
	return p;
}

/* In the object at (p), the value at (path); 0, -ENOENT or -EINVAL. */
static int json_find(const char *p, const char *path, long long *out)
{
	size_t klen = strcspn(path, ".");
	char key[128], *end;

	if (*(p = json_ws(p)) != '{')
		return -EINVAL;
	for (p = json_ws(p + 1); *p != '}'; p = json_ws(p + 1)) {
		if (!(p = json_string(p, key, sizeof(key))) || *(p = json_ws(p)) != ':')
			return -EINVAL;
		p = json_ws(p + 1);
		if (strlen(key) == klen && !strncmp(key, path, klen)) {
			if (path[klen] == '.')
				return json_find(p, path + klen + 1, out);
			errno = 0;
			*out = strtoll(p, &end, 10);
			return end == p || errno || strchr(".eE", *end) ? -EINVAL : 0;
		}
		if (!(p = json_skip(p)) || *(p = json_ws(p)) != ',')
			return p && *p == '}' ? -ENOENT : -EINVAL;
	}
	return -ENOENT;
}

int vmm_xlcfg_stat(const char *json, const char *path, long long *out)
{
	return json_find(json, path, out);
}

/* ---- judging a run --------------------------------------------------------------- */

/* What a judge collects: the regexes of expect_log, expect_no_log and
 * expect_count, how many lines each matched, no_log's first line. */
struct matcher {
	const struct xlcfg_list *list[3];
	regex_t re[3][XLCFG_MAX_LIST];
	int compiled[3][XLCFG_MAX_LIST];
	unsigned lines[3][XLCFG_MAX_LIST];
	char first[XLCFG_MAX_LIST][160];
	struct cond count[XLCFG_MAX_LIST];
};

/* Add "; TEXT" (or TEXT first) to (why), as much as fits. */
static void unmet(char *why, size_t len, int *n, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(why);

	if (*n && used + 2 < len)
		strcpy(why + used, "; "), used += 2;
	va_start(ap, fmt);
	if (used < len)
		vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
	(*n)++;
}

static void match_lines(struct matcher *m, FILE *log)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, log)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		for (int k = 0; k < 3; k++)
			for (unsigned i = 0; i < m->list[k]->n; i++)
				if (m->compiled[k][i] && !regexec(&m->re[k][i], line, 0, NULL, 0) &&
				    !m->lines[k][i]++ && k == 1)
					snprintf(m->first[i], sizeof(m->first[i]), "%s", line);
	}
	free(line);
}

/* A side of an expect_stat condition: a whole number or a counter. */
static int stat_side(const char *stats, const char *side, long long *v)
{
	return is_whole(side) ? (*v = strtoll(side, NULL, 10), 0) : vmm_xlcfg_stat(stats, side, v);
}

static void judge_stat(const char *item, const char *stats, char *why, size_t len, int *n)
{
	struct cond c;
	long long a, b;
	int ra, rb;

	if (parse_cond(item, 0, &c))
		return unmet(why, len, n, "expect_stat '%s': not a condition", item);
	if (!stats)
		return unmet(why, len, n, "expect_stat '%s': no --stats output", item);
	ra = stat_side(stats, c.left, &a), rb = stat_side(stats, c.right, &b);
	if (ra || rb)
		return unmet(why, len, n, "expect_stat '%s': %s %s in --stats", item, ra ? c.left : c.right,
			     (ra ? ra : rb) == -ENOENT ? "is not a counter" : "is not a whole number");
	if (cmp_holds(a, c.op, b))
		return;
	if (is_whole(c.left) || is_whole(c.right))
		unmet(why, len, n, "expect_stat '%s': %s is %lld", item,
		      is_whole(c.left) ? c.right : c.left, is_whole(c.left) ? b : a);
	else
		unmet(why, len, n, "expect_stat '%s': %s is %lld, %s is %lld", item, c.left, a, c.right, b);
}

static void judge_lines(struct matcher *m, char *why, size_t len, int *n)
{
	for (unsigned i = 0; i < m->list[0]->n; i++)
		if (!m->lines[0][i])
			unmet(why, len, n, "no line of its log matches expect_log /%s/", m->list[0]->item[i]);
	for (unsigned i = 0; i < m->list[1]->n; i++)
		if (m->lines[1][i])
			unmet(why, len, n, "a line of its log matches expect_no_log /%s/: %s",
			      m->list[1]->item[i], m->first[i]);
	for (unsigned i = 0; i < m->list[2]->n; i++)
		if (!cmp_holds(m->lines[2][i], m->count[i].op, strtoll(m->count[i].right, NULL, 10)))
			unmet(why, len, n, "expect_count '%s': %u lines match", m->list[2]->item[i],
			      m->lines[2][i]);
}

int vmm_xlcfg_judge(const struct xlcfg_expect *e, FILE *log, const char *stats, char *why, size_t len)
{
	struct matcher *m = calloc(1, sizeof(*m));
	int n = 0;

	if (len)
		why[0] = '\0';
	if (!m) {
		unmet(why, len, &n, "out of memory");
		return -1;
	}
	m->list[0] = &e->log, m->list[1] = &e->no_log, m->list[2] = &e->count;
	for (int k = 0; k < 3; k++)
		for (unsigned i = 0; i < m->list[k]->n; i++) {
			const char *re = m->list[k]->item[i];
			if (k == 2 && parse_cond(re, 1, &m->count[i]))
				unmet(why, len, &n, "expect_count '%s': not a condition", re);
			else if (vmm_xlcfg_regcomp(&m->re[k][i], k == 2 ? m->count[i].left : re))
				unmet(why, len, &n, "/%s/ is not a regular expression", re);
			else
				m->compiled[k][i] = 1;
		}
	if (log)
		match_lines(m, log);
	judge_lines(m, why, len, &n);
	for (unsigned i = 0; i < e->stat.n; i++)
		judge_stat(e->stat.item[i], stats, why, len, &n);
	for (int k = 0; k < 3; k++)
		for (unsigned i = 0; i < m->list[k]->n; i++)
			if (m->compiled[k][i])
				regfree(&m->re[k][i]);
	free(m);
	return n ? -1 : 0;
}
