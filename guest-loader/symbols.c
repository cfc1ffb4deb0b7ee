/* symbols.c - the guest image's code symbols, for traces. */
#include "guest-loader/loader.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_addr(const void *a, const void *b)
{
	const struct loader_symbol *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int add(struct loader_symtab *t, const char *name, uint64_t addr, uint64_t size)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct loader_symbol *s = realloc(t->sym, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		t->sym = s, t->cap = cap;
	}
	t->sym[t->n].addr = addr;
	t->sym[t->n].size = size;
	snprintf(t->sym[t->n].name, sizeof(t->sym[t->n].name), "%s", name);
	t->n++;
	return 0;
}

static int read_table(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct loader_symtab *t)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	GElf_Sym sym;

	for (size_t i = 0; d && i < n; i++) {
		const char *name;
		/* functions, and the untyped labels assembly code leaves */
		if (!gelf_getsym(d, (int)i, &sym) || !sym.st_value || sym.st_shndx == SHN_ABS ||
		    (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_NOTYPE))
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (name && *name && strncmp(name, ".L", 2) && add(t, name, sym.st_value, sym.st_size))
			return -ENOMEM;
	}
	return 0;
}

int loader_symbols(const void *file, size_t size, struct loader_symtab *t)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)file, size);
	if (!elf)
		return 0; /* no symbols is not an error */
	while (!rc && (scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			rc = read_table(elf, scn, &sh, t);
	elf_end(elf);
	if (t->n)
		qsort(t->sym, t->n, sizeof(*t->sym), by_addr);
	return rc;
}

const char *loader_symbolise(const struct loader_symtab *t, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) { /* the last symbol at or below addr */
		size_t mid = (lo + hi) / 2;
		if (t->sym[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || (t->sym[lo - 1].size && addr >= t->sym[lo - 1].addr + t->sym[lo - 1].size)) {
		snprintf(buf, len, "%#llx", (unsigned long long)addr);
		return buf;
	}
	snprintf(buf, len, "%s+%#llx", t->sym[lo - 1].name,
		 (unsigned long long)(addr - t->sym[lo - 1].addr));
	return buf;
}

void loader_symbols_free(struct loader_symtab *t)
{
	free(t->sym);
	memset(t, 0, sizeof(*t));
}
