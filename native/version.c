/* The C core's version: ftstap/__init__.py's __version__, which the cffi
 * builder (ftstap/_build.py) passes as FT_VERSION, so the Python package and
 * the library it loads can be checked against each other. */
#include "ftstap.h"

#ifndef FT_VERSION
#error "FT_VERSION is defined by ftstap/_build.py from ftstap/__init__.py"
#endif

const char *ft_version(void) { return FT_VERSION; }
