/* test_eval_overlay.c - the truth picture of `sam2 eval --overlays`: each
 * object blended with the colour its best IoU earns (green found at 0.75,
 * yellow at 0.5 only, red missed), the background untouched; the page holds
 * both tiles; a result of another size is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval_overlay.h"
#include "test.h"

enum { OW = 24, OH = 16 };

/* The blend overlay_draw_mask gives an inner pixel of value v. */
static int blended(const uint8_t *p, int v, const uint8_t c[3]) {
    for (int k = 0; k < 3; k++)
        if (p[k] != (uint8_t)((v + c[k] + 1) / 2)) return 0;
    return 1;
}

int main(void) {
    /* labels 9, 4 and 6: three 6 x 6 squares in a row; numbered 1, 2, 3 by
     * first appearance */
    uint8_t lab[OW * OH] = {0}, rgb[OW * OH * 3];
    for (int y = 4; y < 10; y++)
        for (int x = 0; x < 18; x++) lab[y * OW + x] = x < 6 ? 9 : x < 12 ? 4 : 6;
    memset(rgb, 100, sizeof rgb);
    truth_map t;
    CHECK(truth_map_from_labels(lab, 8, OW, OH, &t) == 0 && t.n_obj == 3, "labels");
    const float best[4] = {0, 0.8f, 0.6f, 0.2f};
    uint8_t *pic = eval_truth_picture(rgb, &t, best);
    CHECK(pic != NULL, "truth picture");
    if (pic) {
        CHECK(blended(pic + 3 * (6 * OW + 2), 100, EVAL_FOUND75_RGB), "object 1 (IoU 0.8) green: %d %d %d",
              pic[3 * (6 * OW + 2)], pic[3 * (6 * OW + 2) + 1], pic[3 * (6 * OW + 2) + 2]);
        CHECK(blended(pic + 3 * (6 * OW + 8), 100, EVAL_FOUND50_RGB), "object 2 (IoU 0.6) yellow");
        CHECK(blended(pic + 3 * (6 * OW + 14), 100, EVAL_MISSED_RGB), "object 3 (IoU 0.2) red");
        CHECK(!memcmp(pic + 3 * (12 * OW + 20), rgb, 3) && !memcmp(pic, rgb, 3), "background untouched");
        CHECK(!blended(pic + 3 * (4 * OW + 8), 100, EVAL_FOUND50_RGB), "outline drawn darker, not blended");
        const uint8_t *seam = pic + 3 * (6 * OW + 5); /* object 1's last column, beside object 2 */
        CHECK(seam[0] == EVAL_FOUND75_RGB[0] * 6 / 10 && seam[1] == EVAL_FOUND75_RGB[1] * 6 / 10,
              "neighbouring objects keep an outline between them: %d %d", seam[0], seam[1]);
        free(pic);
    }
    /* the thresholds themselves count as found */
    const float edge[4] = {0, 0.75f, 0.5f, 0.4999f};
    pic = eval_truth_picture(rgb, &t, edge);
    CHECK(pic && blended(pic + 3 * (6 * OW + 2), 100, EVAL_FOUND75_RGB) &&
              blended(pic + 3 * (6 * OW + 8), 100, EVAL_FOUND50_RGB) &&
              blended(pic + 3 * (6 * OW + 14), 100, EVAL_MISSED_RGB),
          "IoU 0.75 green, 0.5 yellow, just under 0.5 red");
    free(pic);

    /* the page: both tiles side by side with their captions */
    sam2_amg_result r = {0};
    r.width = OW, r.height = OH;
    uint8_t *page = NULL;
    int pw = 0, ph = 0;
    CHECK(eval_overlay_page(rgb, &t, &r, best, "scene", &page, &pw, &ph) == 0 && page, "page");
    CHECK(pw >= 2 * 320 && ph > 320 * OH / OW, "page %d x %d: two tiles of at least 320 px and captions", pw, ph);
    free(page);
    r.width = OW + 1;
    CHECK(eval_overlay_page(rgb, &t, &r, best, "scene", &page, &pw, &ph) != 0 && !page, "another size refused");
    truth_map_free(&t);
    return test_finish();
}
