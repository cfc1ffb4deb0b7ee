MMU_SRCS := mmu/walk.c mmu/fill.c mmu/realise.c mmu/frame.c mmu/update.c mmu/sync.c mmu/check.c \
	mmu/emulate.c mmu/dirty.c mmu/ptwr_state.c mmu/ptwr_policy.c mmu/ptwr.c mmu/trap.c mmu/balloon.c \
	mmu/space.c
LIB_SRCS += $(MMU_SRCS)
