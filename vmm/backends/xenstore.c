/* xenstore.c - the store: a tree of nodes, watches, transactions, and the
 * ring protocol (io/xs_wire.h) that carries requests and replies. */
#include "vmm/backends/xenstore.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#define XS_MAX_NODES 4096
#define XS_MAX_BYTES (1u << 20)  /* paths and values in one tree */
#define XS_MAX_WATCHES 128
#define XS_MAX_TX 16
#define XS_OUT_MAX (64u << 10)   /* replies waiting for room in the ring */
#define XS_MAX_HOOKS 32
#define XS_MAX_SEEN 1024         /* nodes one transaction reads or lists */
#define HDR sizeof(struct xsd_sockmsg)

struct xs_node {
	char *path;  /* absolute; the tree is sorted by it */
	char *value;
	uint32_t len;
};

struct xs_tree {
	struct xs_node *n;
	size_t count, cap, bytes;
};

struct xs_watch {
	char *path;    /* absolute, or a special "@..." name */
	char *token;
	size_t strip;  /* leading bytes dropped from event paths (relative watch) */
};

struct xs_hook {                /* pvmm's own watch (xs_hook) */
	char *path;
	xs_hook_fn fn;
	void *ctx;
	int due;                   /* something at or below path changed */
};

/* A transaction works on its own copy of the tree and commits unless a
 * node it read, listed or changed was changed meanwhile (as xenstored's
 * per-node generations say): transactions on unrelated nodes, such as two
 * frontends' directories, do not make each other fail. */
struct xs_tx {
	uint32_t id;   /* 0: free */
	struct xs_tree start; /* the main tree when it started */
	struct xs_tree tree;  /* its own view */
	char **seen;   /* paths it read or listed ... */
	size_t nseen, capseen; /* ... (XS_MAX_SEEN at most: more is a conflict) */
	int overflow;
};

struct xs_store {
	struct vm *vm;
	struct xs_tree tree;
	struct xs_watch watch[XS_MAX_WATCHES];
	unsigned nwatch;
	struct xs_tx tx[XS_MAX_TX];
	uint32_t next_tx;
	char home[32];                 /* /local/domain/DOMID */
	uint32_t req_cons, rsp_prod;   /* the ring indices pvmm owns */
	uint8_t in[HDR + XENSTORE_PAYLOAD_MAX + 1]; /* the request being read */
	size_t in_have;
	char *out;                     /* replies not yet in the ring */
	size_t out_len, out_cap;
	int oom;                       /* an allocation failed: end the domain */
	struct xs_hook hook[XS_MAX_HOOKS];
	unsigned nhook;
	int in_hooks;                  /* running them: changes they make wait */
	int in_notify;                 /* serving the ring: replies go at its end */
};

/* ---- the tree -------------------------------------------------------------- */

/* Index of (path) in (t), or where it would go; 1 when present. */
static int tree_find(const struct xs_tree *t, const char *path, size_t *at)
{
	size_t lo = 0, hi = t->count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(t->n[mid].path, path);
		if (!c) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

/* Set (path) to (len) bytes of (val), creating the node; with (keep), an
 * existing node keeps its value. 0, -XEN_ENOSPC or -XEN_ENOMEM. */
static int node_set(struct xs_tree *t, const char *path, const char *val, uint32_t len, int keep)
{
	size_t at, plen = strlen(path);
	int found = tree_find(t, path, &at);
	char *v;

	if (found && keep)
		return 0;
	if (t->bytes - (found ? t->n[at].len : 0) + len + (found ? 0 : plen) > XS_MAX_BYTES ||
	    (!found && t->count == XS_MAX_NODES))
		return -XEN_ENOSPC;
	v = malloc(len + 1u);
	if (!v)
		return -XEN_ENOMEM;
	memcpy(v, val, len);
	v[len] = 0;
	if (found) {
		t->bytes -= t->n[at].len;
		free(t->n[at].value);
	} else {
		char *p = strdup(path);
		if (p && t->count == t->cap) {
			struct xs_node *n = realloc(t->n, (t->cap * 2 + 64) * sizeof(*n));
			if (n)
				t->n = n, t->cap = t->cap * 2 + 64;
		}
		if (!p || t->count == t->cap) {
			free(p), free(v);
			return -XEN_ENOMEM;
		}
		memmove(&t->n[at + 1], &t->n[at], (t->count - at) * sizeof(*t->n));
		t->n[at].path = p;
		t->count++;
		t->bytes += plen;
	}
	t->n[at].value = v;
	t->n[at].len = len;
	t->bytes += len;
	return 0;
}

/* Write (path), creating its missing parents empty, as xenstored does. */
static int tree_write(struct xs_tree *t, const char *path, const char *val, uint32_t len, int keep)
{
	char parent[XENSTORE_ABS_PATH_MAX + 1];
	int rc = 0;

	for (size_t i = 1; path[i] && !rc; i++) {
		if (path[i] != '/')
			continue;
		memcpy(parent, path, i);
		parent[i] = 0;
		rc = node_set(t, parent, "", 0, 1);
	}
	return rc ? rc : node_set(t, path, val, len, keep);
}

static int under(const char *dir, const char *path) /* path is dir or below it */
{
	size_t n = strlen(dir);

	return !strcmp(dir, "/") || (!strncmp(dir, path, n) && (path[n] == 0 || path[n] == '/'));
}

static void node_free(struct xs_tree *t, size_t i)
{
	t->bytes -= strlen(t->n[i].path) + t->n[i].len;
	free(t->n[i].path);
	free(t->n[i].value);
}

/* Remove (path) and everything below it (one run of the sorted array). */
static int tree_rm(struct xs_tree *t, const char *path)
{
	size_t at, end;

	if (!tree_find(t, path, &at))
		return -XEN_ENOENT;
	for (end = at; end < t->count && under(path, t->n[end].path); end++)
		node_free(t, end);
	memmove(&t->n[at], &t->n[end], (t->count - end) * sizeof(*t->n));
	t->count -= end - at;
	return 0;
}

static void tree_free(struct xs_tree *t)
{
	for (size_t i = 0; i < t->count; i++)
		node_free(t, i);
	free(t->n);
	memset(t, 0, sizeof(*t));
}

static int tree_copy(struct xs_tree *dst, const struct xs_tree *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->count; i++) /* appends: src is sorted */
		if (node_set(dst, src->n[i].path, src->n[i].value, src->n[i].len, 0)) {
			tree_free(dst);
			return -XEN_ENOMEM;
		}
	return 0;
}

/* ---- replies ---------------------------------------------------------------- */

static void out_add(struct xs_store *s, const void *p, size_t n)
{
	if (s->out_len + n > s->out_cap) {
		size_t cap = (s->out_len + n) * 2;
		char *o = realloc(s->out, cap);
		if (!o) {
			s->oom = 1;
			return;
		}
		s->out = o, s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

static void reply(struct xs_store *s, uint32_t type, const struct xsd_sockmsg *req,
		  const void *body, size_t len)
{
	struct xsd_sockmsg h = { type, req ? req->req_id : 0, req ? req->tx_id : 0, (uint32_t)len };

	out_add(s, &h, sizeof(h));
	out_add(s, body, len);
}

static void reply_str(struct xs_store *s, const struct xsd_sockmsg *req, const char *str)
{
	reply(s, req->type, req, str, strlen(str) + 1);
}

static const char *err_name(int rc)
{
	switch (-rc) {
	case XEN_ENOENT: return "ENOENT";
	case XEN_EEXIST: return "EEXIST";
	case XEN_ENOSPC: return "ENOSPC";
	case XEN_E2BIG: return "E2BIG";
	case XEN_EAGAIN: return "EAGAIN";
	case XEN_ENOMEM: return "ENOMEM";
	case XEN_EACCES: return "EACCES";
	case XEN_ENOSYS: return "ENOSYS";
	default: return "EINVAL";
	}
}

static void reply_err(struct xs_store *s, const struct xsd_sockmsg *req, int rc)
{
	const char *e = err_name(rc);

	reply(s, XS_ERROR, req, e, strlen(e) + 1);
}

/* ---- watches ---------------------------------------------------------------- */

static void watch_event(struct xs_store *s, const struct xs_watch *w, const char *path)
{
	const char *shown = w->strip && strlen(path) > w->strip ? path + w->strip : path;
	size_t pl = strlen(shown) + 1, tl = strlen(w->token) + 1;
	char body[XENSTORE_PAYLOAD_MAX];

	if (pl + tl > sizeof(body))
		return; /* no event longer than the protocol allows */
	memcpy(body, shown, pl);
	memcpy(body + pl, w->token, tl);
	reply(s, XS_WATCH_EVENT, NULL, body, pl + tl);
}

/* (path) changed; (removed): it went away, with anything below it. */
static void fire(struct xs_store *s, const char *path, int removed)
{
	for (unsigned i = 0; i < s->nhook; i++)
		if (under(s->hook[i].path, path) || (removed && under(path, s->hook[i].path)))
			s->hook[i].due = 1;
	for (unsigned i = 0; i < s->nwatch; i++) {
		const struct xs_watch *w = &s->watch[i];
		if (w->path[0] == '@')
			continue; /* @introduceDomain, @releaseDomain: no other domains */
		if (under(w->path, path))
			watch_event(s, w, path);
		else if (removed && under(path, w->path))
			watch_event(s, w, w->path);
	}
}

/* Fire for every node that differs between (old) and (new) trees. */
static void fire_diff(struct xs_store *s, const struct xs_tree *old, const struct xs_tree *new)
{
	size_t i = 0, j = 0;

	while (i < old->count || j < new->count) {
		int c = i == old->count ? 1 : j == new->count ? -1
			: strcmp(old->n[i].path, new->n[j].path);
		if (c < 0) {
			fire(s, old->n[i++].path, 1);
		} else if (c > 0) {
			fire(s, new->n[j++].path, 0);
		} else {
			if (old->n[i].len != new->n[j].len ||
			    memcmp(old->n[i].value, new->n[j].value, old->n[i].len))
				fire(s, new->n[j].path, 0);
			i++, j++;
		}
	}
}

/* pvmm's own watches whose paths changed, once each, after the request
 * that changed them was served; changes they make run them again (a
 * bounded number of rounds: hooks that keep changing what they watch stop
 * being called). */
static void run_hooks(struct xs_store *s)
{
	if (s->in_hooks)
		return;
	s->in_hooks = 1;
	for (int round = 0; round < 16 && !s->vm->end; round++) {
		int ran = 0;
		for (unsigned i = 0; i < s->nhook && !s->vm->end; i++)
			if (s->hook[i].due) {
				s->hook[i].due = 0;
				s->hook[i].fn(s->vm, s->hook[i].ctx);
				ran = 1;
			}
		if (!ran)
			break;
	}
	s->in_hooks = 0;
}

/* ---- requests ---------------------------------------------------------------- */

/* The absolute form of (p) in (out): xenstored's rules for node names
 * (alphanumerics and "/_@-", no empty component, no trailing slash).
 * (strip) gets how much to drop to show the path relative again. */
static int canonical(const struct xs_store *s, const char *p, char out[XENSTORE_ABS_PATH_MAX + 1],
		     size_t *strip)
{
	size_t n = strlen(p), h = strlen(s->home);

	if (!n || (p[0] != '/' && n > XENSTORE_REL_PATH_MAX))
		return -XEN_EINVAL;
	if (p[0] == '/') {
		if (n > XENSTORE_ABS_PATH_MAX)
			return -XEN_EINVAL;
		memcpy(out, p, n + 1);
		*strip = 0;
	} else {
		snprintf(out, XENSTORE_ABS_PATH_MAX + 1, "%s/%s", s->home, p);
		*strip = h + 1;
	}
	for (size_t i = 0; out[i]; i++) {
		unsigned char c = (unsigned char)out[i];
		if (!isalnum(c) && !strchr("/_@-", c))
			return -XEN_EINVAL;
		if (c == '/' && (out[i + 1] == '/' || (out[i + 1] == 0 && i > 0)))
			return -XEN_EINVAL;
	}
	return 0;
}

/* The tree a request works on: the main one, or its transaction's copy. */
static struct xs_tree *tree_of(struct xs_store *s, uint32_t tx_id, struct xs_tx **tx)
{
	*tx = NULL;
	if (!tx_id)
		return &s->tree;
	for (unsigned i = 0; i < XS_MAX_TX; i++)
		if (s->tx[i].id == tx_id) {
			*tx = &s->tx[i];
			return &s->tx[i].tree;
		}
	return NULL;
}

/* A change to the main tree outside transactions. */
static void changed(struct xs_store *s, struct xs_tx *tx, const char *path, int removed)
{
	if (tx)
		return; /* watches fire when it commits */
	fire(s, path, removed);
}

static void do_directory(struct xs_store *s, const struct xsd_sockmsg *m, struct xs_tree *t,
			 const char *path)
{
	char prefix[XENSTORE_ABS_PATH_MAX + 2], body[XENSTORE_PAYLOAD_MAX];
	size_t at, len = 0, pl;

	if (!tree_find(t, path, &at)) {
		reply_err(s, m, -XEN_ENOENT);
		return;
	}
	snprintf(prefix, sizeof(prefix), "%s%s", path, strcmp(path, "/") ? "/" : "");
	pl = strlen(prefix);
	tree_find(t, prefix, &at);
	for (; at < t->count && !strncmp(t->n[at].path, prefix, pl); at++) {
		const char *name = t->n[at].path + pl;
		size_t n = strlen(name) + 1;
		if (!*name || strchr(name, '/'))
			continue; /* the root itself, or a grandchild */
		if (len + n > sizeof(body)) {
			reply_err(s, m, -XEN_E2BIG);
			return;
		}
		memcpy(body + len, name, n);
		len += n;
	}
	reply(s, m->type, m, body, len);
}

static void watches_free(struct xs_store *s)
{
	while (s->nwatch) {
		s->nwatch--;
		free(s->watch[s->nwatch].path);
		free(s->watch[s->nwatch].token);
	}
}

/* Whether a watch covers control/shutdown: the toolstack's way in. */
static void note_shutdown_watch(struct xs_store *s)
{
	char node[64];

	snprintf(node, sizeof(node), "%s/control/shutdown", s->home);
	s->vm->shutdown_watched = 0;
	for (unsigned i = 0; i < s->nwatch; i++)
		if (s->watch[i].path[0] != '@' && under(s->watch[i].path, node))
			s->vm->shutdown_watched = 1;
}

static void do_watch(struct xs_store *s, const struct xsd_sockmsg *m, const char *path,
		     size_t strip, const char *token, int add)
{
	unsigned i;

	for (i = 0; i < s->nwatch; i++)
		if (!strcmp(s->watch[i].path, path) && !strcmp(s->watch[i].token, token))
			break;
	if (!add) {
		if (i == s->nwatch) {
			reply_err(s, m, -XEN_ENOENT);
			return;
		}
		free(s->watch[i].path), free(s->watch[i].token);
		s->watch[i] = s->watch[--s->nwatch];
		note_shutdown_watch(s);
		reply_str(s, m, "OK");
		return;
	}
	if (i < s->nwatch || s->nwatch == XS_MAX_WATCHES) {
		reply_err(s, m, i < s->nwatch ? -XEN_EEXIST : -XEN_ENOSPC);
		return;
	}
	struct xs_watch *w = &s->watch[s->nwatch];
	w->path = strdup(path), w->token = strdup(token), w->strip = strip;
	if (!w->path || !w->token) {
		free(w->path), free(w->token);
		reply_err(s, m, -XEN_ENOMEM);
		return;
	}
	s->nwatch++;
	note_shutdown_watch(s);
	reply_str(s, m, "OK");
	watch_event(s, w, path); /* xenstored fires every new watch once */
}

static void tx_free(struct xs_tx *tx)
{
	tree_free(&tx->start);
	tree_free(&tx->tree);
	for (size_t i = 0; i < tx->nseen; i++)
		free(tx->seen[i]);
	free(tx->seen);
	memset(tx, 0, sizeof(*tx));
}

/* A node the transaction read or listed: its commit depends on it. */
static void tx_seen(struct xs_tx *tx, const char *path)
{
	char *p;

	if (!tx || tx->overflow)
		return;
	for (size_t i = 0; i < tx->nseen; i++)
		if (!strcmp(tx->seen[i], path))
			return;
	if (tx->nseen == tx->capseen) {
		char **n = tx->capseen < XS_MAX_SEEN ? realloc(tx->seen, (tx->capseen * 2 + 16) * sizeof(*n))
						      : NULL;
		if (!n) {
			tx->overflow = 1; /* it cannot be checked: its commit fails (EAGAIN) */
			return;
		}
		tx->seen = n, tx->capseen = tx->capseen * 2 + 16;
	}
	if (!(p = strdup(path))) {
		tx->overflow = 1;
		return;
	}
	tx->seen[tx->nseen++] = p;
}

/* (p) is a direct child of (dir). */
static int child_of(const char *dir, const char *p)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return p[0] == '/' && p[1] && !strchr(p + 1, '/');
	return !strncmp(dir, p, n) && p[n] == '/' && !strchr(p + n + 1, '/');
}

/* The next direct child of (dir) in (t) from index (i) on, within the run of
 * nodes below it; t->count when there is none. */
static size_t next_child(const struct xs_tree *t, const char *dir, size_t i)
{
	for (; i < t->count && under(dir, t->n[i].path); i++)
		if (child_of(dir, t->n[i].path))
			return i;
	return t->count;
}

/* Whether (path), its value and its children's names, are the same in
 * (a) and (b). */
static int same_node(const struct xs_tree *a, const struct xs_tree *b, const char *path)
{
	size_t i, j;
	int fa = tree_find(a, path, &i), fb = tree_find(b, path, &j);

	if (fa != fb || (fa && (a->n[i].len != b->n[j].len ||
				memcmp(a->n[i].value, b->n[j].value, a->n[i].len))))
		return 0;
	if (!fa)
		return 1;
	for (i = next_child(a, path, i + 1), j = next_child(b, path, j + 1);
	     i < a->count && j < b->count;
	     i = next_child(a, path, i + 1), j = next_child(b, path, j + 1))
		if (strcmp(a->n[i].path, b->n[j].path))
			return 0;
	return i == a->count && j == b->count;
}

/* Whether the parent of (path) is the same in (a) and (b). */
static int same_parent(const struct xs_tree *a, const struct xs_tree *b, const char *path)
{
	char parent[XENSTORE_ABS_PATH_MAX + 1];
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;

	if (n > XENSTORE_ABS_PATH_MAX)
		return 0;
	memcpy(parent, path, n);
	parent[n] = 0;
	return same_node(a, b, parent);
}

/* Whether the main tree changed a node the transaction depends on: one it
 * read or listed, or one it changed itself. */
static int tx_conflicts(const struct xs_store *s, const struct xs_tx *tx)
{
	const struct xs_tree *a = &tx->start, *b = &tx->tree;
	size_t i = 0, j = 0;

	if (tx->overflow)
		return 1;
	for (size_t k = 0; k < tx->nseen; k++)
		if (!same_node(a, &s->tree, tx->seen[k]))
			return 1;
	while (i < a->count || j < b->count) {
		int c = i == a->count ? 1 : j == b->count ? -1 : strcmp(a->n[i].path, b->n[j].path);
		const char *p = c <= 0 ? a->n[i].path : b->n[j].path;
		int differs = c || a->n[i].len != b->n[j].len ||
			      memcmp(a->n[i].value, b->n[j].value, a->n[i].len);

		if (differs && !same_node(a, &s->tree, p))
			return 1;
		if (c && !same_parent(a, &s->tree, p)) /* created or removed: its parent changed */
			return 1;
		i += c <= 0, j += c >= 0;
	}
	return 0;
}

/* The main tree with the transaction's changes applied, in (out).
 * 0 or a negative Xen errno (nothing changed). */
static int tx_apply(const struct xs_store *s, const struct xs_tx *tx, struct xs_tree *out)
{
	const struct xs_tree *a = &tx->start, *b = &tx->tree;
	size_t i = 0, j = 0;
	int rc = tree_copy(out, &s->tree);

	while (!rc && (i < a->count || j < b->count)) {
		int c = i == a->count ? 1 : j == b->count ? -1 : strcmp(a->n[i].path, b->n[j].path);

		if (c < 0) /* removed (a parent's removal may have taken it already) */
			(void)tree_rm(out, a->n[i].path);
		else if (c > 0 || a->n[i].len != b->n[j].len ||
			 memcmp(a->n[i].value, b->n[j].value, a->n[i].len))
			rc = tree_write(out, b->n[j].path, b->n[j].value, b->n[j].len, 0);
		i += c <= 0, j += c >= 0;
	}
	if (rc)
		tree_free(out);
	return rc;
}

static void do_transaction_start(struct xs_store *s, const struct xsd_sockmsg *m)
{
	char id[16];

	for (unsigned i = 0; i < XS_MAX_TX; i++) {
		struct xs_tx *tx = &s->tx[i];
		if (tx->id)
			continue;
		if (tree_copy(&tx->tree, &s->tree) || tree_copy(&tx->start, &s->tree)) {
			tx_free(tx);
			reply_err(s, m, -XEN_ENOMEM);
			return;
		}
		tx->id = ++s->next_tx ? s->next_tx : ++s->next_tx;
		snprintf(id, sizeof(id), "%u", tx->id);
		reply_str(s, m, id);
		return;
	}
	reply_err(s, m, -XEN_ENOSPC);
}

static void do_transaction_end(struct xs_store *s, const struct xsd_sockmsg *m, struct xs_tx *tx,
			       const char *arg)
{
	int commit = !strcmp(arg, "T"), rc;
	struct xs_tree new;

	if (!tx || (!commit && strcmp(arg, "F"))) {
		reply_err(s, m, tx ? -XEN_EINVAL : -XEN_ENOENT);
		return;
	}
	if (!commit) {
		reply_str(s, m, "OK");
	} else if (tx_conflicts(s, tx)) {
		reply_err(s, m, -XEN_EAGAIN); /* a node it depends on changed under it */
	} else if ((rc = tx_apply(s, tx, &new))) {
		reply_err(s, m, rc);
	} else {
		struct xs_tree old = s->tree;

		reply_str(s, m, "OK");
		fire_diff(s, &old, &new);
		s->tree = new;
		tree_free(&old);
	}
	tx_free(tx);
}

static const char *type_name(uint32_t type)
{
	static const char *const names[XS_TYPE_COUNT] = {
		[XS_CONTROL] = "control", [XS_DIRECTORY] = "directory", [XS_READ] = "read",
		[XS_GET_PERMS] = "get_perms", [XS_WATCH] = "watch", [XS_UNWATCH] = "unwatch",
		[XS_TRANSACTION_START] = "transaction_start",
		[XS_TRANSACTION_END] = "transaction_end", [XS_INTRODUCE] = "introduce",
		[XS_RELEASE] = "release", [XS_GET_DOMAIN_PATH] = "get_domain_path",
		[XS_WRITE] = "write", [XS_MKDIR] = "mkdir", [XS_RM] = "rm",
		[XS_SET_PERMS] = "set_perms", [XS_WATCH_EVENT] = "watch_event", [XS_ERROR] = "error",
		[XS_IS_DOMAIN_INTRODUCED] = "is_domain_introduced", [XS_RESUME] = "resume",
		[XS_SET_TARGET] = "set_target", [XS_RESET_WATCHES] = "reset_watches",
		[XS_DIRECTORY_PART] = "directory_part",
	};
	return type < XS_TYPE_COUNT && names[type] ? names[type] : "unknown";
}

/* --trace=xenstore: the request just served and the start of its reply,
 * NUL separators shown as spaces, at most 200 bytes of either. */
static void trace(struct xs_store *s, const struct xsd_sockmsg *m, const char *body,
		  size_t reply_at)
{
	struct vm *vm = s->vm;
	const struct xsd_sockmsg *h = (const struct xsd_sockmsg *)(s->out + reply_at);
	char path[208], reply[208];
	struct vm_event ev = { .kind = TRACE_XENSTORE, .what = type_name(m->type), .idx = -1,
			       .path = path, .reply = reply, .tx = m->tx_id, .count = m->len };

	if (!(vm->trace_mask & TRACE_XENSTORE) || !vm->trace || s->out_len < reply_at + HDR)
		return;
	snprintf(path, sizeof(path), "%.200s", body);
	size_t n = h->len < 200 && s->out_len >= reply_at + HDR + h->len ? h->len : 0;
	for (size_t i = 0; i < n; i++) {
		char c = s->out[reply_at + HDR + i];
		reply[i] = c == 0 ? ' ' : (unsigned char)c < 0x20 ? '.' : c;
	}
	while (n && reply[n - 1] == ' ')
		n--;
	reply[n] = 0;
	ev.error = h->type == XS_ERROR;
	vm->trace(vm, &ev);
}

/* One request being served: its header, payload and arguments. */
struct xs_req {
	struct xs_store *s;
	const struct xsd_sockmsg *m;
	const char *body;       /* the first argument, NUL-terminated */
	const char *arg1;       /* what follows the first NUL, or NULL */
	uint32_t arg1_len;
	int two;                /* arg1 is a string NUL-terminated in the message */
	struct xs_tx *tx;       /* the request's transaction, or NULL */
	struct xs_tree *t;      /* the tree it works on */
	char path[XENSTORE_ABS_PATH_MAX + 1]; /* body made absolute */
	size_t strip;
};

static void ok(struct xs_req *r) { reply_str(r->s, r->m, "OK"); }
static void fail(struct xs_req *r, int rc) { reply_err(r->s, r->m, rc); }

/* A change made: the reply, then the watch events it causes. */
static void done(struct xs_req *r, int rc)
{
	if (rc) {
		fail(r, rc);
		return;
	}
	ok(r);
	changed(r->s, r->tx, r->path, r->m->type == XS_RM);
}

static void req_read(struct xs_req *r)
{
	size_t at;

	tx_seen(r->tx, r->path);
	if (tree_find(r->t, r->path, &at))
		reply(r->s, r->m->type, r->m, r->t->n[at].value, r->t->n[at].len);
	else
		fail(r, -XEN_ENOENT);
}

static void req_directory(struct xs_req *r)
{
	tx_seen(r->tx, r->path);
	do_directory(r->s, r->m, r->t, r->path);
}

static void req_write(struct xs_req *r)
{
	if (!r->arg1)
		fail(r, -XEN_EINVAL);
	else
		done(r, tree_write(r->t, r->path, r->arg1, r->arg1_len, 0));
}

static void req_mkdir(struct xs_req *r) { done(r, tree_write(r->t, r->path, "", 0, 1)); }

static void req_rm(struct xs_req *r)
{
	done(r, strcmp(r->path, "/") ? tree_rm(r->t, r->path) : -XEN_EINVAL);
}

/* Permissions: the guest owns every node; setting them is accepted and
 * changes nothing (one domain, nothing to enforce). */
static void req_perms(struct xs_req *r)
{
	char perms[16];
	size_t at;

	snprintf(perms, sizeof(perms), "b%u", XS_DOMID);
	if (!tree_find(r->t, r->path, &at))
		fail(r, -XEN_ENOENT);
	else
		reply_str(r->s, r->m, r->m->type == XS_GET_PERMS ? perms : "OK");
}

static void req_watch(struct xs_req *r)
{
	const char *b = r->body;
	int special = b[0] == '@', bad = special ? strcmp(b, "@introduceDomain") &&
							 strcmp(b, "@releaseDomain")
						 : canonical(r->s, b, r->path, &r->strip) != 0;

	if (!r->two || bad)
		fail(r, -XEN_EINVAL);
	else
		do_watch(r->s, r->m, special ? b : r->path, r->strip, r->arg1,
			 r->m->type == XS_WATCH);
}

static void req_reset_watches(struct xs_req *r)
{
	struct xs_store *s = r->s;

	watches_free(s);
	note_shutdown_watch(s);
	ok(r);
}

static void req_domain_path(struct xs_req *r)
{
	const char *d = r->body;

	if (!*d || strlen(d) > 5 || strspn(d, "0123456789") != strlen(d)) {
		fail(r, -XEN_EINVAL);
		return;
	}
	snprintf(r->path, sizeof(r->path), "/local/domain/%s", d);
	reply_str(r->s, r->m, r->path);
}

static void req_tx_start(struct xs_req *r) { do_transaction_start(r->s, r->m); }
static void req_tx_end(struct xs_req *r) { do_transaction_end(r->s, r->m, r->tx, r->body); }

static const struct {
	void (*fn)(struct xs_req *r);
	int path;               /* the first argument is a node: made absolute first */
} requests[XS_TYPE_COUNT] = {
	[XS_READ] = { req_read, 1 }, [XS_DIRECTORY] = { req_directory, 1 },
	[XS_WRITE] = { req_write, 1 }, [XS_MKDIR] = { req_mkdir, 1 }, [XS_RM] = { req_rm, 1 },
	[XS_GET_PERMS] = { req_perms, 1 }, [XS_SET_PERMS] = { req_perms, 1 },
	[XS_WATCH] = { req_watch, 0 }, [XS_UNWATCH] = { req_watch, 0 },
	[XS_RESET_WATCHES] = { req_reset_watches, 0 },
	[XS_GET_DOMAIN_PATH] = { req_domain_path, 0 },
	[XS_TRANSACTION_START] = { req_tx_start, 0 }, [XS_TRANSACTION_END] = { req_tx_end, 0 },
};

/* The requests xenstored serves to a privileged domain only (dom0's
 * toolstack): from this one, EACCES before anything else is looked at. */
static int privileged_request(uint32_t type)
{
	return type == XS_CONTROL || type == XS_INTRODUCE || type == XS_RELEASE ||
	       type == XS_IS_DOMAIN_INTRODUCED || type == XS_RESUME || type == XS_SET_TARGET;
}

static int modifies(uint32_t type)
{
	return type == XS_WRITE || type == XS_MKDIR || type == XS_RM || type == XS_SET_PERMS;
}

/* Serve one complete message: header (m), payload (body) of m->len bytes
 * followed by a NUL pvmm added. */
static void handle(struct xs_store *s, const struct xsd_sockmsg *m, const char *body)
{
	size_t arg0 = strnlen(body, m->len);
	struct xs_req r = { .s = s, .m = m, .body = body };
	int rc;

	if (arg0 < m->len) { /* what follows the first NUL */
		r.arg1 = body + arg0 + 1;
		r.arg1_len = (uint32_t)(m->len - arg0 - 1);
		r.two = strnlen(r.arg1, r.arg1_len) < r.arg1_len;
	}
	if (privileged_request(m->type)) { /* as xenstored, before the transaction */
		reply_err(s, m, -XEN_EACCES);
		return;
	}
	r.t = tree_of(s, m->tx_id, &r.tx);
	if (!r.t) {
		reply_err(s, m, -XEN_ENOENT); /* no such transaction */
		return;
	}
	if (m->type >= XS_TYPE_COUNT || !requests[m->type].fn) {
		reply_err(s, m, -XEN_ENOSYS);
		return;
	}
	if (requests[m->type].path && (rc = canonical(s, body, r.path, &r.strip))) {
		reply_err(s, m, rc);
		return;
	}
	if (modifies(m->type) && under("/local/domain/0", r.path)) {
		reply_err(s, m, -XEN_EACCES); /* domain 0's: the guest may only read it */
		return;
	}
	requests[m->type].fn(&r);
}

/* ---- the ring ----------------------------------------------------------------- */

static void end_domain(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void end_domain(struct vm *vm, const char *fmt, ...)
{
	char msg[sizeof(vm->end_msg) - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm_end_domain(vm, VM_CRASH, "xenstore: %s", msg);
}

static struct xenstore_domain_interface *ring(struct vm *vm)
{
	return (struct xenstore_domain_interface *)mmu_frame_data(vm, vm->lay.store_pfn);
}

/* Move pending replies into the rsp ring, as far as the guest made room. */
static int flush(struct vm *vm, struct xs_store *s, struct xenstore_domain_interface *r)
{
	uint32_t cons = r->rsp_cons, used = s->rsp_prod - cons;
	size_t n;

	if (used > XENSTORE_RING_SIZE) {
		end_domain(vm, "the guest's rsp_cons %u is not within the ring (rsp_prod %u)",
			   cons, s->rsp_prod);
		return 0;
	}
	n = XENSTORE_RING_SIZE - used;
	if (n > s->out_len)
		n = s->out_len;
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		r->rsp[(s->rsp_prod + i) % XENSTORE_RING_SIZE] = s->out[i];
	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
	s->rsp_prod += (uint32_t)n;
	r->rsp_prod = s->rsp_prod;
	return n > 0;
}

/* Read what the guest wrote into the req ring, serving each message as it
 * completes (one longer than the ring arrives in pieces). */
static int take(struct vm *vm, struct xs_store *s, struct xenstore_domain_interface *r)
{
	uint32_t prod = r->req_prod, avail = prod - s->req_cons;
	const struct xsd_sockmsg *m = (const struct xsd_sockmsg *)s->in;
	int moved = 0;

	if (avail > XENSTORE_RING_SIZE) {
		end_domain(vm, "the guest's req_prod %u is not within the ring (req_cons %u)", prod,
			   s->req_cons);
		return 0;
	}
	while (!vm->end) {
		size_t need;

		if (s->in_have >= HDR && m->len > XENSTORE_PAYLOAD_MAX) {
			end_domain(vm, "a message of %u bytes (type %u); the protocol allows %d",
				   m->len, m->type, XENSTORE_PAYLOAD_MAX);
			break;
		}
		need = s->in_have < HDR ? HDR : HDR + m->len;
		while (avail && s->in_have < need) {
			s->in[s->in_have++] = (uint8_t)r->req[s->req_cons++ % XENSTORE_RING_SIZE];
			avail--, moved = 1;
		}
		if (s->in_have < need)
			break;
		if (need == HDR && m->len)
			continue; /* the header is in: now its payload */
		size_t reply_at = s->out_len;
		s->in[s->in_have] = 0;
		handle(s, m, (const char *)s->in + HDR);
		trace(s, m, (const char *)s->in + HDR, reply_at);
		s->in_have = 0;
		run_hooks(s);
	}
	r->req_cons = s->req_cons;
	return moved;
}

void xs_notify(struct vm *vm)
{
	struct xs_store *s = vm->xs;
	struct xenstore_domain_interface *r;
	int moved;

	if (!s)
		return;
	r = ring(vm);
	s->in_notify = 1;
	moved = flush(vm, s, r);
	if (!vm->end)
		moved |= take(vm, s, r);
	if (!vm->end)
		moved |= flush(vm, s, r);
	if (!vm->end && s->oom)
		end_domain(vm, "out of memory");
	if (!vm->end && s->out_len > XS_OUT_MAX)
		end_domain(vm, "%zu bytes of replies wait for a guest that does not read them",
			   s->out_len);
	s->in_notify = 0;
	if (moved && !vm->end)
		hc_raise(vm, XS_PORT);
}

/* After a change pvmm made: the watches it fired reach the guest now,
 * unless the ring is being served (they go at the end of that). */
static void deliver(struct vm *vm, struct xs_store *s)
{
	run_hooks(s);
	if (s->in_notify || vm->end)
		return;
	if (s->oom) {
		end_domain(vm, "out of memory");
		return;
	}
	if (flush(vm, s, ring(vm)) && !vm->end)
		hc_raise(vm, XS_PORT);
}

int xs_write(struct vm *vm, const char *path, const char *val)
{
	struct xs_store *s = vm->xs;
	char abs[XENSTORE_ABS_PATH_MAX + 1];
	size_t strip;
	int rc;

	if (!s)
		return -XEN_ENOENT;
	if ((rc = canonical(s, path, abs, &strip)) ||
	    (rc = tree_write(&s->tree, abs, val, (uint32_t)strlen(val), 0)))
		return rc;
	changed(s, NULL, abs, 0);
	deliver(vm, s);
	return 0;
}

int xs_hook(struct vm *vm, const char *path, xs_hook_fn fn, void *ctx)
{
	struct xs_store *s = vm->xs;
	char abs[XENSTORE_ABS_PATH_MAX + 1];
	size_t strip;

	if (!s || canonical(s, path, abs, &strip))
		return -XEN_EINVAL;
	if (s->nhook == XS_MAX_HOOKS)
		return -XEN_ENOSPC;
	if (!(s->hook[s->nhook].path = strdup(abs)))
		return -XEN_ENOMEM;
	s->hook[s->nhook].fn = fn;
	s->hook[s->nhook].ctx = ctx;
	s->hook[s->nhook].due = 0;
	s->nhook++;
	return 0;
}

void xs_request_shutdown(struct vm *vm, const char *reason)
{
	struct xs_store *s = vm->xs;
	char node[64];

	if (!s)
		return;
	snprintf(node, sizeof(node), "%s/control/shutdown", s->home);
	if (tree_write(&s->tree, node, reason, (uint32_t)strlen(reason), 0)) {
		end_domain(vm, "out of room for control/shutdown");
		return;
	}
	changed(s, NULL, node, 0);
	flush(vm, s, ring(vm)); /* what does not fit goes when the guest reads */
	if (!vm->end)
		hc_raise(vm, XS_PORT);
}

/* ---- the store ------------------------------------------------------------------ */

static int seed(struct xs_store *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int seed(struct xs_store *s, const char *key, const char *fmt, ...)
{
	char path[XENSTORE_ABS_PATH_MAX + 1], val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s%s%s", key[0] == '/' ? "" : s->home, key[0] ? "/" : "",
		 key[0] == '/' ? key + 1 : key);
	return tree_write(&s->tree, path, val, (uint32_t)strlen(val), 0);
}

static void xs_port_notified(struct vm *vm, void *ctx)
{
	(void)ctx;
	xs_notify(vm);
}

static const struct vm_backend xs_backend = { "xenstore", xs_port_notified, NULL };

int xs_init(struct vm *vm, const char *name)
{
	struct xs_store *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -XEN_ENOMEM;
	vm->xs = s;
	s->vm = vm;
	snprintf(s->home, sizeof(s->home), "/local/domain/%u", XS_DOMID);
	rc = node_set(&s->tree, "/", "", 0, 0);
	if (!rc)
		rc = seed(s, "", "%s", "");
	if (!rc)
		rc = seed(s, "domid", "%u", XS_DOMID);
	if (!rc)
		rc = seed(s, "name", "%s", name);
	if (!rc)
		rc = seed(s, "memory/target", "%llu", (unsigned long long)vm->nr_pages * 4);
	if (!rc)
		rc = seed(s, "memory/static-max", "%llu", (unsigned long long)vm->nr_pages * 4);
	if (!rc)
		rc = seed(s, "store/ring-ref", "%llu", (unsigned long long)vm->lay.store_pfn);
	if (!rc)
		rc = seed(s, "store/port", "%u", XS_PORT);
	if (!rc)
		rc = seed(s, "console/ring-ref", "%llu", (unsigned long long)vm->lay.console_pfn);
	if (!rc)
		rc = seed(s, "console/port", "%u", LOADER_CONSOLE_EVTCHN);
	if (!rc)
		rc = seed(s, "console/type", "%s", "xenconsoled");
	if (!rc)
		rc = seed(s, "device", "%s", "");
	if (!rc)
		rc = seed(s, "control", "%s", "");
	if (!rc)
		rc = seed(s, "data", "%s", "");
	if (!rc)
		rc = seed(s, "/local/domain/0/name", "%s", "Domain-0");
	if (!rc)
		rc = hc_bind_backend(vm, XS_PORT, &xs_backend, NULL);
	if (rc)
		xs_free(vm);
	return rc;
}

void xs_free(struct vm *vm)
{
	struct xs_store *s = vm->xs;

	if (!s)
		return;
	tree_free(&s->tree);
	for (unsigned i = 0; i < XS_MAX_TX; i++)
		tx_free(&s->tx[i]);
	watches_free(s);
	for (unsigned i = 0; i < s->nhook; i++)
		free(s->hook[i].path);
	free(s->out);
	free(s);
	vm->xs = NULL;
}

long xs_read(const struct vm *vm, const char *path, char *buf, size_t len)
{
	const struct xs_store *s = vm->xs;
	size_t at;

	if (!s || !tree_find(&s->tree, path, &at))
		return -1;
	memcpy(buf, s->tree.n[at].value, len < s->tree.n[at].len ? len : s->tree.n[at].len);
	return (long)s->tree.n[at].len;
}
