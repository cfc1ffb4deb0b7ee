HC_SRCS := hypercalls/dispatch.c hypercalls/console.c hypercalls/sched.c hypercalls/version.c hypercalls/mm.c hypercalls/memory.c hypercalls/traps.c hypercalls/privops.c hypercalls/segments.c hypercalls/ioport.c hypercalls/events.c hypercalls/grant.c hypercalls/debugreg.c hypercalls/control.c
LIB_SRCS += $(HC_SRCS)
