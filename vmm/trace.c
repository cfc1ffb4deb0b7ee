/* trace.c - --trace: one line per event, as text for people or JSON lines
 * for tools (field names are documented in docs/trace.md). Nothing here
 * runs unless its category is on. */
#include "vmm/vmm.h"
#include "mmu/emulate.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *name; uint32_t mask; } categories[] = {
	{ "pt", TRACE_PT }, { "hypercall", TRACE_HYPERCALL }, { "fault", TRACE_FAULT },
	{ "event", TRACE_EVENT }, { "xenstore", TRACE_XENSTORE }, { "blk", TRACE_BLK },
	{ "all", TRACE_PT | TRACE_HYPERCALL | TRACE_FAULT | TRACE_EVENT | TRACE_XENSTORE | TRACE_BLK },
};

int vmm_trace_parse(const char *spec, uint32_t *mask)
{
	char buf[256], *save = NULL;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	*mask = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;
		for (i = 0; i < sizeof(categories) / sizeof(*categories); i++)
			if (!strcmp(tok, categories[i].name))
				break;
		if (i == sizeof(categories) / sizeof(*categories))
			return -1;
		*mask |= categories[i].mask;
	}
	return *mask ? 0 : -1;
}

/* "0x1234 P RW US A D NX": the frame, then the flags set */
void vmm_format_pte(uint64_t e, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } bits[] = {
		{ PTE_P, "P" }, { PTE_RW, "RW" }, { PTE_US, "US" }, { PTE_PWT, "PWT" },
		{ PTE_PCD, "PCD" }, { PTE_A, "A" }, { PTE_D, "D" }, { PTE_PSE, "PSE" },
		{ PTE_G, "G" }, { PTE_NX, "NX" },
	};
	size_t n = (size_t)snprintf(buf, len, "0x%llx", (unsigned long long)(e & PTE_ADDR_MASK) >> 12);

	for (unsigned i = 0; i < sizeof(bits) / sizeof(*bits) && n < len; i++)
		if (e & bits[i].bit)
			n += (size_t)snprintf(buf + n, len - n, " %s", bits[i].name);
	if (!(e & PTE_P) && n < len)
		snprintf(buf + n, len - n, " (not present)");
}

/* One line being written: text "key=value" pairs or a JSON object. */
struct line {
	FILE *f;
	int json, first;
};

static void begin(struct vm *vm, struct line *l, const char *kind, const char *what)
{
	struct vmm *v = vmm_of(vm);
	l->f = v->trace_out;
	l->json = v->trace_json;
	l->first = 1;
	if (l->json)
		fprintf(l->f, "{\"kind\":\"%s\",\"what\":\"%s\"", kind, what);
	else
		fprintf(l->f, "%s %-8s", kind, what);
}

static void str(struct line *l, const char *key, const char *v)
{
	if (!l->json) {
		fprintf(l->f, strchr(v, ' ') ? " %s=\"%s\"" : " %s=%s", key, v);
		return;
	}
	fprintf(l->f, ",\"%s\":\"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', l->f);
		if ((unsigned char)*v >= 0x20)
			fputc(*v, l->f);
	}
	fputc('"', l->f);
}

static void hex(struct line *l, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v);
	str(l, key, b);
}

static void num(struct line *l, const char *key, long long v)
{
	fprintf(l->f, l->json ? ",\"%s\":%lld" : " %s=%lld", key, v);
}

static void end(struct line *l)
{
	fputs(l->json ? "}\n" : "\n", l->f);
}

/* The text of the instruction at (rip) into (buf), "" when unreadable. */
static void insn_text(struct vm *vm, uint64_t rip, char *buf, size_t len)
{
	uint8_t bytes[15];
	size_t n = mmu_fetch_insn(vm, rip, bytes);

	if (!n || !mmu_disassemble(bytes, n, rip, vcpu_compat(&vm->vcpu), buf, len))
		buf[0] = 0;
}

/* A guest rip, its symbol and its instruction's text (none when empty). */
static void where_at(struct vm *vm, struct line *l, uint64_t rip, const char *insn)
{
	char sym[96];

	hex(l, "rip", rip);
	str(l, "sym", loader_symbolise(&vmm_of(vm)->syms, rip, sym, sizeof(sym)));
	if (insn[0])
		str(l, "insn", insn);
}

/* The guest's rip now and (when none is given) the instruction there. */
static void where(struct vm *vm, struct line *l, const char *insn)
{
	char text[96];

	if (!insn)
		insn_text(vm, vm->vcpu.regs.rip, text, sizeof(text));
	where_at(vm, l, vm->vcpu.regs.rip, insn ? insn : text);
}

void vmm_trace_trap(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);

	v->trace_rip = vm->vcpu.regs.rip;
	insn_text(vm, v->trace_rip, v->trace_insn, sizeof(v->trace_insn));
}

static void pte(struct line *l, const char *key, uint64_t e)
{
	char k[16], flags[96];

	hex(l, key, e);
	vmm_format_pte(e, flags, sizeof(flags));
	snprintf(k, sizeof(k), "%s_flags", key);
	str(l, k, flags);
}

static void trace_xenstore(struct vm *vm, const struct vm_event *ev)
{
	struct line l;

	begin(vm, &l, "xenstore", ev->what);
	str(&l, "path", ev->path);
	num(&l, "tx", ev->tx);
	str(&l, ev->error ? "error" : "reply", ev->reply);
	end(&l);
}

/* blkif's status as a word */
static const char *blk_status(int st)
{
	return st == BLKIF_RSP_OKAY ? "ok" : st == BLKIF_RSP_EOPNOTSUPP ? "unsupported" : "error";
}

static void trace_blk(struct vm *vm, const struct vm_event *ev)
{
	struct line l;

	begin(vm, &l, "blk", ev->what);
	num(&l, "dev", ev->dev);
	num(&l, "sector", (long long)ev->sector);
	num(&l, "sectors", (long long)ev->count);
	str(&l, "status", blk_status(ev->error));
	end(&l);
}

void vmm_trace_event(struct vm *vm, const struct vm_event *ev)
{
	struct vmm *v = vmm_of(vm);
	struct line l;

	if (ev->kind == TRACE_XENSTORE || ev->kind == TRACE_BLK) {
		if (v->trace_print & ev->kind)
			(ev->kind == TRACE_XENSTORE ? trace_xenstore : trace_blk)(vm, ev);
		return;
	}
	if (ev->kind != TRACE_PT || !(v->trace_print & TRACE_PT))
		return;
	begin(vm, &l, "pt", ev->what);
	where(vm, &l, ev->insn);
	hex(&l, "addr", ev->addr);
	hex(&l, "l1", ev->mfn);
	if (ev->idx >= 0) {
		num(&l, "index", ev->idx);
		pte(&l, "old", ev->old);
		pte(&l, "new", ev->val);
	}
	if (!strcmp(ev->what, "resync"))
		num(&l, "changed", (long long)ev->count);
	if (ev->why) {
		str(&l, "why", vm_why_code(ev->why));
		str(&l, "reason", vm_why_text(ev->why));
	}
	end(&l);
}

void vmm_trace_hypercall(struct vm *vm, const struct stub_regs *in, int64_t result)
{
	const char *name = hc_name((unsigned)(in->rax < XEN_HC_COUNT ? in->rax : XEN_HC_COUNT));
	struct line l;
	char nr[24];

	snprintf(nr, sizeof(nr), "hypercall_%llu", (unsigned long long)in->rax);
	begin(vm, &l, "hypercall", name ? name : nr);
	hex(&l, "rip", in->rip);
	hex(&l, "a1", in->rdi), hex(&l, "a2", in->rsi), hex(&l, "a3", in->rdx);
	hex(&l, "a4", in->r10), hex(&l, "a5", in->r8);
	num(&l, "result", result);
	end(&l);
}

void vmm_trace_fault(struct vm *vm, const struct stub_trap *t, uint64_t err, enum vm_why outcome)
{
	struct line l;

	begin(vm, &l, "fault", t->signo == 11 ? "segv" : t->signo == 5 ? "trap" : t->signo == 4 ? "ill"
			       : t->signo == 8 ? "fpe" : t->signo == 10 ? "interrupt" : "signal");
	where_at(vm, &l, vmm_of(vm)->trace_rip, vmm_of(vm)->trace_insn); /* the one that trapped */
	num(&l, "vector", (long long)t->trapno);
	hex(&l, "addr", t->addr);
	hex(&l, "error", err);
	str(&l, "why", vm_why_code(outcome));
	str(&l, "outcome", vm_why_text(outcome));
	end(&l);
}

void vmm_trace_upcall(struct vm *vm)
{
	struct line l;

	begin(vm, &l, "event", "upcall");
	where(vm, &l, NULL);
	end(&l);
}

void vmm_trace_lowexec(struct vm *vm, uint64_t rip, int step, const char *how, uint64_t blocks,
		       uint64_t ns)
{
	struct line l;

	begin(vm, &l, "fault", step ? "lowstep" : "lowexec");
	where_at(vm, &l, rip, "");
	hex(&l, "to", vm->vcpu.regs.rip);
	str(&l, "end", how);
	num(&l, "blocks", (long long)blocks);
	num(&l, "ns", (long long)ns);
	end(&l);
}
