"""ftstap: run SystemTap scripts on tracefs and perf_event, with no compiler,
no kernel headers and no kernel module."""
__version__ = "0.1.0"
