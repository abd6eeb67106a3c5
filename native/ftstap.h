/* The one header cffi reads (see ftstap/_build.py): declarations only. */

const char *ft_version(void);
