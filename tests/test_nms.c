/* test_nms.c - box NMS with torchvision batched_nms semantics: descending
 * stable order, suppression only when IoU > threshold (equality keeps),
 * areas (x1-x0)*(y1-y0) on inclusive boxes, degenerate boxes never suppress. */
#include <math.h>
#include <stdint.h>

#include "nms.h"
#include "test.h"

static void run(const float *boxes, const float *scores, int n, double thr, int *keep, int *nk) {
    CHECK_OK(nms_boxes(boxes, scores, n, thr, keep, nk));
}

int main(void) {
    int keep[16], nk = -1;

    /* two identical boxes: the higher score survives */
    {
        const float b[] = {0, 0, 10, 10, 0, 0, 10, 10};
        const float s[] = {0.5f, 0.9f};
        run(b, s, 2, 0.7, keep, &nk);
        CHECK(nk == 1 && keep[0] == 1, "identical boxes: keep the better one (nk=%d)", nk);
    }
    /* ties keep index order (stable sort), and the first of a tie wins */
    {
        const float b[] = {0, 0, 10, 10, 100, 100, 110, 110, 0, 0, 10, 10, 50, 50, 60, 60};
        const float s[] = {0.8f, 0.8f, 0.8f, 0.9f};
        run(b, s, 4, 0.7, keep, &nk);
        CHECK(nk == 3 && keep[0] == 3 && keep[1] == 0 && keep[2] == 1, "ties: stable order (%d: %d %d %d)", nk,
              keep[0], keep[1], keep[2]);
    }
    /* IoU exactly at the threshold is not suppressed; just above is.
     * [0,0,10,10] vs [0,0,10,5]: inter 50, union 100 -> IoU 0.5 */
    {
        const float b[] = {0, 0, 10, 10, 0, 0, 10, 5};
        const float s[] = {0.9f, 0.8f};
        run(b, s, 2, 0.5, keep, &nk);
        CHECK(nk == 2, "IoU == threshold must not suppress (nk=%d)", nk);
        run(b, s, 2, 0.49, keep, &nk);
        CHECK(nk == 1 && keep[0] == 0, "IoU > threshold suppresses");
    }
    /* the threshold is compared in double, as torchvision does: IoU 0.7f
     * (0.699999988) is not > 0.7 */
    {
        /* [0,0,10,10] vs [0,0,10,7]: IoU = 70/100 = 0.7f */
        const float b[] = {0, 0, 10, 10, 0, 0, 10, 7};
        const float s[] = {0.9f, 0.8f};
        run(b, s, 2, 0.7, keep, &nk);
        CHECK(nk == 2, "IoU 0.7f vs threshold 0.7 keeps both (nk=%d)", nk);
    }
    /* a suppressed box does not suppress others (greedy order) */
    {
        /* A=[0,0,10,10] s.9, B=[0,0,10,6] s.8 (IoU(A,B)=.6), C=[0,2,10,6]... */
        const float b[] = {0, 0, 10, 10, 0, 0, 10, 8, 0, 0, 10, 6};
        const float s[] = {0.9f, 0.8f, 0.7f};
        /* IoU(A,B)=0.8 > 0.65 -> B suppressed; IoU(A,C)=0.6 -> C kept even though IoU(B,C)=0.75 */
        run(b, s, 3, 0.65, keep, &nk);
        CHECK(nk == 2 && keep[0] == 0 && keep[1] == 2, "greedy: suppressed boxes do not suppress (nk=%d)", nk);
    }
    /* degenerate boxes: zero area gives 0/0 = NaN, which never suppresses */
    {
        const float b[] = {0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 9};
        const float s[] = {0.9f, 0.8f, 0.7f};
        run(b, s, 3, 0.0, keep, &nk);
        CHECK(nk == 3, "empty / line boxes never suppress (nk=%d)", nk);
    }
    /* disjoint boxes with threshold 0: IoU 0 is not > 0 */
    {
        const float b[] = {0, 0, 4, 4, 4, 0, 8, 4, 3, 0, 7, 4};
        const float s[] = {0.1f, 0.3f, 0.2f};
        run(b, s, 3, 0.0, keep, &nk);
        CHECK(nk == 2 && keep[0] == 1 && keep[1] == 0, "touching boxes survive threshold 0, overlapping not (nk=%d)", nk);
    }
    /* NaN scores sort first, like torch.sort(descending=True) */
    {
        int idx[4];
        const float s[] = {0.5f, __builtin_nanf(""), 0.7f, 0.5f};
        CHECK_OK(nms_sort_desc(s, 4, idx));
        CHECK(idx[0] == 1 && idx[1] == 2 && idx[2] == 0 && idx[3] == 3, "NaN first, ties stable");
    }
    /* a larger random case against a brute-force reference */
    {
        enum { N = 200 };
        static float b[4 * N], s[N];
        static int k[N], ref[N];
        uint32_t r = 12345;
        for (int i = 0; i < N; i++) {
            r = r * 1664525u + 1013904223u;
            float x0 = (float)(r >> 24) / 4.0f;
            r = r * 1664525u + 1013904223u;
            float y0 = (float)(r >> 24) / 4.0f;
            r = r * 1664525u + 1013904223u;
            b[4 * i] = x0, b[4 * i + 1] = y0, b[4 * i + 2] = x0 + 5 + (float)(r >> 28), b[4 * i + 3] = y0 + 5 + (float)((r >> 24) & 15);
            r = r * 1664525u + 1013904223u;
            s[i] = (float)(r >> 26) / 64.0f; /* many ties */
        }
        run(b, s, N, 0.3, k, &nk);
        /* reference: repeatedly take the best remaining (lowest index on ties) */
        int alive[N], nr = 0;
        for (int i = 0; i < N; i++) alive[i] = 1;
        for (;;) {
            int best = -1;
            for (int i = 0; i < N; i++)
                if (alive[i] && (best < 0 || s[i] > s[best])) best = i;
            if (best < 0) break;
            ref[nr++] = best;
            alive[best] = 0;
            const float *p = b + 4 * best;
            for (int j = 0; j < N; j++) {
                if (!alive[j]) continue;
                const float *q = b + 4 * j;
                float w = fminf(p[2], q[2]) - fmaxf(p[0], q[0]), h = fminf(p[3], q[3]) - fmaxf(p[1], q[1]);
                float inter = (w > 0 ? w : 0) * (h > 0 ? h : 0);
                float ap = (p[2] - p[0]) * (p[3] - p[1]), aq = (q[2] - q[0]) * (q[3] - q[1]);
                if ((double)(inter / (ap + aq - inter)) > 0.3) alive[j] = 0;
            }
        }
        CHECK(nk == nr && !memcmp(k, ref, sizeof(int) * (size_t)nr), "random case: %d kept, reference %d", nk, nr);
    }
    CHECK_OK(nms_boxes(NULL, NULL, 0, 0.5, keep, &nk));
    CHECK(nk == 0, "no boxes");
    return test_finish();
}
