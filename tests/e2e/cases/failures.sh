# failures: guests that fail are crashed with the facts
run $G/crash.elf
expect "a failed guest assertion crashes the domain (status 1)" 1 \
	'ASSERT FAILED at sample-guests/crash.c:7' '^pvmm: guest shut down with reason crash$'

run $G/fault.elf
expect "an unhandled page fault crashes the domain with the hardware facts" 1 '' \
	'^pvmm: guest page fault at 0x40000000: write of a not-present page at rip 0x[0-9a-f]+ in kernel mode \(vector 14, error code 0x2\) and no handler in its trap table$'

