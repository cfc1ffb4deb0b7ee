/* fixture.c - see fixture.h */
#include "fixture.h"
#include "guest-loader/loader.h"
#include "mmu/mmu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
	struct vm vm;
	char *console_buf;
	size_t console_len;
	uint8_t *file;
};

uint8_t *fixture_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "fixture: cannot read %s (run from the top of the tree)\n", path);
		abort();
	}
	buf = calloc(1, (size_t)n + 4096);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct vm *fixture_vm(void)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct vm *vm = &fx->vm;
	char why[LOADER_WHY];
	size_t len;

	fx->file = fixture_read(FIXTURE_GUEST, &len);
	vm_init(vm);
	vm->nr_pages = FIXTURE_PAGES;
	vm->nr_frames = FIXTURE_PAGES + LOADER_EXTRA_FRAMES;
	vm->mem = calloc(vm->nr_frames, 4096);
	vm->min_va = FIXTURE_MIN_VA;
	vm->console = open_memstream(&fx->console_buf, &fx->console_len);
	if (loader_parse(fx->file, len, FIXTURE_MIN_VA, HOLE_BASE, &vm->img, why) ||
	    loader_build(&vm->img, vm->mem, vm->nr_pages, "fixture", &vm->lay, why)) {
		fprintf(stderr, "fixture: %s\n", why);
		abort();
	}
	if (mmu_init(vm) || mmu_defer_p2m(vm) || mmu_adopt_bootstrap(vm, _mfn(vm->lay.pt_first_pfn))) {
		fprintf(stderr, "fixture: bootstrap tables refused\n");
		abort();
	}
	vm->mmu.dirty_all = 0; /* the fixture has no host to sync */
	return vm;
}

int fixture_collect(void *ctx, const struct stub_op *op)
{
	struct fixture_ops *o = ctx;

	if (o->n == FIXTURE_MAX_OPS) {
		fprintf(stderr, "fixture: more than %d host operations\n", FIXTURE_MAX_OPS);
		abort();
	}
	o->op[o->n++] = *op;
	return 0;
}

const char *fixture_console(struct vm *vm)
{
	struct fixture *fx = (struct fixture *)vm;

	fflush(vm->console);
	return fx->console_buf ? fx->console_buf : "";
}

void fixture_free(struct vm *vm)
{
	struct fixture *fx = (struct fixture *)vm;

	fclose(vm->console);
	mmu_free(vm);
	free(fx->console_buf);
	free(vm->mem);
	free(fx->file);
	free(fx);
}
