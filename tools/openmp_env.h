/* openmp_env.h - how the tool's OpenMP threads wait at barriers, chosen
 * before the OpenMP runtime starts. */
#ifndef SAM2_OPENMP_ENV_H
#define SAM2_OPENMP_ENV_H

#include <stddef.h>

/* When neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets
 * GOMP_SPINCOUNT to the tool's default and runs the program again with the
 * same arguments (the runtime reads its settings when the program loads, so
 * they take effect only in a new image). Returns when nothing was to be done
 * or the new run could not start (the runtime's own default then stays). */
void openmp_env_setup(char **argv);

/* How threads wait in this process, e.g. "GOMP_SPINCOUNT=1000 (sam2's
 * default)" or "OMP_WAIT_POLICY=passive (environment)", into buf. */
const char *openmp_env_describe(char *buf, size_t n);

#endif
