/* amg_filters.c - the generator's filter counts for people and for JSON. */
#include "amg_filters.h"

#include <math.h>
#include <stdio.h>

/* "(highest 0.742)", or "" when no candidate reached the filter. */
static void highest(float v, char *buf, size_t n) {
    if (isnan(v)) snprintf(buf, n, "%s", "");
    else snprintf(buf, n, " (highest %.3f)", (double)v);
}

void amg_filters_line(const sam2_amg_filter_counts *f, const sam2_amg_params *p, char *buf, size_t n) {
    char hp[32], hs[32];
    highest(f->max_pred_iou, hp, sizeof hp);
    highest(f->max_stability, hs, sizeof hs);
    snprintf(buf, n,
             "%d clicks -> %d candidates -> %d with predicted IoU > %g%s -> %d with stability >= %g%s -> %d off "
             "crop edges -> %d after box NMS -> %d after crop NMS",
             f->clicks, f->candidates, f->above_pred_iou, (double)p->pred_iou_thresh, hp, f->above_stability,
             (double)p->stability_score_thresh, hs, f->off_crop_edge, f->after_box_nms, f->after_crop_nms);
}

void amg_filters_hint(const sam2_amg_filter_counts *f, const sam2_amg_params *p, amg_hint_for to, char *buf,
                      size_t n) {
    buf[0] = '\0';
    if (f->after_crop_nms > 0 || f->candidates == 0) return;
    const char *name = NULL;
    int o = 0;
    if (f->above_pred_iou == 0 && !isnan(f->max_pred_iou)) {
        name = "pred-iou-thresh";
        o = snprintf(buf, n, "no candidate's predicted IoU is above pred_iou_thresh %g (the highest is %.3f)",
                     (double)p->pred_iou_thresh, (double)f->max_pred_iou);
    } else if (f->above_pred_iou > 0 && f->above_stability == 0 && !isnan(f->max_stability)) {
        name = "stability-score-thresh";
        o = snprintf(buf, n, "no candidate above pred_iou_thresh has a stability score of %g (the highest is %.3f)",
                     (double)p->stability_score_thresh, (double)f->max_stability);
    }
    if (!name || o < 0 || (size_t)o >= n) return;
    if (to == AMG_HINT_FLAGS)
        snprintf(buf + o, n - (size_t)o, ": lower --%s below it, or let 'sam2 tune' search", name);
    else
        snprintf(buf + o, n - (size_t)o, ": give %s values below it in --grid", name);
}

static void add_max(cJSON *o, const char *name, float v) {
    if (isnan(v)) cJSON_AddNullToObject(o, name);
    else cJSON_AddNumberToObject(o, name, (double)v);
}

cJSON *amg_filters_json(const sam2_amg_filter_counts *f) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "clicks", f->clicks);
    cJSON_AddNumberToObject(o, "candidates", f->candidates);
    cJSON_AddNumberToObject(o, "above_pred_iou", f->above_pred_iou);
    cJSON_AddNumberToObject(o, "above_stability", f->above_stability);
    cJSON_AddNumberToObject(o, "off_crop_edge", f->off_crop_edge);
    cJSON_AddNumberToObject(o, "after_box_nms", f->after_box_nms);
    cJSON_AddNumberToObject(o, "after_crop_nms", f->after_crop_nms);
    add_max(o, "max_pred_iou", f->max_pred_iou);
    add_max(o, "max_stability", f->max_stability);
    return o;
}
