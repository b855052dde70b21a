/* openmp_env.c - bounded spinning at OpenMP barriers by default.
 *
 * libgomp's default lets a thread that reaches a barrier spin for about
 * 300000 pauses (milliseconds) before it sleeps. Alone on the machine that
 * is fine; when another process holds one of the cores, the thread spins
 * while the thread it waits for is not running, on every one of the
 * thousands of barriers of a run: beside one busy process, the demo model's
 * auto on an example image took 4.3-5.0 s on two threads, 0.6 s on one
 * (1.1-2.1 s with the spin set here). A short spin
 * keeps the quick hand-over of an idle machine and gives the core away
 * under load. The runtime reads the setting once, when the program loads,
 * so the tool sets it and starts itself again. */
#include "openmp_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SAM2_SPINCOUNT "1000"
#define MARK "SAM2_SPINCOUNT_DEFAULTED" /* set with the default, so describe can tell */

void openmp_env_setup(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", SAM2_SPINCOUNT, 1) != 0 || setenv(MARK, "1", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* no new image (no /proc?): this one keeps the runtime's default */
    unsetenv("GOMP_SPINCOUNT");
    unsetenv(MARK);
}

const char *openmp_env_describe(char *buf, size_t n) {
    const char *policy = getenv("OMP_WAIT_POLICY"), *spin = getenv("GOMP_SPINCOUNT");
    if (spin && getenv(MARK) && !strcmp(spin, SAM2_SPINCOUNT) && !policy)
        snprintf(buf, n, "GOMP_SPINCOUNT=%s (sam2's default)", spin);
    else if (policy || spin)
        snprintf(buf, n, "%s%s%s%s%s (environment)", policy ? "OMP_WAIT_POLICY=" : "", policy ? policy : "",
                 policy && spin ? " " : "", spin ? "GOMP_SPINCOUNT=" : "", spin ? spin : "");
    else
        snprintf(buf, n, "the OpenMP runtime's default");
    return buf;
}
