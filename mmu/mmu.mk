MMU_SRCS := mmu/walk.c mmu/realise.c
LIB_SRCS += $(MMU_SRCS)
