# boot: the hello guest powers off, --stats counts it, --cmdline and --memory reach it
run --stats="$WORK/hello.json" $G/hello.elf
expect "hello powers off with status 0" 0 '^Hello from a PV guest on Xen 4\.19\.0-pvmm!$'
expect "hello reports success" 0 '^Test result: SUCCESS$'
if grep -q '"console_io": 3' "$WORK/hello.json" && grep -q '"sched_op": 1' "$WORK/hello.json" &&
   grep -q '"hypercall": 6' "$WORK/hello.json" && grep -Eq '"mapped_pages": [1-9]' "$WORK/hello.json"; then
	ok "--stats counts hello's hypercalls and host mappings"
else
	not_ok "--stats counts hello's hypercalls and host mappings" "$(tr -d '\n' <"$WORK/hello.json")"
fi

run --cmdline="root=/dev/xvda console=hvc0" -m 32M $G/hello.elf
expect "--cmdline and --memory reach start_info" 0 "8192 pages, cmdline 'root=/dev/xvda console=hvc0'"

