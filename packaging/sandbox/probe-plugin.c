/* probe-plugin.c — a minimal SLAPI post-operation plugin for the sandbox's
 * self-test and for the benchmark's "empty plugin" variant. Its init
 * (reclaim_slapi_init, the same symbol as the real plugin) registers a
 * post-modify callback; with an argument FILE it appends one line per modify
 * to FILE, without one it does nothing, which measures what loading any SLAPI
 * plugin into slapd costs. Declares the few SLAPI names itself (values are
 * the same in OpenLDAP 2.5 and 389-ds 2.3), so it builds without slapi-plugin.h:
 *   cc -shared -fPIC -o probe.so probe-plugin.c
 */
#include <stdio.h>
#include <string.h>

int slapi_pblock_get(void *pb, int arg, void *value);
int slapi_pblock_set(void *pb, int arg, void *value);

#define PROBE_PLUGIN_VERSION 8
#define PROBE_PLUGIN_ARGV 6
#define PROBE_PLUGIN_ARGC 7
#define PROBE_POST_MODIFY_FN 505
#define PROBE_TARGET_DN 50

static char probe_log_buf[4096];
static const char *probe_log_path;

static int probe_post_modify(void *pb)
{
    char *dn = NULL;
    FILE *f;
    if (probe_log_path == NULL)
        return 0;
    slapi_pblock_get(pb, PROBE_TARGET_DN, &dn);
    f = fopen(probe_log_path, "a");
    if (f != NULL) {
        fprintf(f, "modify %s\n", dn != NULL ? dn : "?");
        fclose(f);
    }
    return 0;
}

__attribute__((visibility("default"))) int reclaim_slapi_init(void *pb)
{
    int argc = 0;
    char **argv = NULL;
    static char version[] = "01";
    slapi_pblock_get(pb, PROBE_PLUGIN_ARGC, &argc);
    slapi_pblock_get(pb, PROBE_PLUGIN_ARGV, &argv);
    if (argc > 0 && argv != NULL && argv[0] != NULL && argv[0][0] != '\0')
    {
        /* Copied: the host owns argv. */
        strncpy(probe_log_buf, argv[0], sizeof probe_log_buf - 1);
        probe_log_path = probe_log_buf;
    }
    if (slapi_pblock_set(pb, PROBE_PLUGIN_VERSION, version) != 0 ||
        slapi_pblock_set(pb, PROBE_POST_MODIFY_FN, (void *)probe_post_modify) != 0)
        return -1;
    return 0;
}
