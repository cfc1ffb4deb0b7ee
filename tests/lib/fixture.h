/*
 * fixture.h - a guest domain built in plain memory for unit tests: the real
 * loader and builder run on the hello sample guest of the build directory
 * the tests were built for (FIXTURE_GUEST, set by tests/tests.mk), no
 * process is started.
 */
#ifndef PVMM_TEST_FIXTURE_H
#define PVMM_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#ifndef FIXTURE_GUEST
#define FIXTURE_GUEST "build/guests/hello.elf"
#endif
#define FIXTURE_PAGES 4096u /* 16 MiB */
#define FIXTURE_MIN_VA 0x10000ull

/* Read a whole file into a buffer with 4 KiB of spare room; aborts on error. */
uint8_t *fixture_read(const char *path, size_t *len);

/* Build a vm from the sample guest; console output goes to a memory stream
 * readable through fixture_console(). */
struct vm *fixture_vm(void);
const char *fixture_console(struct vm *vm);
void fixture_free(struct vm *vm);

/* Collects the host operations an MMU function emits (an mmu_emit_fn). */
#define FIXTURE_MAX_OPS 64
struct fixture_ops {
	struct stub_op op[FIXTURE_MAX_OPS];
	unsigned n;
};
int fixture_collect(void *ctx, const struct stub_op *op);

#endif
