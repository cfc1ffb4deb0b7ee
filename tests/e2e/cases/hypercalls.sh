# hypercalls: edge cases of the hypercalls get Xen's errors (the hcall guest)
units hcall
