"""Option ROM images built to the PCI Firmware Spec layout, for the rom tests."""
import struct


def image(code_type, last, blocks=2, vendor=0x10de, device=0x2684, machine=0x8664, compressed=0):
    """One ROM image: 0x55AA header, PCIR at 0x40, code type, last-image flag."""
    size = blocks * 512
    b = bytearray(size)
    b[0:2] = b"\x55\xaa"
    if code_type == 3:
        struct.pack_into("<HHHHHH", b, 2, blocks, 0x0EF1, 0, 11, machine, compressed)
    else:
        b[2] = blocks
    struct.pack_into("<H", b, 0x18, 0x40)
    b[0x40:0x44] = b"PCIR"
    struct.pack_into("<HH", b, 0x44, vendor, device)
    struct.pack_into("<H", b, 0x4A, 0x18)
    b[0x4D:0x50] = bytes([0x00, 0x00, 0x03])        # class 030000: VGA
    struct.pack_into("<H", b, 0x50, blocks)
    b[0x54] = code_type
    b[0x55] = 0x80 if last else 0
    if code_type == 0:                               # x86: the bytes sum to 0
        b[size - 1] = (-sum(b[:size - 1])) & 0xff
    return bytes(b)
