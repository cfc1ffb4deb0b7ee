/* The stub's static image, embedded in pvmm and exec'd from a memfd. */
	.section .rodata
	.balign 16
	.globl pvmm_stub_image, pvmm_stub_image_end
pvmm_stub_image:
	.incbin STUB_IMAGE
pvmm_stub_image_end:
	.section .note.GNU-stack, "", @progbits
