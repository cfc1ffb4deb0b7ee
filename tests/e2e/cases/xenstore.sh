# xenstore: the xenstore guest, its trace and the attacks on the rings
run --check-invariants $G/xenstore.elf
expect "xenstore: reads, writes, watches, transactions and a value larger than the ring" 0 \
	'^xenstore: a 3000-byte value written and read through the 1024-byte rings$'
expect "xenstore: transactions commit, abort and conflict (EAGAIN)" 0 \
	'^xenstore: a transaction committed, one aborted, one refused with EAGAIN$'
run --trace=xenstore $G/xenstore.elf
expect "--trace=xenstore shows each request and its reply" 0 '' '^xenstore read +path=domid tx=0 reply=1$'
expect "--trace=xenstore shows errors by name" 0 '' '^xenstore read +path=data/nothing tx=0 error=ENOENT$'
run --trace=xenstore --trace-format=json $G/xenstore.elf
if [ "$status" = 0 ] && grep -q '"what":"transaction_end"' "$WORK/err" &&
   ! grep -v '^{"kind":"xenstore",.*}$' "$WORK/err" | grep -q .; then
	ok "--trace=xenstore --trace-format=json: every line a xenstore object"
else
	not_ok "xenstore JSON trace" "$(head -3 "$WORK/err")"
fi
for a in indices length flood; do
	case $a in
	indices) want="the guest's req_prod [0-9]+ is not within the ring" ;;
	length) want="a message of 100000 bytes" ;;
	flood) want="[0-9]+ bytes of replies wait for a guest that does not read them" ;;
	esac
	run --timeout=30 -c attack=$a $G/xenstore.elf
	if [ "$status" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -Eq "^pvmm: xenstore: $want" "$WORK/err"; then
		ok "xenstore attack '$a' ends the guest with one line ($(cut -c1-70 "$WORK/err"))"
	else
		not_ok "xenstore attack '$a'" "status $status" "$(cat "$WORK/out" "$WORK/err")"
	fi
done

