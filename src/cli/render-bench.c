/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bench result document: what every `gpupass bench` run writes and
 * `gpupass bench compare` reads. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchenv.h"
#include "cli.h"
#include "fileio.h"

static json_object *str_or_null(const char *s)
{
    return s && *s ? json_object_new_string(s) : NULL;
}

json_object *gp_cli_bench_doc(const gp_host *h, const char *label)
{
    json_object *doc = json_object_new_object(), *env = json_object_new_object();
    gp_bench_env e;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;

    gp_bench_env_read(h, &e);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_object_object_add(doc, "gpupass_bench", json_object_new_int(GP_BENCH_FORMAT));
    json_object_object_add(doc, "label", json_object_new_string(label && *label ? label :
                                                                 gp_bench_place_to_string(e.place)));
    json_object_object_add(doc, "time", json_object_new_string(when));
    json_object_object_add(env, "place", json_object_new_string(gp_bench_place_key(e.place)));
    json_object_object_add(env, "hypervisor", str_or_null(e.hypervisor));
    json_object_object_add(env, "container", str_or_null(e.container));
    json_object_object_add(env, "sys_vendor", str_or_null(e.sys_vendor));
    json_object_object_add(env, "product_name", str_or_null(e.product_name));
    json_object_object_add(env, "kernel", str_or_null(e.kernel));
    json_object_object_add(env, "cpu", str_or_null(e.cpu));
    json_object_object_add(env, "nvidia_driver", str_or_null(e.nvidia_driver));
    json_object_object_add(doc, "environment", env);
    return doc;
}

int gp_cli_bench_write(json_object *doc, const char *out)
{
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t len = strlen(text);
    int r;

    if (!out)
        return puts(text) < 0 || fflush(stdout) != 0 ? gp_cli_error("writing the output failed") : 0;
    {
        _cleanup_free_ char *withnl = malloc(len + 2);

        if (!withnl)
            return gp_cli_error("out of memory");
        /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): bytes for a file, not a string */
        memcpy(withnl, text, len);
        withnl[len] = '\n';
        r = gp_file_replace_at(AT_FDCWD, out, withnl, len + 1, 0644, geteuid(), getegid());
    }
    if (r < 0)
        return gp_cli_error("cannot write '%s': %s", out, strerror(-r));
    return 0;
}
