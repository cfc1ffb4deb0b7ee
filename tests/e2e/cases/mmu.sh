# mmu: the PV MMU, with the host mappings checked after every change
units pt-basic pt-attacks pt-write-no-assist
