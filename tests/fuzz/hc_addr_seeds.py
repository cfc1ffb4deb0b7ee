#!/usr/bin/env python3
"""Write the fuzz_hc seeds that hand every address argument a boundary or
non-canonical value (tests/fuzz/corpus/hc/addr-*). The input format is
fuzz_hc.c's: 41-byte entries, a 0xff terminator, then structures the
entries point at (copied to guest frames 48-55)."""
import os
import struct
import sys

FZ_BASE = 0x400000
FZ_DATA = FZ_BASE + 48 * 4096
VALUES = [0x7fffffffffff, 0x7f8000000000, 0x800000000000, 0x8000000000000000,
          0xffff800000000000, 0xfffffffffffff000, 0, 0xfff, 0x7ffffffff000]
M64 = (1 << 64) - 1


def raw(v):
    assert v & 3 in (0, 3), hex(v)
    return v


def near(addr):
    return ((addr - FZ_BASE) << 2) | 1


def entry(nr, rdi_nibble=0, rsi=0, rdx=0, r10=0, r8=0, rdi=None):
    """One entry; rdi is rdi_nibble (p[1] >> 4) unless given (then arg(p + 33),
    selected by bit 7 of p[0])."""
    b = bytearray(41)
    b[0] = nr if rdi is None else nr + 144
    b[1:9] = struct.pack('<Q', rsi & M64)
    assert rdi is not None or b[1] >> 4 == rdi_nibble, (nr, hex(rsi))
    b[9:17] = struct.pack('<Q', rdx & M64)
    b[17:25] = struct.pack('<Q', r10 & M64)
    b[25:33] = struct.pack('<Q', r8 & M64)
    if rdi is not None:
        b[33:41] = struct.pack('<Q', rdi & M64)
    return bytes(b)


def with_nibble(v, n):
    """v with its low byte's high nibble n, still raw (low bits 00 or 11)."""
    return (v & ~0xff) | (n << 4) | (v & 3)


class Seed:
    def __init__(self, n_entries):
        self.entries = []
        self.data = bytearray()
        self.base = (n_entries * 41 + 1 + 63) & ~63

    def put(self, blob):
        """Place blob at a 64-aligned offset; return its guest address."""
        off = self.base + len(self.data)
        self.data += blob + bytes((-len(blob)) % 64)
        return FZ_DATA + off

    def bytes(self):
        head = b''.join(self.entries) + b'\xff'
        return head + bytes(self.base - len(head)) + bytes(self.data)


def hypercalls(v):
    s = Seed(11)
    mmu = s.put(struct.pack('<QQQQQQ', v, 0, v | 2, 0, v & ~3, 0x5003))
    ext = s.put(struct.pack('<IIQQ', 7, 0, v, 0) + struct.pack('<IIQQ', 11, 0, v, 0) +
                struct.pack('<IIQQ', 14, 0, v, 0) + struct.pack('<IIQQ', 13, 0, v, 1))
    gdt = s.put(struct.pack('<QQ', v, v >> 12))
    cb = s.put(struct.pack('<HHIQ', 0, 0, 0, v))
    tt = s.put(struct.pack('<BBHIQ', 14, 0, 0xe033, 0, v) + bytes(16))
    val = raw(0x5003)  # frame 5, present, writable
    s.entries = [
        entry(14, rsi=val, rdi=raw(v)),                                   # update_va_mapping
        entry(1, rsi=3, rdi=near(mmu)),                                   # mmu_update
        entry(26, rsi=4, rdi=near(ext)),                                  # mmuext_op
        entry(2, rsi=1024, rdi=near(gdt)),                                # set_gdt
        entry(10, rsi=0, rdi=raw(v)),                                     # update_descriptor
        entry(4, rsi=raw(v), rdx=raw(v), rdi=raw(v)),                     # set_callbacks
        entry(30, rsi=near(cb)),                                          # callback_op register
        entry(0, rdi=near(tt)),                                           # set_trap_table
        entry(3, rsi=raw(v), rdi=raw(0xe02b)),                            # stack_switch
        entry(22, rsi=val, rdi=raw(v)),                                   # ..._otherdomain
        entry(14, rsi=val, rdx=raw(v), rdi=near(FZ_BASE + 20 * 4096)),    # flags: a pointer
    ]
    return s.bytes()


def segment_base(v, which):
    s = Seed(1)
    s.entries = [entry(25, which, rsi=with_nibble(v, which))]
    return s.bytes()


def wrmsr(v, idx):
    s = Seed(1)
    e = bytearray(entry(0, rdx=raw(v)))
    e[0] = 0xf0
    e[1] = idx << 4
    s.entries = [bytes(e)]
    return s.bytes()


def main(out):
    os.makedirs(out, exist_ok=True)
    for v in VALUES:
        name = '%x' % v
        seeds = {'addr-%s-hc' % name: hypercalls(v)}
        for which in range(3):
            seeds['addr-%s-segbase%d' % (name, which)] = segment_base(v, which)
        for idx, msr in enumerate(('fs', 'gs', 'shadowgs')):
            seeds['addr-%s-wrmsr-%s' % (name, msr)] = wrmsr(v, idx)
        for fname, blob in seeds.items():
            with open(os.path.join(out, fname), 'wb') as f:
                f.write(blob)


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'hc'))
