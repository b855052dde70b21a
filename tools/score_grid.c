/* score_grid.c - threshold axes from the percentiles of an image's
 * candidate scores (see score_grid.h). */
#include "score_grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The value at fraction q of the sorted v (n > 0), rounded down to 0.01
 * strictly below exact multiples (the IoU filter is strict), in 0..1. */
static double threshold_at(const float *v, int n, double q) {
    double t = floor((double)v[(int)(q * (n - 1))] * 100.0 - 1e-4) / 100.0;
    return t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
}

/* Appends "name=a,b,c" of the thresholds of sorted v at the fractions q,
 * each value once. Returns the characters written, or -1 when out of room. */
static int axis_text(const char *name, const float *v, int n, const double *q, int nq, char *text, size_t size) {
    int o = snprintf(text, size, "%s=", name);
    double last = -1.0;
    for (int i = 0; i < nq && o > 0 && (size_t)o < size; i++) {
        const double t = threshold_at(v, n, q[i]);
        if (t == last) continue;
        o += snprintf(text + o, size - (size_t)o, "%s%.2f", last < 0.0 ? "" : ",", t);
        last = t;
    }
    return o > 0 && (size_t)o < size ? o : -1;
}

int score_grid_text(const sam2_amg_result *all, char *text, size_t size) {
    static const double iou_q[] = {0.5, 0.75, 0.9}, stab_q[] = {0.25, 0.5, 0.75};
    if (!all || all->n_masks <= 0) return -1;
    float *iou = malloc(sizeof(float) * (size_t)all->n_masks), *stab = malloc(sizeof(float) * (size_t)all->n_masks);
    int rc = -1, n = 0, ns = 0;
    if (!iou || !stab) goto done;
    for (int k = 0; k < all->n_masks; k++)
        if (isfinite(all->masks[k].predicted_iou) && isfinite(all->masks[k].stability_score))
            iou[n++] = all->masks[k].predicted_iou;
    if (n == 0) goto done;
    qsort(iou, (size_t)n, sizeof *iou, cmp_float);
    /* the stability axis describes the candidates the loosest IoU value lets through */
    const float lowest = (float)threshold_at(iou, n, iou_q[0]);
    for (int k = 0; k < all->n_masks; k++) {
        const sam2_amg_mask *m = &all->masks[k];
        if (isfinite(m->predicted_iou) && isfinite(m->stability_score) && (lowest <= 0.0f || m->predicted_iou > lowest))
            stab[ns++] = m->stability_score;
    }
    if (ns == 0) goto done;
    qsort(stab, (size_t)ns, sizeof *stab, cmp_float);
    const int o = axis_text("pred-iou-thresh", iou, n, iou_q, 3, text, size);
    if (o < 0 || (size_t)o + 1 >= size) goto done;
    text[o] = ';';
    rc = axis_text("stability-score-thresh", stab, ns, stab_q, 3, text + o + 1, size - (size_t)o - 1) < 0 ? -1 : 0;
done:
    free(iou), free(stab);
    return rc;
}
