/* test_flops.c - the operation counts make bench sets against time: the
 * encoder's of the official tiny geometry, and the decoder's per grid click
 * (checked once against every product of a 32 x 32 run counted at the
 * kernels), how it grows with the image and when it does not apply. */
#include <math.h>

#include "config.h"
#include "flops.h"
#include "test.h"

int main(void) {
    sam2_config c;
    CHECK_OK(sam2_config_preset("sam2.1_hiera_t", &c));
    /* 286.9 GFLOP at 1024 (the estimate: about 284) */
    const double enc = encoder_flops(&c);
    CHECK(fabs(enc - 286.9e9) < 0.1e9, "encoder %.4g FLOP", enc);

    /* T = 8 tokens (object score, IoU, 4 masks, the click, its padding
     * point), 64 x 64 pixels: 35648 multiply-adds per pixel, 27.4 M on the
     * tokens' side (a run counting every kernel call found the same 146.0 M
     * per click on the pixel side, and 40.4 M on the tokens' side, of which
     * this counts the projections, MLPs and first update's constants) */
    const double dec = decoder_click_flops(&c, 2);
    CHECK(dec == 2.0 * (27394048.0 + 35648.0 * 4096), "decoder %.10g FLOP per click", dec);

    /* the pixel side grows with the feature map, the tokens' side does not */
    sam2_config h = c;
    h.image_size = 512;
    const double half = decoder_click_flops(&h, 2);
    CHECK(half == 2.0 * (27394048.0 + 35648.0 * 1024), "at 512: %.10g", half);

    /* one layer: less than two */
    sam2_config one = c;
    one.dec_depth = 1;
    const double d1 = decoder_click_flops(&one, 2);
    CHECK(d1 > 0 && d1 < dec / 2, "depth 1: %.4g against %.4g", d1, dec);

    /* without an object-score token a click has one token fewer */
    sam2_config noobj = c;
    noobj.pred_obj_scores = 0;
    const double no = decoder_click_flops(&noobj, 2);
    CHECK(no > 0 && no < dec, "no object score: %.4g", no);

    /* not the implicit form: heads x tokens up to the attention width, no prompt token */
    sam2_config wide = c;
    wide.dec_heads = 16;
    CHECK(decoder_click_flops(&wide, 2) == -1, "16 heads x 8 tokens = width 128: %g", decoder_click_flops(&wide, 2));
    CHECK(decoder_click_flops(&c, 0) == -1, "no prompt token: %g", decoder_click_flops(&c, 0));
    return test_finish();
}
