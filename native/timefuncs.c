/* Wall-clock text and the kernel's tick clock: ctime, tz_gmtoff, tz_name,
 * HZ, jiffies.  (ctime() without an argument, tz_ctime and the cpu_clock_*
 * family are stap functions in tapsets/ctime.stp and tapsets/cpu_clock.stp.)
 *
 * The time zone is read once, the first time a script asks, as staprun
 * reads it once at startup.
 *
 * The kernel's tick rate is not visible to user space as such (sysconf's
 * CLK_TCK is USER_HZ, always 100 on x86).  It is worked out once from
 * /proc/timer_list, which shows both the uptime ("now at N nsecs") and
 * jiffies: the kernel starts jiffies at 2^32 - 300 * HZ, so only one of the
 * rates a kernel can be built with fits both.  Without timer_list (it is
 * root-only), CONFIG_HZ from /boot/config-RELEASE. */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret

/* ctime(secs): "Thu Jan  1 00:00:00 1970" (UTC, always 24 characters);
   stap limits it to what a 32-bit time_t can hold. */
int ft_b_ctime(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    static const char days[] = "SunMonTueWedThuFriSat", months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (ia[0] > 2147483647LL)
        return ft_vm_fail(vm, "Time too far in the future to be converted");
    if (ia[0] < -2147483648LL)
        return ft_vm_fail(vm, "Time too far in the past to be converted");
    time_t t = (time_t)ia[0];
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.3s %.3s%3d %02d:%02d:%02d %d", days + 3 * tm.tm_wday,
                     months + 3 * tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     tm.tm_year + 1900);
    ft_str_set(vm, sret, buf, n);
    return 0;
}

static struct {
    int known;
    long west;               /* seconds west of UTC */
    char name[16];
} zone;

static void zone_read(void)
{
    if (zone.known)
        return;
    time_t now = time(NULL);
    struct tm tm;
    tzset();
    if (localtime_r(&now, &tm)) {
        zone.west = -tm.tm_gmtoff;
        snprintf(zone.name, sizeof zone.name, "%s", tm.tm_zone ? tm.tm_zone : "");
    }
    zone.known = 1;
}

/* tz_gmtoff(): the local time zone's offset in seconds west of UTC (-3600 for CET) */
int ft_b_tz_gmtoff(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    zone_read();
    *iret = zone.west;
    return 0;
}

/* tz_name(): the local time zone's abbreviation ("UTC", "CET") */
int ft_b_tz_name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    zone_read();
    ft_str_set(vm, sret, zone.name, -1);
    return 0;
}

/* ---- the tick clock ---- */

static long read_file(const char *path, char *buf, long cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long n = 0, k;
    while (n < cap - 1 && (k = (long)read(fd, buf + n, (size_t)(cap - 1 - n))) > 0)
        n += k;
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

static long long field(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static long hz_from_timer_list(void)
{
    static const long rates[] = {100, 250, 300, 1000, 24, 32, 48, 64, 128, 200, 256, 512, 1024, 1200};
    char buf[8192];
    if (read_file("/proc/timer_list", buf, sizeof buf) <= 0)
        return 0;
    long long now = field(buf, "now at "), jiffies = field(buf, "\njiffies: ");
    if (now < 0 || jiffies < 0)
        return 0;
    long best = 0;
    double best_err = 0;
    for (unsigned i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        double want = 4294967296.0 + (double)rates[i] * ((double)now / 1e9 - 300.0);
        double err = want > (double)jiffies ? want - (double)jiffies : (double)jiffies - want;
        if (!best || err < best_err)
            best = rates[i], best_err = err;
    }
    return best;
}

static long hz_from_config(void)
{
    struct utsname u;
    char path[128 + sizeof u.release], buf[1 << 17];
    if (uname(&u) != 0)
        return 0;
    snprintf(path, sizeof path, "/boot/config-%s", u.release);
    if (read_file(path, buf, sizeof buf) <= 0)
        return 0;
    long long hz = field(buf, "\nCONFIG_HZ=");
    return hz > 0 ? (long)hz : 0;
}

static long kernel_hz(void)
{
    static long hz = -1;
    if (hz < 0) {
        hz = hz_from_timer_list();
        if (!hz)
            hz = hz_from_config();
    }
    return hz;
}

/* HZ(): the kernel's tick rate (CONFIG_HZ) */
int ft_b_HZ(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    long hz = kernel_hz();
    if (!hz)
        return ft_vm_fail(vm, "HZ(): cannot tell the kernel's tick rate "
                              "(needs root for /proc/timer_list, or /boot/config-RELEASE)");
    *iret = hz;
    return 0;
}

/* jiffies(): the kernel's 64-bit tick count at the event, from the
   monotonic clock (both stop while the system is suspended) */
int ft_b_jiffies(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    long hz = kernel_hz();
    if (!hz)
        return ft_b_HZ(vm, ia, sa, iret, sret);
    ft_i64 ns = ft_vm_mono_ns(vm);        /* the event's moment */
    ft_i64 ticks = ns / 1000000000 * hz + ns % 1000000000 * hz / 1000000000;
    *iret = (ft_i64)(4294967296LL - 300LL * hz) + ticks;
    return 0;
}
