/* The overhead benchmark's generator: call getppid() in a loop for SECONDS
   and report "CALLS SECONDS" (to OUTFILE, or stdout).  Pin it with taskset.
   The raw syscall is used so no libc could ever answer from a cache. */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    long long calls = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 1024; i++)
            syscall(SYS_getppid);
        calls += 1024;
    } while ((t = now()) - t0 < secs);
    FILE *f = argc > 2 ? fopen(argv[2], "w") : stdout;
    if (!f)
        return 1;
    fprintf(f, "%lld %.6f\n", calls, t - t0);
    return fclose(f) != 0;
}
