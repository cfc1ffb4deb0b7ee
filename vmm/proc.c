/* proc.c - guest memory file and the sandboxed guest process. */
#include "vmm/vmm.h"
#include "mmu/mmu.h"

#include <errno.h>
#include <cpuid.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096ull

extern const unsigned char pvmm_stub_image[], pvmm_stub_image_end[];

static int fail(struct vm *vm, int err, const char *what)
{
	snprintf(vm->end_msg, sizeof(vm->end_msg), "%s: %s", what, strerror(err));
	return -err;
}

int vmm_mem_create(struct vm *vm, uint64_t nr_pages)
{
	uint64_t frames = nr_pages + LOADER_EXTRA_FRAMES;
	void *p;

	vm->memfd = memfd_create("pvmm-guest-memory", MFD_CLOEXEC);
	if (vm->memfd < 0)
		return fail(vm, errno, "memfd_create for guest memory");
	if (ftruncate(vm->memfd, (off_t)(frames * PAGE)))
		return fail(vm, errno, "sizing guest memory");
	p = mmap(NULL, frames * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 vm->memfd, 0);
	if (p == MAP_FAILED)
		return fail(vm, errno, "mapping guest memory");
	vm->mem = p;
	vm->nr_pages = nr_pages;
	vm->nr_frames = frames;
	return mmu_init(vm) ? fail(vm, ENOMEM, "allocating the frame table") : 0;
}

void vmm_mem_destroy(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	mmu_free(vm);
	if (vm->mem)
		munmap(vm->mem, vm->nr_frames * PAGE);
	if (vm->memfd >= 0)
		close(vm->memfd);
	if (v->ctrl)
		munmap(v->ctrl, CTRL_SIZE);
	if (v->ctrlfd >= 0)
		close(v->ctrlfd);
	if (v->fpufd >= 0)
		close(v->fpufd);
	if (v->wake)
		munmap(v->wake, STUB_WAKE_SIZE);
	vm->mem = NULL, v->ctrl = NULL, v->wake = NULL, vm->memfd = v->ctrlfd = v->fpufd = -1;
}

/* Mapping operations the stub may perform: MAP_SHARED|MAP_FIXED of the
 * guest memory file only, starting in the guest half. One rule per system
 * call: libseccomp 2.5 merges several range rules on one argument wrongly.
 * These address checks keep honest operations honest; isolation rests on
 * the system calls and the descriptor allowed, not on them. */
static struct scmp_arg_cmp arg(unsigned n, enum scmp_compare op, uint64_t a, uint64_t b)
{
	struct scmp_arg_cmp c = { .arg = n, .op = op, .datum_a = a, .datum_b = b };
	return c;
}

static int allow_mapping_ops(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp addr = arg(0, SCMP_CMP_LE, HOLE_BASE - 4096, 0);
	struct scmp_arg_cmp len = arg(1, SCMP_CMP_LE, HOLE_BASE, 0);
	struct scmp_arg_cmp prot = arg(2, SCMP_CMP_MASKED_EQ, ~7ull, 0);
	int rc;

	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 5, addr, len, prot,
			      arg(3, SCMP_CMP_EQ, MAP_SHARED | MAP_FIXED, 0),
			      arg(4, SCMP_CMP_EQ, STUB_GUEST_FD, 0));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 3, addr, len, prot);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(munmap), 2, addr, len);
	return rc;
}

/* The stub's whole allowlist. Guest `syscall`s never reach it: syscall user
 * dispatch turns them into SIGSYS first. Anything else kills the process. */
static int build_filter(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc, fd = -1;
	ssize_t n;

	if (!ctx)
		return fail(vm, ENOMEM, "seccomp_init");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!rc)
		rc = allow_mapping_ops(ctx);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigreturn), 0);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 0);
	if (!rc) /* ARCH_SET_GS 0x1001, ARCH_SET_FS 0x1002 (and ARCH_GET_FS 0x1003) */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(arch_prctl), 1,
				      arg(0, SCMP_CMP_MASKED_EQ, ~3ull, 0x1000));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0);
	if (!rc && (fd = memfd_create("pvmm-filter", MFD_CLOEXEC)) < 0)
		rc = -errno;
	if (!rc)
		rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return fail(vm, -rc, "building the seccomp filter");
	}
	n = pread(fd, v->ctrl->filter, sizeof(v->ctrl->filter), 0);
	close(fd);
	if (n <= 0 || n % sizeof(struct sock_filter_insn) || n == sizeof(v->ctrl->filter))
		return fail(vm, E2BIG, "exporting the seccomp filter");
	v->ctrl->filter_len = (uint32_t)(n / sizeof(struct sock_filter_insn));
	return 0;
}

static int make_ctrl(struct vm *vm, int traced)
{
	struct vmm *v = vmm_of(vm);
	v->ctrlfd = memfd_create("pvmm-control", MFD_CLOEXEC);
	if (v->ctrlfd < 0)
		return fail(vm, errno, "memfd_create for the control page");
	if (ftruncate(v->ctrlfd, CTRL_SIZE))
		return fail(vm, errno, "sizing the control page");
	v->ctrl = mmap(NULL, CTRL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->ctrlfd, 0);
	if (v->ctrl == MAP_FAILED) {
		v->ctrl = NULL;
		return fail(vm, errno, "mapping the control page");
	}
	v->ctrl->magic = STUB_MAGIC;
	v->ctrl->transport = traced ? STUB_TRANSPORT_PTRACE : STUB_TRANSPORT_FUTEX;
	v->ctrl->spin = v->spin;
	v->ctrl->space = v->proc_cur;
	v->ctrl->fpu_mask = v->fpu_mask;
	v->ctrl->fpu_size = v->fpu_size;
	v->ctrl->fpu_nr = ~0u;
	return build_filter(vm);
}

/* The XSAVE components a guest's FPU state carries between processes: x87,
 * SSE, AVX, AVX-512 and PKRU where the kernel enabled them (XCR0), not
 * AMX's tiles (which need a permission the stub never asks for) nor MPX;
 * and the bytes of XSAVE's standard format they take. FXSAVE's 512 bytes
 * without XSAVE. */
#define FPU_COMPONENTS 0x2e7ull

static void fpu_layout(uint64_t *mask, uint32_t *size)
{
	unsigned a, b, c, d;
	uint64_t xcr0;

	*mask = 0, *size = 512;
	__cpuid_count(1, 0, a, b, c, d);
	if (!(c & bit_OSXSAVE))
		return;
	__asm__("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	xcr0 = (uint64_t)d << 32 | a;
	*mask = xcr0 & FPU_COMPONENTS;
	*size = 512 + 64;
	for (unsigned i = 2; i < 64; i++) {
		if (!(*mask >> i & 1))
			continue;
		__cpuid_count(0xd, i, a, b, c, d); /* eax: size, ebx: offset */
		if (a + b > *size)
			*size = a + b;
	}
}

/* The FPU area all of the domain's processes share (stub_abi.h). */
static int make_fpu_area(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);

	if (v->fpufd >= 0)
		return 0;
	fpu_layout(&v->fpu_mask, &v->fpu_size);
	if (v->fpu_size > STUB_FPU_SIZE)
		v->fpu_mask = 0, v->fpu_size = 512; /* components pvmm does not know of */
	v->fpufd = memfd_create("pvmm-fpu", MFD_CLOEXEC);
	if (v->fpufd < 0)
		return fail(vm, errno, "memfd_create for the FPU area");
	if (ftruncate(v->fpufd, STUB_FPU_SIZE + STUB_WAKE_SIZE))
		return fail(vm, errno, "sizing the FPU area");
	v->wake = mmap(NULL, STUB_WAKE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->fpufd, STUB_FPU_SIZE);
	if (v->wake == MAP_FAILED) {
		v->wake = NULL;
		return fail(vm, errno, "mapping the wake words");
	}
	return 0;
}

static int make_stub_fd(struct vm *vm)
{
	size_t len = (size_t)(pvmm_stub_image_end - pvmm_stub_image);
	int fd = memfd_create("pvmm-stub", MFD_CLOEXEC);

	if (fd < 0)
		return fail(vm, errno, "memfd_create for the stub");
	if (write(fd, pvmm_stub_image, len) != (ssize_t)len) {
		close(fd);
		return fail(vm, EIO, "writing the stub image");
	}
	return fd;
}

/* The guest process holds no capability, but CAP_SYS_RAWIO when its domain
 * maps below vm.mmap_min_addr (vm->min_va 0, only where pvmm itself could:
 * main.c). Root keeps after exec what its bounding and inheritable sets
 * hold, so both lose the rest; anyone else keeps only ambient ones. (Root
 * without CAP_SETPCAP cannot shrink its bounding set: its stub gets those
 * back, as before this existed; the seccomp filter confines it all the
 * same.) */
static int drop_caps(int keep_rawio)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint32_t keep = keep_rawio ? 1u << CAP_SYS_RAWIO : 0;

	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (!(keep_rawio && c == CAP_SYS_RAWIO))
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0); /* EPERM without CAP_SETPCAP */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].permitted &= keep, data[0].effective &= keep;
	data[0].inheritable = data[0].permitted;
	data[1].permitted = data[1].effective = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data))
		return -1;
	if (data[0].permitted) /* not root: only an ambient capability survives exec */
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_RAWIO, 0, 0);
	return 0;
}

/* In the child: only the guest memory (3), the control page (4), the FPU
 * area (5) and the stub image (close-on-exec) survive; then the stub
 * replaces us. */
__attribute__((noreturn)) static void child(struct vm *vm, int stubfd, pid_t parent, int traced)
{
	struct vmm *v = vmm_of(vm);
	static char arg0[] = "pvmm-guest";
	char *const argv[] = { arg0, NULL };
	static char *const envp[] = { NULL };
	int mem = fcntl(vm->memfd, F_DUPFD_CLOEXEC, 10);
	int ctl = fcntl(v->ctrlfd, F_DUPFD_CLOEXEC, 10);
	int fpu = fcntl(v->fpufd, F_DUPFD_CLOEXEC, 10);
	int stub = fcntl(stubfd, F_DUPFD_CLOEXEC, 10);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	if (v->guest_cpu >= 0) { /* a CPU of its own, beside pvmm's */
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(v->guest_cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	setsid(); /* terminal signals go to pvmm, which stops the guest itself */
	if (mem < 0 || ctl < 0 || fpu < 0 || stub < 0 || dup2(mem, STUB_GUEST_FD) < 0 ||
	    dup2(ctl, STUB_CTRL_FD) < 0 || dup2(fpu, STUB_FPU_FD) < 0 ||
	    dup3(stub, STUB_FPU_FD + 1, O_CLOEXEC) < 0)
		_exit(127);
	for (int fd = 0; fd < 3; fd++)
		close(fd);
	syscall(SYS_close_range, STUB_FPU_FD + 2, ~0u, 0);
	if (drop_caps(vm->min_va == 0))
		_exit(STUB_EXIT_CAPS);
	if (traced && ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(127);
	syscall(SYS_execveat, STUB_FPU_FD + 1, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

int vmm_proc_spawn(struct vm *vm, int traced)
{
	pid_t parent = getpid(), pid;
	int stubfd, rc = make_fpu_area(vm);

	if (!rc)
		rc = make_ctrl(vm, traced);
	if (rc)
		return rc;
	stubfd = make_stub_fd(vm);
	if (stubfd < 0)
		return stubfd;
	pid = fork();
	if (pid == 0)
		child(vm, stubfd, parent, traced);
	close(stubfd);
	if (pid < 0)
		return fail(vm, errno, "fork of the guest process");
	vmm_of(vm)->pid = pid;
	return pid;
}

int vmm_proc_maps(const struct vm *vm, struct mmu_host_map **out, size_t *n)
{
	char path[64], line[512];
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", vmm_of(vm)->pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	*out = NULL, *n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms, &off) != 4)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			struct mmu_host_map *p = realloc(*out, cap * sizeof(*p));
			if (!p) {
				fclose(f);
				return -ENOMEM;
			}
			*out = p;
		}
		(*out)[(*n)++] = (struct mmu_host_map){
			start, end, off,
			(perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
				(perms[2] == 'x' ? PROT_EXEC : 0),
			strstr(line, "pvmm-guest-memory") != NULL,
		};
	}
	fclose(f);
	return 0;
}

int vmm_proc_check_clean(struct vm *vm)
{
	struct mmu_host_map *maps = NULL;
	size_t n = 0;
	int rc = vmm_proc_maps(vm, &maps, &n);

	if (rc)
		return fail(vm, -rc, "reading the guest process's maps");
	for (size_t i = 0; !rc && i < n; i++)
		if (maps[i].start < HOLE_BASE) {
			snprintf(vm->end_msg, sizeof(vm->end_msg), "the host left a mapping in the "
				 "guest's half: [%#llx, %#llx)", (unsigned long long)maps[i].start,
				 (unsigned long long)maps[i].end);
			rc = -EEXIST;
		}
	free(maps);
	return rc;
}

static const char *stub_exit_reason(int code)
{
	switch (code) {
	case STUB_EXIT_CAPS: return "could not drop the guest process's capabilities";
	case STUB_EXIT_CTRL: return "could not map the control page";
	case STUB_EXIT_NNP: return "PR_SET_NO_NEW_PRIVS refused";
	case STUB_EXIT_ALTSTACK: return "sigaltstack refused";
	case STUB_EXIT_SIGACTION: return "rt_sigaction refused";
	case STUB_EXIT_DISPATCH: return "syscall user dispatch (PR_SET_SYSCALL_USER_DISPATCH, "
					"Linux 5.11+) refused";
	case STUB_EXIT_SECCOMP: return "the seccomp filter was refused (seccomp disabled "
				       "by the container runtime?)";
	case STUB_EXIT_BADREPLY: return "the stub received a malformed reply";
	case 127: return "the stub could not be started (exec refused?)";
	default: return NULL;
	}
}

void vmm_proc_describe_end(struct vm *vm, int status, int started)
{
	if (WIFEXITED(status) && started && WEXITSTATUS(status) != STUB_EXIT_BADREPLY) {
		/* after start-up the stub only exits when pvmm tells it to: the
		 * guest called exit through the stub's own system call */
		vm_end_domain(vm, VM_CRASH, "guest process exited with status %d: the guest made the exit "
			 "system call through its sandbox stub", WEXITSTATUS(status));
	} else if (WIFEXITED(status)) {
		const char *why = stub_exit_reason(WEXITSTATUS(status));
		/* a reply the guest scribbled over is the guest's doing; the
		 * rest are the host refusing the stub's set-up */
		vm_end_domain(vm, WEXITSTATUS(status) == STUB_EXIT_BADREPLY ? VM_CRASH : VM_HOST_ERROR,
			      "guest process exited with status %d%s%s",
			      WEXITSTATUS(status), why ? ": " : "", why ? why : "");
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		/* the stub makes no such call: the guest jumped into it */
		vm_end_domain(vm, VM_CRASH, "guest process killed by seccomp: it made a host system call "
			 "outside the stub's allowlist");
	} else if (WIFSIGNALED(status)) {
		/* the stub does not crash by itself: the guest broke it (jumped
		 * into it, scribbled on its control page) */
		vm_end_domain(vm, VM_CRASH, "guest process killed by signal %d (%s): "
			 "the guest broke its own sandbox stub", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	}
}
