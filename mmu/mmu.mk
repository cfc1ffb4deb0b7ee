MMU_SRCS := mmu/walk.c mmu/realise.c mmu/frame.c mmu/update.c mmu/sync.c mmu/check.c
LIB_SRCS += $(MMU_SRCS)
