# xlcfg: xl configuration files, pvmm guest.cfg as xl create guest.cfg
# one reader (vmm/xlcfg.c) for pvmm and pvmm test: xl's syntax and keys,
# paths relative to the .cfg's folder, the options given overriding it
mkdir -p "$WORK/xl/cfgs" "$WORK/xl/kernels"
cp $G/hello.elf $G/ramdisk.elf "$WORK/xl/kernels/"
cp $G/xenstore.elf "$WORK/xl/kernels/store-copy.elf"
printf 'Hello from the initial ramdisk\nsecond line\n' >"$WORK/xl/cfgs/rd.txt"
xl() { printf "$2" >"$WORK/xl/cfgs/$1"; chmod -R a+rX "$WORK/xl"; }
xl hello.cfg '# xl syntax\nname = "greeter"; vcpus = 1\nkernel = "../kernels/hello.elf"\nmemory = 32\nroot = "/dev/xvda1"\nextra = '"'"'ro quiet'"'"'\non_crash = "destroy"\ntype = "pv"\n'
run "$WORK/xl/cfgs/hello.cfg"
expect "pvmm guest.cfg: kernel relative to the .cfg, memory in MiB, the command line composed as xl does" \
	0 "8192 pages, cmdline 'root=/dev/xvda1 ro quiet'"
[ ! -s "$WORK/err" ] && ok "pvmm guest.cfg: a clean config, not a line on stderr" || not_ok "xl clean stderr" "$(cat "$WORK/err")"
run --memory=16 --cmdline=given "$WORK/xl/cfgs/hello.cfg"
expect "pvmm --memory=16 --cmdline=given guest.cfg: the options override the file" 0 "4096 pages, cmdline 'given'"
xl cmdline.cfg 'kernel = "../kernels/hello.elf"\ncmdline = "console=hvc0"\nroot = "/dev/xvda"\n'
run "$WORK/xl/cfgs/cmdline.cfg"
expect "guest.cfg: cmdline wins over root and extra, with xl's warning" 0 "cmdline 'console=hvc0'" \
	'cmdline.cfg:2: root and extra ignored in favour of cmdline'
xl bad.cfg 'kernel = "../kernels/hello.elf"\n\nmemory = "lots"\n'
run "$WORK/xl/cfgs/bad.cfg"
expect "guest.cfg: a bad value is status 2 naming the file, the line and the key" 2 '' \
	"^pvmm: $WORK/xl/cfgs/bad.cfg:3: memory: 'lots' is not a number of MiB"
[ "$(wc -l <"$WORK/err")" = 1 ] && ok "guest.cfg: the bad value is one line" || not_ok "xl bad value lines" "$(cat "$WORK/err")"
xl unknown.cfg 'kernel = "../kernels/hello.elf"\n# a typo\n\n\nexpext = "crash"\n'
run "$WORK/xl/cfgs/unknown.cfg"
expect "guest.cfg: an unknown key is one warning line and the guest runs" 0 'Test result: SUCCESS' \
	"^pvmm: $WORK/xl/cfgs/unknown.cfg:5: unknown key 'expext' ignored\$"
[ "$(wc -l <"$WORK/err")" = 1 ] && ok "guest.cfg: the unknown key is one line" || not_ok "xl unknown lines" "$(cat "$WORK/err")"
xl vcpus.cfg 'kernel = "../kernels/hello.elf"\nvcpus = 2\n'
run "$WORK/xl/cfgs/vcpus.cfg"
expect "guest.cfg: vcpus = 2 is status 2: pvmm runs one vCPU" 2 '' 'vcpus.cfg:2: vcpus: 2: pvmm runs one vCPU'
"$PVMM" test --keep="$WORK/xl/kept" "$WORK/xl/cfgs/vcpus.cfg" >"$WORK/out" 2>"$WORK/err"; status=$?
expect "pvmm test --keep: a .cfg it cannot honour is that guest's ERROR (1), with no log to keep" 1 \
	'\] vcpus +ERROR .*vcpus.cfg:2: vcpus: 2: pvmm runs one vCPU'
truncate -s 64K "$WORK/xl/cfgs/a.img" "$WORK/xl/cfgs/b.img"
xl devices.cfg 'kernel = "../kernels/hello.elf"\ndisk = [ "file:a.img,xvda,w",\n         "b.img,raw,xvdb,r" ]\nvif = [ "bridge=xenbr0" ]\n'
run "$WORK/xl/cfgs/devices.cfg"
expect "guest.cfg: disk (a list over two lines, files relative to the .cfg) is served; vif is user networking; the guest runs" 0 \
	'Test result: SUCCESS' "devices.cfg:4: vif: 'bridge' ignored: pvmm's vif is user networking \(libslirp\); forward ports"
[ "$(wc -l <"$WORK/err")" = 1 ] && ok "guest.cfg: a vif's bridge is a warning of one line" || not_ok "xl vif warning" "$(cat "$WORK/err")"
xl baddisk.cfg 'kernel = "../kernels/hello.elf"\ndisk = [ "b.img,qcow2,xvdb" ]\n'
run "$WORK/xl/cfgs/baddisk.cfg"
expect "guest.cfg: a disk pvmm cannot serve (qcow2) is status 2 naming the line" 2 '' \
	"baddisk.cfg:2: disk: format 'qcow2': pvmm's disks are raw"
xl hvm.cfg 'kernel = "../kernels/hello.elf"\ntype = "hvm"\n'
run "$WORK/xl/cfgs/hvm.cfg"
expect "guest.cfg: type = hvm is status 2" 2 '' "hvm.cfg:2: type: 'hvm': pvmm runs PV guests only"
xl syntax.cfg 'kernel = "../kernels/hello.elf"\nmemory = 32 64\n'
run "$WORK/xl/cfgs/syntax.cfg"
expect "guest.cfg: a syntax error is status 2 naming the line" 2 '' 'syntax.cfg:2: memory: one value per key'
xl ramdisk.cfg 'kernel = "../kernels/ramdisk.elf"\nramdisk = "rd.txt"\n'
abs_pvmm=$(cd "$(dirname "$PVMM")" && pwd)/$(basename "$PVMM")
(cd / && "$abs_pvmm" "$WORK/xl/cfgs/ramdisk.cfg" >"$WORK/out" 2>"$WORK/err" </dev/null); status=$?
expect "guest.cfg: ramdisk relative to the .cfg is loaded after the kernel and read back through start_info" 0 \
	"module first line: 'Hello from the initial ramdisk'"
grep -q 'mod_len 4096, flags 0x0' "$WORK/out" && grep -q '43 bytes before the first NUL, checksum 9db84b8c' "$WORK/out" &&
	ok "ramdisk: mod_start virtual, mod_len the whole pages, every byte read back (checksum)" ||
	not_ok "ramdisk read back" "$(cat "$WORK/out")"
run --ramdisk="$WORK/xl/cfgs/rd.txt" $G/ramdisk.elf
expect "--ramdisk=FILE without a .cfg" 0 "module first line: 'Hello from the initial ramdisk'"
units ramdisk~none # the ramdisk guest without a ramdisk: mod_start 0, it fails
run --ramdisk="$WORK/xl/none" $G/ramdisk.elf
expect "--ramdisk of a missing file is status 2" 2 '' 'ramdisk .*/xl/none: No such file'
xl named.cfg 'kernel = "../kernels/store-copy.elf"\nname = "xenstore"\n'
run "$WORK/xl/cfgs/named.cfg"
expect "guest.cfg: name is the domain's xenstore name" 0 '/local/domain/1/name = xenstore'
run --name=xenstore "$WORK/xl/kernels/store-copy.elf"
expect "--name=NAME sets the xenstore name" 0 '/local/domain/1/name = xenstore'
run "$WORK/xl/kernels/store-copy.elf"
expect "without a name the image's file name is the xenstore name" 1 'read name: got store-copy, want xenstore'
xl guestconf 'kernel = "../kernels/hello.elf"\nextra = "by-content"\n'
run "$WORK/xl/cfgs/guestconf"
expect "a config without .cfg, found by its content (not ELF, a kernel key)" 0 "cmdline 'by-content'"
# pvmm test: xl .cfg files as units of their own, and NAME.cfg beside NAME.elf
mkdir -p "$WORK/xl/suite"
printf 'kernel = "../kernels/hello.elf"\nextra = "from-extra"\n' >"$WORK/xl/suite/test-a.cfg"
printf 'kernel = "../kernels/ramdisk.elf"\nramdisk = "../cfgs/rd.txt"\nexpect_log = "module first line: .Hello from the initial ramdisk."\n' \
	>"$WORK/xl/suite/test-b~variant.cfg"
cp $G/hello.elf "$WORK/xl/suite/beside.elf"
printf 'extra = "xl-extra"\npvmm_options = "--ptwr=emulate"\n' >"$WORK/xl/suite/beside.cfg"
chmod -R a+rX "$WORK/xl"
"$PVMM" test --result-regex='Test result: ' --junit="$WORK/xl/report.xml" --tap "$WORK/xl/suite" >"$WORK/out" 2>"$WORK/err"
status=$?
expect "pvmm test DIR: *.cfg files are units (kernel relative to them), NAME.cfg beside NAME.elf is not" 0 '^1\.\.3$'
grep -q '^ok 1 - beside$' "$WORK/out" && grep -q '^ok 2 - test-a$' "$WORK/out" && grep -q '^ok 3 - test-b~variant$' "$WORK/out" &&
   grep -q "cmdline 'from-extra'" "$WORK/xl/report.xml" && grep -q "cmdline 'xl-extra'" "$WORK/xl/report.xml" &&
	ok "pvmm test: units named after their .cfg (test-b~variant), extra is the kernel's command line as in xl" ||
	not_ok "pvmm test cfg units" "$(cat "$WORK/out" "$WORK/err")"
"$PVMM" test --result-regex='Test result: ' "$WORK/xl/suite/test-a.cfg" "$WORK/xl/suite/beside.elf" >"$WORK/out" 2>"$WORK/err"
status=$?
expect "pvmm test a.cfg b.elf: named .cfg files are units too" 0 '^2 passed, 0 failed, 0 skipped$'
for t in 0 soon -5; do
	printf 'kernel = "../kernels/hello.elf"\n\ntimeout = %s\n' "$t" >"$WORK/xl/suite/test-a.cfg"
	"$PVMM" test "$WORK/xl/suite" >"$WORK/out" 2>"$WORK/err"
	status=$?
	expect "pvmm test: timeout = $t in a .cfg is an ERROR naming file:line, never 0" 1 \
		"test-a +ERROR .*test-a.cfg:3: timeout: '$t' is not a positive number of seconds"
done
printf 'kernel = "../kernels/hello.elf"\nexpext = 1\n' >"$WORK/xl/suite/test-a.cfg"
"$PVMM" test "$WORK/xl/suite" >"$WORK/out" 2>"$WORK/err"
status=$?
expect "pvmm test: an unknown key in a .cfg is a warning, the guest runs" 0 '^3 passed' "test-a.cfg:2: unknown key 'expext' ignored"
