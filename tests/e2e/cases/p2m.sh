# p2m: the P2M list, written on first use
# what each run shows is in its .cfg; here, what pvmm wrote against what the
# guest used, at 64 MiB (p2m, p2m~noalias) and 4 GiB (p2m~4g, p2m~noalias-4g)
units p2m p2m~4g p2m~noalias p2m~noalias-4g
for mem in 64M 4G; do
	sfx=""; [ $mem = 4G ] && sfx=-4g
	k=$WORK/kept/p2m~noalias$sfx
	used=$(sed -n 's/^p2m: \([0-9]*\) of [0-9]* P2M frames used$/\1/p' "$k.console")
	fills=$(json_num "$k.stats" deferred_fills)
	if [ -n "$used" ] && [ "$used" = "$fills" ]; then
		ok "p2m ($mem): pvmm wrote exactly the $used P2M frames the guest used"
	else
		not_ok "p2m ($mem): guest used ${used:-?} P2M frames, pvmm wrote ${fills:-?}"
	fi
	k=$WORK/kept/p2m${sfx/-/\~}
	frames=$(sed -n 's/^p2m: [0-9]* of \([0-9]*\) P2M frames used$/\1/p' "$k.console")
	fills=$(json_num "$k.stats" deferred_fills)
	if [ -n "$frames" ] && [ "$frames" = "$fills" ]; then
		ok "p2m ($mem): an unread frame mapped twice: the whole list ($frames frames) written at once"
	else
		not_ok "p2m ($mem) alias: $fills of ${frames:-?} frames written" "$(tail -3 "$k.console")"
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
