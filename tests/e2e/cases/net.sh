# net: a PV netfront on pvmm's netback and libslirp, unprivileged: DHCP, a datagram to the host, a forwarded port echoed
units net
# the host's side (tests/lib/netpeer.c): free ports found by the kernel, no fixed port
"$B/tests/netpeer" "$PVMM" -t 60 "$G/net.elf" >"$WORK/out" 2>"$WORK/err" </dev/null
status=$?
expect "the guest reaches a host UDP port through 10.0.2.2 and echoes what the host sends to a hostfwd port" 0 \
	'^netpeer: 5 datagrams to 127\.0\.0\.1:[0-9]+ \(the guest.s UDP port 7\) echoed$'
if grep -q '^netpeer: the guest.s datagram to 127\.0\.0\.1:[0-9]*: "hello from 10\.0\.2\.15"$' "$WORK/out" &&
   grep -q '^net: echoed 6 datagrams on UDP port 7, the last one "quit"$' "$WORK/out"; then
	ok "the host got the guest's datagram from its DHCP address, the guest echoed 5 datagrams and quit"
else
	not_ok "the exchange's lines" "$(tail -8 "$WORK/out")"
fi
# TCP through a forwarded port: slirp's TCP on the host's side, the guest's
# minimal responder on the other; 3019 bytes, one write over a segment
if grep -q '^netpeer: TCP: 3019 bytes to 127\.0\.0\.1:[0-9]* (the guest.s TCP port 7) echoed, then both sides closed$' "$WORK/out" &&
   grep -q '^net: echoed 3019 bytes on TCP port 7, 1 connection closed by both sides$' "$WORK/out"; then
	ok "a TCP connection to a hostfwd port: 3019 bytes echoed in order, closed by the host, then by the guest"
else
	not_ok "the TCP exchange's lines" "$(grep -i tcp "$WORK/out" | tail -4)"
fi
# a host port that cannot be listened on is a bad command line, in one line:
# the same port twice (the first may be taken already: the same line then)
run --net=user,hostfwd=tcp:127.0.0.1:40007-:7,hostfwd=tcp:127.0.0.1:40007-:8 "$G/hello.elf"
expect "a hostfwd port that cannot be listened on is status 2, in one line" 2 '' \
	'^pvmm: --net: hostfwd tcp port 40007: cannot listen there \(Address already in use\)$'
run --net=user,hostfwd=udp::99999-:7 "$G/hello.elf"
expect "a hostfwd port out of range is status 2" 2 '' "^pvmm: hostfwd 'udp::99999-:7': want "
