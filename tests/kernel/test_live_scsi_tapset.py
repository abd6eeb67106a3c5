"""scsi.iodispatching and scsi.iodone against what a workload did: READ(10)
commands sent with SG_IO to a scsi_debug disk (a fake SCSI device whose
commands go through the real mid-layer).

Needs the scsi: tracepoints, which exist once SCSI is in the kernel (built
in, or the scsi_mod module loaded).  FTSTAP_SCSI_MODULES names a directory
of the kernel's .ko files (scsi_common, scsi_mod, crct10dif_common,
crct10dif_generic, crc-t10dif, sg, scsi_debug) to insmod first: the QEMU
tier (tests/qemu/test_qemu_storage_rpc.py) sets it and FTSTAP_EXPECT_SCSI=1, which
turns a skip into a failure.  This machine has no SCSI and no modules: skips."""
import glob
import os
import subprocess
import sys
import time

import pytest

from kmods import insmod

HERE = os.path.dirname(__file__)
ORDER = ("scsi_common", "scsi_mod", "crct10dif_common", "crct10dif_generic", "crc-t10dif", "sg",
         "scsi_debug")
READS = 7
SCRIPT = """
probe scsi.iodispatching {
  if (host_no == %(h)d) printf("disp %%d %%d %%d %%d %%s\\n", channel, dev_id, lun, data_direction, data_direction_str)
}
probe scsi.iodone {
  if (host_no == %(h)d) printf("done %%d %%d %%d %%d %%s\\n", channel, dev_id, lun, data_direction, device_state_str)
}
"""


def _sg_device() -> tuple[str, tuple[int, ...]] | None:
    """The scsi_debug disk's sg node and its host:channel:id:lun."""
    for _ in range(100):
        for sg in glob.glob("/sys/class/scsi_generic/sg*"):
            dev = os.path.realpath(os.path.join(sg, "device"))
            vendor = open(os.path.join(dev, "vendor")).read().strip()
            if vendor == "Linux":                       # scsi_debug's INQUIRY vendor
                return "/dev/" + os.path.basename(sg), tuple(map(int, os.path.basename(dev).split(":")))
        time.sleep(0.1)
    return None


@pytest.fixture(scope="module")
def disk(tfs):
    expect = os.environ.get("FTSTAP_EXPECT_SCSI") == "1"
    mods = os.environ.get("FTSTAP_SCSI_MODULES")
    if mods and not os.path.isdir("/sys/kernel/tracing/events/scsi"):
        insmod(mods, ORDER)
    if not os.path.isdir("/sys/kernel/tracing/events/scsi"):
        (pytest.fail if expect else pytest.skip)("no scsi: tracepoints (no SCSI in this kernel)")
    found = _sg_device()
    if found is None:
        (pytest.fail if expect else pytest.skip)("no scsi_debug disk (/sys/class/scsi_generic)")
    time.sleep(1)                                      # let the scan's own commands finish
    # the device's first command gets its power-on unit attention: take it now
    subprocess.run([sys.executable, os.path.join(HERE, "sgio.py"), found[0], "1"], capture_output=True)
    return found


def _trace_reads(script: str, node: str) -> tuple[list[str], str]:
    """script's output lines (and the whole of it) while sgio.py sends READS reads to node."""
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", script,
                        "-c", f"{sys.executable} {HERE}/sgio.py {node} {READS}"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines(), p.stdout


def test_reads_seen_with_their_device_and_direction(disk):
    node, (h, c, t, lun) = disk
    lines, out = _trace_reads(SCRIPT % {"h": h}, node)
    disp = [x for x in lines if x.startswith("disp ")]
    done = [x for x in lines if x.startswith("done ")]
    assert disp.count(f"disp {c} {t} {lun} 2 FROM_DEVICE") == READS, out
    assert done.count(f"done {c} {t} {lun} 2 [INVALID]") == READS, out
    # nothing else was sent to the disk while the script ran
    assert len(disp) == len(done) == READS, out


KPROBE_SCRIPT = """
probe scsi.ioentry { printf("entry %%s\\n", device_state_str) }
probe scsi.iocompleted {
  if (host_no == %(h)d) printf("completed %%d %%d %%d %%d %%s %%d %%s\\n", channel, dev_id, lun,
                               data_direction, data_direction_str, goodbytes, device_state_str)
}
"""


def test_module_function_kprobes_read_their_arguments(disk):
    """scsi.ioentry and scsi.iocompleted are kprobes on scsi_mod's own
    functions, whose $arguments are typed by the module's BTF
    (/sys/kernel/btf/scsi_mod): each READ(10) of one 512-byte block
    completes with goodbytes 512, on the disk's channel, id and lun."""
    node, (h, c, t, lun) = disk
    lines, out = _trace_reads(KPROBE_SCRIPT % {"h": h}, node)
    # only the reads reached the mid-layer (the guest has no other SCSI device)
    assert [x for x in lines if x.startswith("entry ")] == ["entry RUNNING"] * READS, out
    completed = [x for x in lines if x.startswith("completed ")]
    assert completed == [f"completed {c} {t} {lun} 2 FROM_DEVICE 512 RUNNING"] * READS, out
