"""An NFSv3 export mounted over loopback, with no NFS user-space tools: for
the nfs.*/nfsd.* tests in the QEMU guest (whose kernel has nfs and nfsd as
modules, and which has none of rpcbind, mountd, exportfs or mount.nfs).

What the tools would do is done here:
- rpcbind: a small RPC server on 127.0.0.1:111 that accepts every SET and
  UNSET (nfsd and lockd register when they start, and fail without it);
- mountd: the same server answers MOUNT v3 on another port, giving the
  export root's file handle, which with `fsid=0` is fixed: version 1, auth
  type 0, fsid type 1 (FSID_NUM), fileid type 0 (the root), then the fsid;
- exportfs: the kernel's caches are filled by writing to their channels in
  /proc/net/rpc (auth.unix.ip, nfsd.fh, nfsd.export), entries that never
  expire, so nfsd makes no upcalls;
- mount.nfs: mount(2) with text options naming the ports, `nolock`.
"""
import contextlib
import ctypes
import os
import socket
import struct
import subprocess
import threading

NFSD = "/proc/fs/nfsd"
DOMAIN = "ftstap"
NEVER = 2147483647
# nfsd export flags (include/uapi/linux/nfsd/export.h)
INSECURE_PORT, NO_SUBTREE_CHECK, FSID, NOACL = 0x2, 0x400, 0x2000, 0x8000
ROOT_FH = bytes([1, 0, 1, 0]) + struct.pack("<I", 0)      # fsid 0, as nfsd lays it out
PMAP_PROG, MOUNT_PROG = 100000, 100005


def _u32(*v) -> bytes:
    return struct.pack(">" + "I" * len(v), *v)


def _opaque(b: bytes) -> bytes:
    return _u32(len(b)) + b + b"\0" * (-len(b) % 4)


class _RpcServer:
    """rpcbind (every SET/UNSET succeeds) and MOUNT v3 (MNT gives ROOT_FH)
    on TCP, one thread per connection."""

    def __init__(self, port: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            while True:
                msg = b""
                while True:                         # record marking: fragments until the last
                    head = self._read(conn, 4)
                    if head is None:
                        return
                    n = struct.unpack(">I", head)[0]
                    msg += self._read(conn, n & 0x7FFFFFFF) or b""
                    if n & 0x80000000:
                        break
                reply = self._reply(msg)
                conn.sendall(_u32(0x80000000 | len(reply)) + reply)

    @staticmethod
    def _read(conn, n):
        buf = b""
        while len(buf) < n:
            got = conn.recv(n - len(buf))
            if not got:
                return None
            buf += got
        return buf

    def _reply(self, msg: bytes) -> bytes:
        xid, _call, _rpcvers, prog, _vers, proc = struct.unpack_from(">6I", msg)
        pos = 24
        for _ in range(2):                           # credential, verifier
            n = struct.unpack_from(">I", msg, pos + 4)[0]
            pos += 8 + n + (-n % 4)
        head = _u32(xid, 1, 0, 0, 0, 0)              # REPLY, accepted, null verifier, SUCCESS
        if prog == PMAP_PROG:
            return head + (_u32(1) if proc in (1, 2) else _u32(0))     # SET/UNSET: TRUE
        if prog == MOUNT_PROG and proc == 1:         # MNT: the root's handle, AUTH_UNIX
            return head + _u32(0) + _opaque(ROOT_FH) + _u32(1, 1)
        return head                                  # NULL, UMNT: void

    def close(self):
        self.sock.close()


def _channel(cache: str, line: str) -> None:
    with open(f"/proc/net/rpc/{cache}/channel", "w") as f:
        f.write(line + "\n")


def _mount(source: str, target: str, fstype: str, data: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), fstype.encode(), 0, data.encode()):
        e = ctypes.get_errno()
        raise OSError(e, f"mount {source} on {target} ({data}): {os.strerror(e)}")


@contextlib.contextmanager
def nfs_mount(workdir: str):
    """Yields (export directory, its NFS mount): a tmpfs exported as fsid 0
    and mounted over NFSv3 from 127.0.0.1.  Needs nfsd and nfsv3 loaded."""
    export, mnt = os.path.join(workdir, "export"), os.path.join(workdir, "mnt")
    os.makedirs(export, exist_ok=True)
    os.makedirs(mnt, exist_ok=True)
    subprocess.run(["busybox", "ip", "link", "set", "lo", "up"], check=False)
    _mount("ftstap-export", export, "tmpfs", "size=16m")
    if not os.path.exists(os.path.join(NFSD, "threads")):
        os.makedirs(NFSD, exist_ok=True)
        _mount("nfsd", NFSD, "nfsd", "")
    rpcbind, mountd = _RpcServer(111), _RpcServer(0)
    try:
        with open(os.path.join(NFSD, "versions"), "w") as f:
            f.write("+3 -4\n")
        with open(os.path.join(NFSD, "threads"), "w") as f:
            f.write("2\n")
        _channel("auth.unix.ip", f"nfsd 127.0.0.1 {NEVER} {DOMAIN}")
        _channel("nfsd.fh", f"{DOMAIN} 1 \\x{ROOT_FH[4:].hex()} {NEVER} {export}")
        flags = INSECURE_PORT | NO_SUBTREE_CHECK | FSID | NOACL
        _channel("nfsd.export", f"{DOMAIN} {export} {NEVER} {flags} 65534 65534 0")
        _mount(f"127.0.0.1:{export}", mnt, "nfs",
               f"vers=3,proto=tcp,port=2049,mountproto=tcp,mountport={mountd.port},mountvers=3,"
               "nolock,noacl,addr=127.0.0.1,mountaddr=127.0.0.1,timeo=600,retrans=2")
        try:
            yield export, mnt
        finally:
            subprocess.run(["umount", mnt], check=False)
    finally:
        with open(os.path.join(NFSD, "threads"), "w") as f:
            f.write("0\n")
        rpcbind.close()
        mountd.close()
        subprocess.run(["umount", export], check=False)
