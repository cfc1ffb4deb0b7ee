# xenstore: the xenstore guest, its trace and the attacks on the rings
units xenstore xenstore~indices xenstore~length xenstore~flood
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
