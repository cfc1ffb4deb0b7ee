# cmdline: bad command lines are usage errors, one line each
run; expect "no image is a usage error (status 2)" 2 '' 'no guest image given'
run --memory=lots $G/hello.elf; expect "a bad --memory is refused (status 2)" 2 '' "bad --memory 'lots'"
run --memory=128G $G/hello.elf; expect "--memory above 64G is refused" 2 '' 'bad --memory'
run --memory=1M $G/hello.elf; expect "too little memory for the bootstrap is refused" 2 '' 'needs at least'
run --timeout=-1 $G/hello.elf; expect "a bad --timeout is refused" 2 '' "bad --timeout"
run --frobnicate $G/hello.elf; expect "an unknown option is refused" 2 '' "unknown option '--frobnicate'"
run --transport=carrier-pigeon $G/hello.elf; expect "an unknown transport is refused" 2 '' "unknown --transport"
run $G/hello.elf $G/hello.elf; expect "two images are refused" 2 '' 'more than one guest image'
run --help; expect "--help documents the exit statuses" 0 'exit status:'
run --version; expect "--version prints a version" 0 '^pvmm '
run $WORK/does-not-exist.elf; expect "a missing image is refused (status 3)" 3 '' 'No such file'
run /; expect "a directory is refused (status 3)" 3 '' '^pvmm: /: not a regular file'
run /dev/null; expect "a device is refused as not a regular file (it was 'Invalid argument')" 3 '' \
	'^pvmm: /dev/null: not a regular file'
run /bin/true; expect "a Linux program is refused as not a Xen PV kernel" 3 '' '^pvmm: /bin/true: not a Xen PV kernel'
# usage errors are one line naming the argument ('--frobnicate' used to
# add a second line, '-kernel' was reported as 'unknown option build/pvmm')
run --frobnicate $G/hello.elf
[ $status = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && ok "an unknown option is one line" ||
	not_ok "unknown option: one line" "status $status" "$(cat "$WORK/err")"
run -kernel $G/hello.elf; expect "qemu's -kernel is named as the unknown option" 2 '' "^pvmm: unknown option '-kernel'"
# every option and output is checked before the guest starts
run --stats=/nonexistent/x.json $G/hello.elf
expect "--stats to a missing directory: status 2 before the guest runs (it was 0)" 2 '' \
	'^pvmm: --stats=/nonexistent/x.json: No such file or directory$'
[ ! -s "$WORK/out" ] || not_ok "--stats=/nonexistent: the guest ran" "$(head -3 "$WORK/out")"
run --pidfile=/nonexistent/p $G/hello.elf
expect "--pidfile to a missing directory: status 2 before the guest runs (it was 5)" 2 '' \
	'^pvmm: --pidfile=/nonexistent/p: No such file or directory$'
[ ! -s "$WORK/out" ] || not_ok "--pidfile=/nonexistent: the guest ran" "$(head -3 "$WORK/out")"
PVMM_TRANSPORT=foo "$PVMM" $G/hello.elf >"$WORK/out" 2>"$WORK/err" </dev/null; status=$?
expect "PVMM_TRANSPORT=foo is a usage error naming it (it ran with seccomp)" 2 '' "PVMM_TRANSPORT 'foo'"
run --cpu=1023 $G/hello.elf
expect "--cpu beyond the machine's CPUs names them (it was 'Invalid argument')" 2 '' \
	'^pvmm: --cpu=1023: this machine has CPUs [0-9]'
