# bench: the benchmark guest runs (a smoke test, no timing asserted)
run --ptwr=auto $G/bench.elf
lines=$(grep -c '^bench ' "$WORK/out")
expect "the benchmark guest runs (smoke test, no timing asserted)" 0 '^bench l1_rewrite 512 [0-9]+$'
[ "$lines" = 14 ] && ok "the benchmark guest reports all 14 figures" || not_ok "bench printed $lines figures"

