"""ftstap: run SystemTap scripts on tracefs and perf_event, with no compiler,
no kernel headers and no kernel module."""
# The one place the version is written: pyproject.toml and the C core
# (ft_version(), via ftstap/_build.py) take it from here.
__version__ = "0.1.0"
