/* test_noise_sigma.c - the pixel-noise estimate `sam2 eval` reports per
 * image: Gaussian noise of sigma 2 and 5 on a scene with strong edges comes
 * out within 10 %, a flat image gives 0, 8-bit gray, RGB and 16-bit copies
 * agree, images too small for a Laplacian give 0, bad images are refused. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge_map.h"
#include "test.h"

enum { W = 160, H = 120 };

/* A background of 100 with a rectangle at 160 and a bar at 40 (edges of 60
 * levels), plus Gaussian noise of the given sigma (Box-Muller on a fixed
 * LCG), rounded and clipped to 8 bits. */
static void scene(uint8_t *px, double sigma) {
    uint64_t s = 12345;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double v = 100;
            if (x >= 30 && x < 90 && y >= 20 && y < 80) v = 160;
            if (x >= 110 && x < 125) v = 40;
            double u[2];
            for (int k = 0; k < 2; k++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                u[k] = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
            }
            v += sigma * sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
            px[y * W + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
        }
}

static float sigma_of(const sam2_image *img) {
    float s = -1;
    CHECK_OK(image_noise_sigma(img, &s));
    return s;
}

int main(void) {
    static uint8_t px[W * H], rgb[W * H * 3];
    static uint16_t wide[W * H];
    const sam2_image gray = {W, H, W, 1, 8, px};
    for (int k = 0; k < 2; k++) {
        const double want = k ? 5.0 : 2.0;
        scene(px, want);
        const float got = sigma_of(&gray);
        CHECK(fabs(got - want) < 0.1 * want, "noise sigma %.2f estimated as %.3f", want, (double)got);
    }

    /* the same image as RGB and as 16-bit: the same estimate */
    for (int i = 0; i < W * H; i++) {
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = px[i];
        wide[i] = (uint16_t)(px[i] * 257);
    }
    const sam2_image color = {W, H, 3 * W, 3, 8, rgb}, deep = {W, H, 2 * W, 1, 16, wide};
    const float g = sigma_of(&gray), c = sigma_of(&color), d = sigma_of(&deep);
    CHECK(fabsf(g - c) < 1e-3f && fabsf(g - d) < 1e-3f, "gray %.4f, RGB %.4f, 16-bit %.4f", (double)g, (double)c,
          (double)d);

    /* no noise: edges alone estimate nothing */
    scene(px, 0);
    CHECK(sigma_of(&gray) == 0.0f, "a noiseless scene has noise %.3f", (double)sigma_of(&gray));

    /* 2 pixels wide: no interior pixel for a Laplacian */
    const sam2_image thin = {2, H, 2, 1, 8, px};
    CHECK(sigma_of(&thin) == 0.0f, "a 2-pixel-wide image has a noise estimate");

    /* bad images */
    float s = 0;
    const sam2_image none = {0, H, 0, 1, 8, px}, odd = {W, H, W, 1, 12, px};
    CHECK(image_noise_sigma(&none, &s) != SAM2_OK, "a 0-wide image accepted");
    CHECK(image_noise_sigma(&odd, &s) != SAM2_OK, "a 12-bit image accepted");
    CHECK(image_noise_sigma(NULL, &s) == SAM2_ERR_PARAM, "NULL image accepted");
    CHECK(image_noise_sigma(&gray, NULL) == SAM2_ERR_PARAM, "NULL result accepted");
    return test_finish();
}
