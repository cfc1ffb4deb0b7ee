# p2m: the P2M list, written on first use
for mem in 64M 4G; do
	run -m $mem --check-invariants --stats="$WORK/p2m-$mem.json" -c noalias $G/p2m.elf
	expect "p2m ($mem): hypercall-written, guest-written and sampled P2M frames all read right" \
		0 '^p2m: [0-9]+ entries across [0-9]+ pages match the M2P$'
	used=$(sed -n 's/^p2m: \([0-9]*\) of [0-9]* P2M frames used$/\1/p' "$WORK/out")
	fills=$(json_num "$WORK/p2m-$mem.json" deferred_fills)
	if [ -n "$used" ] && [ "$used" = "$fills" ]; then
		ok "p2m ($mem): pvmm wrote exactly the $used P2M frames the guest used"
	else
		not_ok "p2m ($mem): guest used ${used:-?} P2M frames, pvmm wrote ${fills:-?}"
	fi
	run -m $mem --check-invariants --stats="$WORK/p2m-$mem.json" $G/p2m.elf
	frames=$(sed -n 's/^p2m: [0-9]* of \([0-9]*\) P2M frames used$/\1/p' "$WORK/out")
	fills=$(json_num "$WORK/p2m-$mem.json" deferred_fills)
	if [ "$status" = 0 ] && grep -q '^p2m: frame [0-9]* read through a second mapping$' "$WORK/out" &&
	   [ -n "$frames" ] && [ "$frames" = "$fills" ]; then
		ok "p2m ($mem): an unread frame mapped twice: read right, the whole list ($frames frames) written at once"
	else
		not_ok "p2m ($mem) alias: status $status, $fills of ${frames:-?} frames written" "$(tail -3 "$WORK/out")"
	fi
done
run -m 4G --stats="$WORK/hello4g.json" --trace=fault $G/hello.elf
status4g=$status
fills=$(json_num "$WORK/hello4g.json" deferred_fills)
ops4g=$(tr -d '\n' <"$WORK/hello4g.json" | grep -o '"mmap": [0-9]*, "munmap": [0-9]*')
run -m 64M --stats="$WORK/hello64m.json" $G/hello.elf
ops64m=$(tr -d '\n' <"$WORK/hello64m.json" | grep -o '"mmap": [0-9]*, "munmap": [0-9]*')
if [ "$status4g" = 0 ] && [ "$status" = 0 ] && [ "$fills" = 0 ] && [ -n "$ops4g" ] &&
   [ "$ops4g" = "$ops64m" ]; then
	ok "a 4 GiB hello writes none of its 2048 P2M frames and makes the same host mappings as 64 MiB"
else
	not_ok "4 GiB hello: $fills P2M frames written; map ops $ops4g vs $ops64m"
fi
run -m 4G --trace=fault $G/p2m.elf
expect "--trace=fault shows a P2M frame written on first use" 0 '' 'why=p2m-fill outcome="P2M frame written on first use"'

