/*
 * hypercalls - Xen hypercall dispatch for a 64-bit PV guest.
 *
 * hc_dispatch() takes the hypercall in the vCPU's registers (number in rax,
 * arguments in rdi, rsi, rdx, r10, r8), runs it and writes the result, a
 * value or a negative Xen errno, to rax. Unknown numbers are -ENOSYS. Guest
 * pointers are only ever read or written through mmu_copy_*_guest. After a
 * hypercall that changed page tables, the host-mapping operations that
 * bring the guest process in line are emitted through vm->mmu.emit before
 * hc_dispatch returns. A hypercall that ends the domain sets vm->end (a
 * failed host sync sets VM_HOST_ERROR); nothing here exits.
 */
#ifndef PVMM_HC_H
#define PVMM_HC_H

#include <stdint.h>

#include "vm.h"

#define PVMM_XEN_MAJOR 4
#define PVMM_XEN_MINOR 19

void hc_dispatch(struct vm *vm);

/* The XENFEAT_* bits pvmm implements, word (idx) of the feature map. */
uint32_t hc_features(unsigned idx);

/* Name of hypercall (nr), or NULL when pvmm does not know it. */
const char *hc_name(unsigned nr);

/* One handler: five arguments in, result out. */
typedef int64_t (*hc_fn)(struct vm *vm, const uint64_t a[5]);

/* Handlers, by file: console.c, sched.c, version.c, mm.c. */
int64_t hc_console_io(struct vm *vm, const uint64_t a[5]);
int64_t hc_sched_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_sched_op_compat(struct vm *vm, const uint64_t a[5]);
int64_t hc_xen_version(struct vm *vm, const uint64_t a[5]);
int64_t hc_vm_assist(struct vm *vm, const uint64_t a[5]);
int64_t hc_mmu_update(struct vm *vm, const uint64_t a[5]);
int64_t hc_mmuext_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_update_va_mapping(struct vm *vm, const uint64_t a[5]);
int64_t hc_update_va_mapping_otherdomain(struct vm *vm, const uint64_t a[5]);

#endif
