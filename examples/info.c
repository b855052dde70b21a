/* info.c - the smallest use of the library: load a checkpoint, describe it.
 * usage: example_info MODEL.pt [CONFIG.yaml] */
#include <stdio.h>

#include "sam2.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.pt [CONFIG.yaml]\n", argv[0]);
        return 2;
    }
    sam2_model *model = NULL;
    if (sam2_model_load(argv[1], argc > 2 ? argv[2] : NULL, &model) != SAM2_OK) {
        fprintf(stderr, "%s\n", sam2_last_error());
        return 1;
    }
    sam2_model_info info;
    sam2_model_get_info(model, &info);
    printf("%s: image size %d, %lld image-path parameters\n",
           info.preset ? info.preset : "custom", info.image_size, (long long)info.parameters);
    sam2_model_free(model);
    return 0;
}
