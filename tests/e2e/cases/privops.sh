# privops: privileged instructions and descriptors, emulated as Xen does
units privops privops~upper-base
