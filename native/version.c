#include "ftstap.h"

const char *ft_version(void) { return "0.1.0"; }
