/* test_contrast.c - CLAHE and the low-contrast test: constants stay
 * constant, a faint ramp is stretched, smooth input stays smooth, any size
 * works, the public step replicates gray and is off unless asked; on
 * shapes-dev the automatic choice picks exactly the low-contrast scenes. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "contrast.h"
#include "image_io.h"
#include "test.h"

static void check_clahe(void) {
    enum { W = 257, H = 161 };
    uint8_t *in = malloc(W * H), *out = malloc(W * H);
    memset(in, 90, W * H);
    CHECK(clahe_u8(in, W, H, 8, 2.0f, out) == 0, "clahe");
    int lo = 255, hi = 0;
    for (int i = 0; i < W * H; i++) lo = out[i] < lo ? out[i] : lo, hi = out[i] > hi ? out[i] : hi;
    CHECK(lo == hi, "a constant image must stay constant (%d..%d)", lo, hi);

    /* a faint horizontal ramp 100..115 with a little texture */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) in[y * W + x] = (uint8_t)(100 + x * 16 / W + ((x * 7 + y * 3) % 3 == 0));
    CHECK(clahe_u8(in, W, H, 8, 2.0f, out) == 0, "clahe ramp");
    const int before = contrast_spread(in, W * H), after = contrast_spread(out, W * H);
    int jump = 0;
    for (int y = 0; y < H; y++)
        for (int x = 1; x < W; x++) {
            int d = abs(out[y * W + x] - out[y * W + x - 1]);
            jump = d > jump ? d : jump;
        }
    printf("  faint ramp: spread %d -> %d, largest step between neighbours %d\n", before, after, jump);
    CHECK(5 * after >= 6 * before, "CLAHE must stretch a faint ramp: %d -> %d", before, after);
    CHECK(jump <= 64, "neighbouring pixels jump by %d: the regions' mappings are not blended", jump);

    /* tiny and odd sizes */
    uint8_t one = 7, o1 = 0, small[21], so[21];
    CHECK(clahe_u8(&one, 1, 1, 8, 2.0f, &o1) == 0, "1x1");
    for (int i = 0; i < 21; i++) small[i] = (uint8_t)(i * 12);
    CHECK(clahe_u8(small, 7, 3, 8, 2.0f, so) == 0, "7x3");
    int mono = 1;
    for (int i = 1; i < 7; i++) mono &= so[i] >= so[i - 1];
    CHECK(mono, "7x3: the row order of values must be kept");
    free(in), free(out);

    /* spread: 1st to 99th percentile */
    uint8_t v[1000];
    for (int i = 0; i < 1000; i++) v[i] = (uint8_t)(i % 200 + (i == 0 ? 0 : 0));
    CHECK(contrast_spread(v, 1000) >= 190 && contrast_spread(v, 1000) <= 199, "spread %d", contrast_spread(v, 1000));
}

static void check_public(void) {
    enum { W = 40, H = 30 };
    uint8_t gray[W * H], rgb[W * H * 3];
    for (int i = 0; i < W * H; i++) gray[i] = (uint8_t)(120 + (i % W) / 8);                /* spread 4: low */
    for (int i = 0; i < W * H; i++) rgb[3 * i] = (uint8_t)(i % 255), rgb[3 * i + 1] = 30, rgb[3 * i + 2] = 200;
    sam2_image g = {W, H, W, 1, 8, gray}, c = {W, H, W * 3, 3, 8, rgb};
    uint8_t *px = NULL;
    int applied = -1;
    CHECK_OK(sam2_image_enhance(&g, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_OFF, &px, &applied));
    CHECK(!px && applied == 0, "off must do nothing");
    CHECK_OK(sam2_image_enhance(&g, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_AUTO, &px, &applied));
    CHECK(px && applied == 1, "auto must take a faint gray image");
    int rep = 1;
    for (int i = 0; px && i < W * H; i++) rep &= px[3 * i] == px[3 * i + 1] && px[3 * i + 1] == px[3 * i + 2];
    CHECK(rep, "gray must stay gray");
    free(px), px = NULL;
    CHECK_OK(sam2_image_enhance(&c, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_AUTO, &px, &applied));
    CHECK(!px && applied == 0, "auto must leave colour alone");
    CHECK_OK(sam2_image_enhance(&c, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_CLAHE, &px, &applied));
    CHECK(px && applied == 1, "clahe must always apply");
    free(px), px = NULL;
    CHECK(sam2_image_enhance(&c, SAM2_DEPTH_WINDOW, (sam2_contrast_mode)9, &px, &applied) == SAM2_ERR_PARAM,
          "bad mode accepted");
}

/* Every low-contrast shapes-dev scene is taken, no other. */
static void check_bench(void) {
    const char *b = getenv("SAM2_BENCH");
    char path[4096];
    snprintf(path, sizeof path, "%s/shapes-dev/index.json", b ? b : "");
    char *text = b ? test_read_file(path, NULL) : NULL;
    if (!text) {
        printf("no $SAM2_BENCH/shapes-dev: the benchmark check is skipped\n");
        return;
    }
    cJSON *j = cJSON_Parse(text);
    int wrong = 0, low = 0, n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "images")) {
        const char *im = cJSON_GetObjectItem(e, "image")->valuestring, *var = cJSON_GetObjectItem(e, "variant")->valuestring;
        snprintf(path, sizeof path, "%s/shapes-dev/%s", b, im);
        image_file f;
        if (image_file_read(path, &f) != SAM2_OK) continue;
        sam2_image v = image_file_view(&f);
        uint8_t *px = NULL;
        int applied = 0;
        CHECK_OK(sam2_image_enhance(&v, SAM2_DEPTH_WINDOW, SAM2_CONTRAST_AUTO, &px, &applied));
        free(px);
        wrong += applied != !strcmp(var, "lowc");
        low += applied, n++;
        image_file_free(&f);
    }
    printf("  shapes-dev: CLAHE chosen for %d of %d scenes, %d wrong\n", low, n, wrong);
    CHECK(n == 60 && wrong == 0 && low == 20, "automatic choice: %d wrong of %d", wrong, n);
    cJSON_Delete(j);
    free(text);
}

int main(void) {
    check_clahe();
    check_public();
    check_bench();
    return test_finish();
}
