# events: timers, event channels, the console ring and blocking
echo "ping pong" | "$PVMM" --check-invariants --timeout=30 $G/events.elf >"$WORK/out" 2>"$WORK/err"
status=$?
expect "events: timers wake block and poll, channels, multicall" 0 '^events: block woke on VIRQ_TIMER after [0-9]+ ms of system time$'
expect "events: the console ring carries output and input" 0 '^events: console input was "PING PONG"$'
expect "events: the registered runstate area counts the time blocked" 0 '^events: the runstate area counted [0-9]+ ms blocked$'
expect "events: SCHEDOP_poll wakes when a masked polled port fires" 0 '^events: poll on a masked port woke when it fired$'
expect "events: output through the console ring reaches stdout" 0 '^events: hello through the console ring$'
run --timeout=30 $G/events.elf
expect "a guest blocked with nothing to wake it is crashed, not hung" 1 '' 'nothing could ever wake it'

