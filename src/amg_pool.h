/* amg_pool.h - what the builders of the consensus pool share. */
#ifndef SAM2_AMG_POOL_H
#define SAM2_AMG_POOL_H

#include "sam2.h"

/* Moves every record of extra (RLEs included) to the end of pool, leaving
 * extra empty; on failure both are as they were. */
sam2_status amg_pool_take(sam2_amg_result *pool, sam2_amg_result *extra);

#endif
