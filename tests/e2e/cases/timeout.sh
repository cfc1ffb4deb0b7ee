# timeout: --timeout stops a guest that never stops
start=$(date +%s%N)
run --timeout=1 $G/spin.elf
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect "--timeout stops a guest that never stops (status 4)" 4 '^spin: looping forever$' '^pvmm: timeout'
# a bound, not a speed test: the run ended because of --timeout, not later
if [ "$elapsed" -lt 30000 ]; then ok "--timeout=1 took ${elapsed} ms"; else not_ok "--timeout=1 took ${elapsed} ms"; fi
no_guest_left "timeout"

