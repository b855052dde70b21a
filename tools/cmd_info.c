/* cmd_info.c - `sam2 info`: what a checkpoint holds and how it is read. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "openmp_env.h"

static void print_list(const char *label, const int *v, int n) {
    printf("%-22s [", label);
    for (int i = 0; i < n; i++) printf("%s%d", i ? ", " : "", v[i]);
    printf("]\n");
}

static cJSON *int_array(const int *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static void print_json(const sam2_model_info *in) {
    cJSON *o = cJSON_CreateObject();
    if (in->preset) cJSON_AddStringToObject(o, "preset", in->preset);
    else cJSON_AddNullToObject(o, "preset");
    cJSON_AddStringToObject(o, "config", in->config_source);
    cJSON_AddNumberToObject(o, "image_size", in->image_size);
    cJSON_AddNumberToObject(o, "embed_dim", in->embed_dim);
    cJSON_AddNumberToObject(o, "num_heads", in->num_heads);
    cJSON_AddItemToObject(o, "stages", int_array(in->stages, in->n_stages));
    cJSON_AddItemToObject(o, "window_spec", int_array(in->window_spec, in->n_stages));
    cJSON_AddItemToObject(o, "global_att_blocks",
                          int_array(in->global_att_blocks, in->n_global_att_blocks));
    cJSON_AddNumberToObject(o, "d_model", in->d_model);
    cJSON_AddNumberToObject(o, "parameters", (double)in->parameters);
    cJSON_AddNumberToObject(o, "tensors_loaded", in->tensors_loaded);
    cJSON_AddNumberToObject(o, "tensors_skipped", in->tensors_skipped);
    cJSON_AddStringToObject(o, "file_dtypes", in->file_dtypes);
    cJSON_AddNumberToObject(o, "mapped_bytes", (double)in->mapped_bytes);
    cJSON_AddNumberToObject(o, "converted_bytes", (double)in->owned_weight_bytes);
    cJSON_AddStringToObject(o, "model_hash", in->model_hash);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)ru.ru_maxrss * 1024.0);
    char wait[160];
    cJSON_AddStringToObject(o, "openmp_wait", openmp_env_describe(wait, sizeof wait));
    char *s = cJSON_Print(o);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

static void print_text(const sam2_model_info *in) {
    printf("%-22s %s\n", "preset", in->preset ? in->preset : "(custom config)");
    printf("%-22s %s\n", "config", in->config_source);
    printf("%-22s %d\n", "image size", in->image_size);
    printf("%-22s %d\n", "trunk embed dim", in->embed_dim);
    printf("%-22s %d\n", "trunk heads", in->num_heads);
    print_list("trunk stages", in->stages, in->n_stages);
    print_list("trunk windows", in->window_spec, in->n_stages);
    print_list("global attention", in->global_att_blocks, in->n_global_att_blocks);
    printf("%-22s %d\n", "neck / decoder dim", in->d_model);
    printf("%-22s %lld\n", "image-path parameters", (long long)in->parameters);
    printf("%-22s %d\n", "tensors loaded", in->tensors_loaded);
    printf("%-22s %d (video-only)\n", "tensors skipped", in->tensors_skipped);
    printf("%-22s %s\n", "file dtypes", in->file_dtypes);
    printf("%-22s %.1f MiB mapped, %.1f MiB converted\n", "memory",
           in->mapped_bytes / 1048576.0, in->owned_weight_bytes / 1048576.0);
    printf("%-22s %s\n", "model hash", in->model_hash);
    char wait[160];
    printf("%-22s %s\n", "OpenMP threads wait", openmp_env_describe(wait, sizeof wait));
}

int cmd_info(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: sam2 info [-m MODEL.pt] [-c CONFIG.yaml] [--json]\n"
                   "Loads the checkpoint (every image-path tensor checked by name and shape)\n"
                   "and describes it. Without -m: the embedded demo model.\n");
            return 0;
        } else {
            return cli_usage_error("info", "unknown argument '%s' (see sam2 info --help)", argv[i]);
        }
    }
    sam2_model *m = cli_load_model(&c);
    if (!m) return 1;
    sam2_model_info in;
    sam2_model_get_info(m, &in);
    if (json) print_json(&in);
    else print_text(&in);
    sam2_model_free(m);
    return 0;
}
