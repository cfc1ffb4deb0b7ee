# bench: the benchmark guest runs (a smoke test, no timing asserted)
units bench
