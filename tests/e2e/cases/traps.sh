# traps: exceptions, user mode and system calls
units traps
