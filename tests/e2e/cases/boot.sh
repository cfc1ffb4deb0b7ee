# boot: the hello guest powers off, --stats counts it, --cmdline and --memory reach it
units hello # its greeting, result line and --stats counters are in sample-guests/hello.cfg

run --cmdline="root=/dev/xvda console=hvc0" -m 32M $G/hello.elf
expect "--cmdline and --memory reach start_info" 0 "8192 pages, cmdline 'root=/dev/xvda console=hvc0'"
