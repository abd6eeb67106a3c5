"""The json tapset (tapsets/json.stp, json.stpm): metadata.json and
data.json served over --http while events flow, parsed by Python's json
with the values the traced program made."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from leftovers import leftovers

SCRIPT = r'''
global calls, by_comm
probe begin {
  json_set_prefix("ftstap_test")
  json_add_numeric_metric("calls", "getppid calls of the workload", "count")
  json_add_string_metric("note", "a string with \"quotes\"")
  json_add_array("procs", "calls by process name")
  json_add_array_numeric_metric("procs", "calls", "its calls", "count")
  json_add_array_string_metric("procs", "name", "its name")
}
probe kernel.trace("syscalls:sys_enter_getppid") { if (pid() == target()) { calls++; by_comm[execname()]++ } }
probe json_data {
  @json_output_data_start
  @json_output_numeric_value("calls", calls)
  @json_output_string_value("note", "tab\there \"q\"")
  foreach (c in by_comm) {
    @json_output_array_numeric_value("procs", c, "calls", by_comm[c])
    @json_output_array_string_value("procs", c, "name", c)
  }
  @json_output_data_end
}
'''
WORKLOAD = "import os, sys, time\nfor _ in range(3000): os.getppid()\ntime.sleep(60)\n"


def get(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/procfs/{name}", timeout=10) as r:
        return json.loads(r.read().decode())


def test_metadata_and_data_parse_with_the_counted_values(tfs, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    prog = tmp_path / "jsonwork.py"
    prog.write_text(WORKLOAD)
    proc = subprocess.Popen([sys.executable, "-m", "ftstap", "--http", f"127.0.0.1:{port}", "-e", SCRIPT,
                             "-c", f"{sys.executable} {prog}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert "serving procfs files" in proc.stderr.readline()
        deadline, data = time.time() + 60, {}
        while time.time() < deadline and data.get("calls") != 3000:
            time.sleep(0.3)
            data = get(port, "data.json")
        assert data["calls"] == 3000 and data["note"] == 'tab\there "q"', data
        assert data["procs"] == [{"__id": "python3", "calls": 3000, "name": "python3"}] or \
            [r["calls"] for r in data["procs"]] == [3000], data
        meta = get(port, "metadata.json")
        assert meta["prefix"] == "ftstap_test"
        assert [m["name"] for m in meta["metrics"]] == ["calls", "note", "procs"]
        assert meta["metrics"][0] == {"name": "calls", "pointer": "/calls", "type": "integer",
                                      "description": "getppid calls of the workload", "units": "count"}
        procs = meta["metrics"][2]
        assert procs["type"] == "array" and procs["index"] == "/__id"
        assert [(m["name"], m["type"]) for m in procs["metrics"]] == [("calls", "integer"), ("name", "string")]
        assert data["generation"] == get(port, "data.json")["generation"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert leftovers(tfs) == []
