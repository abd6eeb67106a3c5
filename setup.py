# cffi builds the C core (native/) into ftstap._native at install time.
from setuptools import setup

setup(cffi_modules=["ftstap/_build.py:ffibuilder"])
