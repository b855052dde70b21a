/* demo_model.c - models/sam2-demo-shapes.pt and its YAML, assembled into
 * the binary's read-only data (.incbin; the paths come from the build) and
 * loaded from there. The checkpoint is aligned to a page so that its
 * float32 tensors are used in place, as from a mapped file. */
#include "demo_model.h"

/* Local symbols (not exported); the size is an assembler constant. */
__asm__(".section .rodata\n"
        ".balign 4096\n"
        "demo_model_pt:\n"
        ".incbin \"" SAM2_DEMO_MODEL_PT "\"\n"
        "demo_model_pt_end:\n"
        ".balign 16\n"
        "demo_model_yaml:\n"
        ".incbin \"" SAM2_DEMO_MODEL_YAML "\"\n"
        ".byte 0\n" /* the YAML as one C string */
        ".balign 8\n"
        "demo_model_pt_size:\n"
        ".quad demo_model_pt_end - demo_model_pt\n"
        ".previous\n");

extern const unsigned char demo_model_pt[] __asm__("demo_model_pt");
extern const char demo_model_yaml[] __asm__("demo_model_yaml");
extern const unsigned long long demo_model_pt_size __asm__("demo_model_pt_size");

sam2_status demo_model_load(const char *yaml_text, const char *name, sam2_model **out) {
    return sam2_model_load_memory(demo_model_pt, (size_t)demo_model_pt_size, yaml_text ? yaml_text : demo_model_yaml,
                                  yaml_text ? name : DEMO_MODEL_NAME, out);
}
