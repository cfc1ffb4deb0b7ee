# blk: the block backend (--disk) served to the blkfront sample guest, an
# unprivileged frontend: the handshake, a read of what the test wrote, a
# write flushed and read back, the hostile requests it sends answered with
# errors, a read-only disk, a file that cannot be a disk
disk=$WORK/disk.img
printf 'pvmm blk e2e disk, sector 0\n' >"$disk"
truncate -s 64K "$disk"
run --stats="$WORK/stats" --disk="$disk" --trace=blk --trace-file="$WORK/blk.trace" $G/blkfront.elf
expect "--disk=FILE: device/vbd/51712 connects; sector 0 reads what the test wrote" 0 \
	"^blkfront: sector 0: 'pvmm blk e2e disk, sector 0'$"
grep -qx 'blkfront: /local/domain/0/backend/vbd/1/51712: 128 sectors of 512 bytes, info 0, mode w' "$WORK/out" &&
	grep -qx 'blkfront: sector 1 written, flushed and read back' "$WORK/out" &&
	[ "$(dd if="$disk" bs=512 skip=1 count=1 2>/dev/null | wc -c)" = 512 ] &&
	[ "$(dd if="$disk" bs=512 skip=1 count=1 2>/dev/null | tr -d '\303' | wc -c)" = 0 ] &&
	ok "the backend's keys as blkback's; sector 1 written, flushed, read back, and in the file" ||
	not_ok "write and read back" "$(cat "$WORK/out")"
grep -qx 'blkfront: bad grant -1, read-only grant -1, beyond the disk -1, 12 segments -1, barrier -2' "$WORK/out" &&
	grep -q '"51712": {"reads": 3, "writes": 1, "flushes": 1, .*"errors": 4, "unsupported": 1}' "$WORK/stats" &&
	grep -qx 'blkfront: closed: backend state 6' "$WORK/out" &&
	ok "hostile requests (bad grant, read-only grant, beyond the disk, 12 segments) are errors, a barrier unsupported; closed; --stats counts them" ||
	not_ok "hostile requests" "$(cat "$WORK/out")" "$(grep -A1 blk "$WORK/stats")"
# --trace=blk: a line per request, in the order served, as --stats counts them
grep -q '^blk read  *dev=51712 sector=0 sectors=1 status=ok$' "$WORK/blk.trace" &&
	grep -q '^blk write  *dev=51712 sector=1 sectors=1 status=ok$' "$WORK/blk.trace" &&
	grep -q '^blk barrier  *dev=51712 .* status=unsupported$' "$WORK/blk.trace" &&
	[ "$(grep -c ' status=error$' "$WORK/blk.trace")" = 4 ] &&
	[ "$(grep -c '^blk ' "$WORK/blk.trace")" = "$(wc -l <"$WORK/blk.trace")" ] &&
	[ "$(grep -c '^blk \(read\|write\|flush\) .* status=ok$' "$WORK/blk.trace")" -ge 5 ] &&
	ok "--trace=blk: each request served, with its sector and status (ok, error, unsupported)" ||
	not_ok "--trace=blk" "$(cat "$WORK/blk.trace")"
sum=$(md5sum <"$disk")
run --disk="$disk,ro" --cmdline=ro $G/blkfront.elf
expect "--disk=FILE,ro: info 4, mode r, the guest's write refused" 0 \
	'^blkfront: read-only disk: the write of sector 1 was refused$'
[ "$(md5sum <"$disk")" = "$sum" ] && grep -q 'info 4, mode r$' "$WORK/out" &&
	ok "the read-only disk is unchanged" || not_ok "read-only disk" "$(cat "$WORK/out")"
run --disk="$disk,ro" $G/blkfront.elf
expect "a write the guest expects to succeed on a read-only disk fails it (status 1)" 1 '' ''
run --disk="$WORK/missing.img" $G/blkfront.elf
expect "--disk of a file that cannot be opened: status 2, one line" 2 '' \
	"^pvmm: --disk: $WORK/missing.img: No such file or directory$"
[ "$(wc -l <"$WORK/err")" = 1 ] && ok "one line" || not_ok "one line" "$(cat "$WORK/err")"
run --disk="$disk,vdev=xvd1" $G/blkfront.elf
expect "--disk with a bad vdev: status 2" 2 '' "bad --disk '.*,vdev=xvd1'"
printf 'kernel = "%s"\ndisk = [ "disk.img,raw,xvda,ro" ]\ncmdline = "ro"\n' "$(cd "$G" && pwd)/blkfront.elf" >"$WORK/blk.cfg"
run "$WORK/blk.cfg"
expect "guest.cfg: xl's disk = [ 'FILE,raw,xvda,ro' ] (relative to the .cfg) is the same disk, read-only" 0 \
	'^blkfront: read-only disk: the write of sector 1 was refused$'
