/* amg_pool_cells.c - more questions for consensus: one click at the centre
 * of every cell between four of the grid's clicks, answered on the whole
 * image, and their candidates added to the pool. Twice the independent
 * answers make agreement a firmer sign of an object than one grid's. */
#include <stdlib.h>
#include <string.h>

#include "amg_pool.h"
#include "error.h"
#include "sam2.h"

sam2_status sam2_amg_pool_add_cell_clicks(sam2_ctx *ctx, const sam2_amg_params *params, float pool_pred_iou_thresh,
                                          sam2_amg_result *pool) {
    if (!ctx || !params || !pool)
        return SAM2_FAIL(SAM2_ERR_PARAM, "sam2_amg_pool_add_cell_clicks: NULL argument");
    SAM2_TRY(sam2_amg_params_check(params)); /* also bounds points_per_side */
    const int N = params->points_per_side, n = N - 1; /* clicks, cells per side */
    if (params->point_grids || n < 1) return SAM2_OK; /* explicit grids: no cells to speak of */
    float *grid = malloc(sizeof(float) * 2 * (size_t)n * n); /* (n * n, 2) normalised x, y */
    if (!grid) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d cell clicks", n * n);
    /* the grid's clicks sit at (i + 0.5) / N: the cell centres at (i + 1) / N */
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            grid[2 * ((size_t)y * n + x)] = (float)(x + 1) / (float)N;
            grid[2 * ((size_t)y * n + x) + 1] = (float)(y + 1) / (float)N;
        }
    const float *grids[1] = {grid};
    const int sizes[1] = {n * n};
    sam2_amg_params cells = *params;
    cells.points_per_side = 0, cells.point_grids = grids, cells.point_grid_sizes = sizes, cells.n_point_grids = 1;
    cells.crop_n_layers = 0;
    sam2_amg_result *kept = NULL, *extra = NULL;
    sam2_status st = sam2_amg_generate_pool(ctx, NULL, &cells, pool_pred_iou_thresh, &kept, &extra);
    free(grid);
    sam2_amg_result_free(kept);
    if (st == SAM2_OK && (extra->width != pool->width || extra->height != pool->height))
        st = SAM2_FAIL(SAM2_ERR_STATE, "cell clicks: the context holds a %d x %d image, the pool is of %d x %d",
                       extra->width, extra->height, pool->width, pool->height);
    if (st == SAM2_OK) st = amg_pool_take(pool, extra);
    sam2_amg_result_free(extra);
    return st;
}

sam2_status amg_pool_take(sam2_amg_result *pool, sam2_amg_result *extra) {
    if (extra->n_masks == 0) return SAM2_OK;
    sam2_amg_mask *v = realloc(pool->masks, sizeof *v * ((size_t)pool->n_masks + (size_t)extra->n_masks));
    if (!v) return SAM2_FAIL(SAM2_ERR_NOMEM, "out of memory for %d more pool candidates", extra->n_masks);
    memcpy(v + pool->n_masks, extra->masks, sizeof *v * (size_t)extra->n_masks); /* the RLEs move over */
    pool->masks = v, pool->n_masks += extra->n_masks;
    extra->n_masks = 0;
    return SAM2_OK;
}
