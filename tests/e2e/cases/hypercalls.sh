# hypercalls: edge cases of the hypercalls get Xen's errors (the hcall guest)
units hcall
# the hypercall page: with seccomp every one of hello's hypercalls enters the
# stub directly (hypercalls.fast), with ptrace or --hypercall-page=syscall none
hello_fast() { # hello_fast DESC WANT-FAST ARGS...
	local desc=$1 want=$2 n all
	shift 2
	run --stats="$WORK/stats" "$@" $G/hello.elf
	n=$(json_num "$WORK/stats" fast) all=$(json_num "$WORK/stats" hypercall)
	[ "$want" = all ] && want=$all
	if [ "$status" = 0 ] && [ "$all" = 6 ] && [ "$n" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc" "status $status, hypercalls.fast $n of $all traps.hypercall, want $want" \
			"$(head -3 "$WORK/err")"
	fi
}
if [ "${PVMM_TRANSPORT:-seccomp}" = seccomp ]; then
	hello_fast "hello's 6 hypercalls all enter the stub directly, without a host trap (hypercalls.fast)" all
	hello_fast "--hypercall-page=syscall: hello's 6 hypercalls all trap (hypercalls.fast 0)" 0 \
		--hypercall-page=syscall
else
	hello_fast "ptrace: the hypercall page makes a syscall (hypercalls.fast 0)" 0
fi
