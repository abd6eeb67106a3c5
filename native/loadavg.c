/* stap's loadavg tapset reads the kernel's avenrun[]: the 1, 5 and 15
 * minute load averages.  /proc/loadavg prints the same numbers with two
 * decimals; _loadavg_centi(i) is average i times 100 (-1 when /proc
 * cannot be read or i is not 0..2).  tapsets/loadavg.stp builds
 * get_loadavg_index and sprint_loadavg on it. */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <stdio.h>

TFB(_loadavg_centi)
{
    (void)vm, (void)sa, (void)sret;
    unsigned long w[3], f[3];
    *iret = -1;
    FILE *fp = fopen("/proc/loadavg", "re");
    if (!fp)
        return 0;
    int n = fscanf(fp, "%lu.%lu %lu.%lu %lu.%lu", &w[0], &f[0], &w[1], &f[1], &w[2], &f[2]);
    fclose(fp);
    if (n == 6 && ia[0] >= 0 && ia[0] <= 2)
        *iret = (ft_i64)(w[ia[0]] * 100 + f[ia[0]]);
    return 0;
}
