"""Send SCSI READ(10) commands to an sg device with the SG_IO ioctl:
`python3 sgio.py /dev/sgN COUNT` reads block i (1 block, 512 bytes) for
i in 0..COUNT-1 and exits 1 unless every command came back GOOD (the
first command to a new device gets its power-on unit attention instead:
send one before the commands that count)."""
import ctypes
import fcntl
import os
import sys

SG_IO = 0x2285
SG_DXFER_FROM_DEV = -3


class SgIoHdr(ctypes.Structure):          # struct sg_io_hdr, <scsi/sg.h>
    _fields_ = [("interface_id", ctypes.c_int), ("dxfer_direction", ctypes.c_int),
                ("cmd_len", ctypes.c_ubyte), ("mx_sb_len", ctypes.c_ubyte),
                ("iovec_count", ctypes.c_ushort), ("dxfer_len", ctypes.c_uint),
                ("dxferp", ctypes.c_void_p), ("cmdp", ctypes.c_void_p), ("sbp", ctypes.c_void_p),
                ("timeout", ctypes.c_uint), ("flags", ctypes.c_uint), ("pack_id", ctypes.c_int),
                ("usr_ptr", ctypes.c_void_p), ("status", ctypes.c_ubyte),
                ("masked_status", ctypes.c_ubyte), ("msg_status", ctypes.c_ubyte),
                ("sb_len_wr", ctypes.c_ubyte), ("host_status", ctypes.c_ushort),
                ("driver_status", ctypes.c_ushort), ("resid", ctypes.c_int),
                ("duration", ctypes.c_uint), ("info", ctypes.c_uint)]


def read10(fd: int, lba: int) -> int:
    buf = ctypes.create_string_buffer(512)
    sense = ctypes.create_string_buffer(32)
    cdb = (ctypes.c_ubyte * 10)(0x28, 0, *lba.to_bytes(4, "big"), 0, 0, 1, 0)
    h = SgIoHdr(interface_id=ord("S"), dxfer_direction=SG_DXFER_FROM_DEV, cmd_len=10,
                mx_sb_len=32, dxfer_len=512, dxferp=ctypes.addressof(buf),
                cmdp=ctypes.addressof(cdb), sbp=ctypes.addressof(sense), timeout=20000)
    fcntl.ioctl(fd, SG_IO, h)
    return h.status | h.host_status | h.driver_status


def main() -> int:
    fd = os.open(sys.argv[1], os.O_RDWR)
    bad = {i: st for i in range(int(sys.argv[2])) for st in [read10(fd, i)] if st}
    if bad:
        print(f"sgio: status of the failed reads: {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
