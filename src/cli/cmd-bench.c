/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchgpu.h"
#include "cli.h"
#include "fileio.h"
#include "pciaddr.h"
#include "pcielink.h"

static void bench_help(void)
{
    printf("Usage: gpupass bench [GPU] [--label TEXT] [-o FILE] [--json] [--max-size SIZE]\n"
           "                     [--samples N] [--no-pageable]\n"
           "       gpupass bench llm --url URL --model NAME [--api ollama|openai] [--runs N] ...\n"
           "       gpupass bench compare BASE.json OTHER.json... [--svg FILE]\n"
           "\n"
           "bench: host-to-device and device-to-host copy bandwidth of a GPU over a size\n"
           "sweep (64 KiB to 256 MiB), with pinned and with pageable host memory, and the\n"
           "latency of small copies, through the GPU's own driver library loaded at run\n"
           "time (libcuda.so.1 of the NVIDIA driver, or ROCm's libamdhip64.so). It reads\n"
           "the PCIe link from sysfs and says what share of the link's rate the copies\n"
           "reach, and records where it ran (bare metal, VM and hypervisor, container).\n"
           "GPU is the driver's index (default 0) or a PCI address.\n"
           "\n"
           "bench llm: tokens/s and time to first token of an Ollama or OpenAI-compatible\n"
           "(vLLM) endpoint (gpupass bench llm --help).\n"
           "\n"
           "bench compare: the runs side by side, the first as the base, with the\n"
           "overhead of each other run in %%; --svg draws the same as a chart.\n"
           "\n"
           "Options:\n"
           "  --label TEXT      name of this run in compare (default: where it ran)\n"
           "  -o, --output FILE write the result as JSON to FILE (atomically)\n"
           "  -j, --json        print the result as JSON\n"
           "  --max-size SIZE   largest copy (default 256M; K, M, G suffixes)\n"
           "  --samples N       samples per size (default 3; the median is reported)\n"
           "  --no-pageable     pinned host memory only\n"
           "  --svg FILE        compare: also draw the comparison as an SVG chart\n"
           "  -h, --help        this help\n"
           "\n"
           "Exit status: 0 measured, 1 the copies reach under 60 %% of the link, 3 could not\n"
           "run (no driver library, no GPU, a driver error).\n");
}

static bool parse_size(const char *s, size_t *ret)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    switch (*end) {
    case 'K': case 'k': v <<= 10; end++; break;
    case 'M': case 'm': v <<= 20; end++; break;
    case 'G': case 'g': v <<= 30; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'B')
        end += strspn(end, "iB");
    if (*end || v < 4 || v > (4ull << 30))
        return false;
    *ret = (size_t)v;
    return true;
}

static void fmt_bytes(size_t n, char *buf, size_t size)
{
    if (n >= (1u << 30) && n % (1u << 30) == 0)
        snprintf(buf, size, "%zu GiB", n >> 30);
    else if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, size, "%zu MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, size, "%zu KiB", n >> 10);
    else
        snprintf(buf, size, "%zu B", n);
}

static void progress(void *userdata, unsigned done, unsigned total)
{
    fprintf(stderr, "\rmeasuring: %3u %%", total ? done * 100 / total : 100);
    if (done == total)
        fprintf(stderr, "\r               \r");
    fflush(stderr);
}

/* The PCI function the driver's bus ID names. */
static const gp_pci_dev *dev_of(const gp_cli_gpus *g, const char *bus_id)
{
    gp_pci_addr a;
    bool whole;

    if (gp_pci_addr_parse(bus_id, &a, &whole) < 0)
        return NULL;
    for (size_t i = 0; i < g->pci->n; i++)
        if (gp_pci_addr_cmp(&g->pci->devs[i].addr, &a) == 0)
            return &g->pci->devs[i];
    return NULL;
}

typedef struct link_info {
    char cur_speed[32], max_speed[32];
    int cur_width, max_width;
    char port_speed[32];         /* the upstream port's max, "" unknown */
    int port_width;
    double gbps_now, gbps_max;   /* per direction after encoding */
} link_info;

/* Read after the copies: an idle GPU trains its link down to 2.5 GT/s, so
 * the speed seen before the run says nothing. The usable maximum is the
 * lower of the GPU's and its upstream port's. */
static void link_read(const gp_cli_gpus *g, const gp_pci_dev *d, link_info *l)
{
    char p[300];
    _cleanup_free_ char *s = NULL, *w = NULL;

    *l = (link_info){ 0 };
    if (!d)
        return;
    snprintf(l->max_speed, sizeof(l->max_speed), "%s", d->max_link_speed ? d->max_link_speed : "");
    l->max_width = d->max_link_width;
    snprintf(p, sizeof(p), "%s/current_link_speed", d->path);
    if (gp_host_read_attr(g->h, p, &s) >= 0)
        snprintf(l->cur_speed, sizeof(l->cur_speed), "%s", s);
    else if (d->cur_link_speed)
        snprintf(l->cur_speed, sizeof(l->cur_speed), "%s", d->cur_link_speed);
    snprintf(p, sizeof(p), "%s/current_link_width", d->path);
    l->cur_width = gp_host_read_attr(g->h, p, &w) >= 0 ? atoi(w) : d->cur_link_width;
    if (d->parent >= 0) {
        const gp_pci_dev *port = &g->pci->devs[d->parent];

        snprintf(l->port_speed, sizeof(l->port_speed), "%s", port->max_link_speed ? port->max_link_speed : "");
        l->port_width = port->max_link_width;
    }
    l->gbps_now = gp_pcie_link_gbps(l->cur_speed, l->cur_width);
    l->gbps_max = gp_pcie_link_gbps(l->max_speed, l->max_width);
    if (l->port_speed[0] && l->port_width > 0) {
        double port = gp_pcie_link_gbps(l->port_speed, l->port_width);

        if (port > 0 && (l->gbps_max == 0 || port < l->gbps_max))
            l->gbps_max = port;
    }
}

static const gp_copy_stat *best(const gp_copy_report *r, gp_copy_dir dir, bool pinned)
{
    const gp_copy_stat *b = NULL;

    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].dir == dir && r->v[i].pinned == pinned && (!b || r->v[i].bytes > b->bytes))
            b = &r->v[i];
    return b;
}

static json_object *num(double v)
{
    return json_object_new_double(round(v * 1000) / 1000);
}

static json_object *gpu_json(const gp_gpu_api *a, const gp_gpu_dev_info *info, const link_info *l)
{
    json_object *o = json_object_new_object(), *lk = json_object_new_object();

    json_object_object_add(o, "api", json_object_new_string(gp_gpu_api_kind(a)));
    json_object_object_add(o, "api_version", json_object_new_string(gp_gpu_api_version(a)));
    json_object_object_add(o, "library", json_object_new_string(gp_gpu_api_library(a)));
    json_object_object_add(o, "index", json_object_new_int(info->ordinal));
    json_object_object_add(o, "name", json_object_new_string(info->name));
    json_object_object_add(o, "pci_bus_id", json_object_new_string(info->pci_bus_id));
    json_object_object_add(o, "memory_bytes", json_object_new_int64((int64_t)info->memory));
    json_object_object_add(lk, "current_speed", l->cur_speed[0] ? json_object_new_string(l->cur_speed) : NULL);
    json_object_object_add(lk, "current_width", l->cur_width > 0 ? json_object_new_int(l->cur_width) : NULL);
    json_object_object_add(lk, "max_speed", l->max_speed[0] ? json_object_new_string(l->max_speed) : NULL);
    json_object_object_add(lk, "max_width", l->max_width > 0 ? json_object_new_int(l->max_width) : NULL);
    json_object_object_add(lk, "theoretical_gbps", l->gbps_now > 0 ? num(l->gbps_now) : NULL);
    json_object_object_add(lk, "theoretical_max_gbps", l->gbps_max > 0 ? num(l->gbps_max) : NULL);
    json_object_object_add(o, "link", lk);
    return o;
}

static json_object *copy_json(const gp_copy_report *r)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; i < r->n; i++) {
        const gp_copy_stat *s = &r->v[i];
        json_object *x = json_object_new_object();

        json_object_object_add(x, "direction", json_object_new_string(s->dir == GP_COPY_H2D ? "h2d" : "d2h"));
        json_object_object_add(x, "memory", json_object_new_string(s->pinned ? "pinned" : "pageable"));
        json_object_object_add(x, "bytes", json_object_new_int64((int64_t)s->bytes));
        json_object_object_add(x, "copies", json_object_new_int((int)s->copies));
        json_object_object_add(x, "samples", json_object_new_int((int)s->samples));
        json_object_object_add(x, "gbps_median", num(s->median));
        json_object_object_add(x, "gbps_min", num(s->min));
        json_object_object_add(x, "gbps_max", num(s->max));
        json_object_array_add(a, x);
    }
    return a;
}

static void print_report(const gp_gpu_api *a, const gp_gpu_dev_info *info, const link_info *l,
                         const gp_copy_report *r, bool pageable, json_object *doc)
{
    json_object *env = NULL, *place = NULL, *hyp = NULL, *ctr = NULL;
    const gp_copy_stat *h2d = best(r, GP_COPY_H2D, true), *d2h = best(r, GP_COPY_D2H, true);

    json_object_object_get_ex(doc, "environment", &env);
    json_object_object_get_ex(env, "place", &place);
    json_object_object_get_ex(env, "hypervisor", &hyp);
    json_object_object_get_ex(env, "container", &ctr);
    printf("GPU %d: %s (%s), %s %s (%s); running on %s%s%s%s\n", info->ordinal, info->name, info->pci_bus_id,
           strcmp(gp_gpu_api_kind(a), "cuda") == 0 ? "CUDA" : "HIP", gp_gpu_api_version(a), gp_gpu_api_library(a),
           strcmp(json_object_get_string(place), "vm") == 0 ? "a VM" :
           strcmp(json_object_get_string(place), "container") == 0 ? "a container" : "bare metal",
           hyp || ctr ? " (" : "",
           hyp ? json_object_get_string(hyp) : ctr ? json_object_get_string(ctr) : "", hyp || ctr ? ")" : "");
    if (l->cur_speed[0])
        printf("Link: %s x%d after the copies (GPU max %s x%d%s%s): %.1f GB/s per direction after encoding\n",
               l->cur_speed, l->cur_width, l->max_speed[0] ? l->max_speed : "?", l->max_width,
               l->port_speed[0] ? "; upstream port max " : "", l->port_speed, l->gbps_now);
    else
        printf("Link: not in sysfs (no PCI device %s here: a VM without PCIe topology, or another root)\n",
               info->pci_bus_id);
    printf("\n  %-10s %12s %12s", "size", "H2D pinned", "D2H pinned");
    if (pageable)
        printf(" %14s %14s", "H2D pageable", "D2H pageable");
    printf("   GB/s, median of %u\n", r->n ? r->v[0].samples : 0);
    for (size_t i = 0; i < r->n;) {
        char sz[32];
        size_t bytes = r->v[i].bytes;

        fmt_bytes(bytes, sz, sizeof(sz));
        printf("  %-10s", sz);
        for (; i < r->n && r->v[i].bytes == bytes; i++)
            printf(" %*.2f", r->v[i].pinned ? 12 : 14, r->v[i].median);
        printf("\n");
    }
    printf("\nLatency of a 4-byte pinned copy: H2D %.1f µs, D2H %.1f µs\n", r->latency_us[GP_COPY_H2D],
           r->latency_us[GP_COPY_D2H]);
    if (h2d && d2h && l->gbps_now > 0)
        printf("Efficiency: H2D %.1f GB/s = %.0f %%, D2H %.1f GB/s = %.0f %% of the link's %.1f GB/s "
               "(a healthy link gives 80-90 %%)\n", h2d->median, h2d->median / l->gbps_now * 100, d2h->median,
               d2h->median / l->gbps_now * 100, l->gbps_now);
    if (l->gbps_max > 0 && l->gbps_now > 0 && l->gbps_now < l->gbps_max * 0.99)
        printf("note: the link runs below what the GPU and its port can do (%.1f of %.1f GB/s): reseat the card, "
               "check the slot's wiring and the firmware's PCIe speed setting\n", l->gbps_now, l->gbps_max);
}

static int bench_gpu(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_LABEL = 0x100, OPT_MAX, OPT_SAMPLES, OPT_NO_PAGEABLE };
    static const struct option opts[] = {
        { "label", required_argument, NULL, OPT_LABEL },
        { "output", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { "max-size", required_argument, NULL, OPT_MAX },
        { "samples", required_argument, NULL, OPT_SAMPLES },
        { "no-pageable", no_argument, NULL, OPT_NO_PAGEABLE },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    _cleanup_free_ gp_gpu_dev_info *devs = NULL;
    gp_copy_opts o = { .min_bytes = 64 * 1024, .max_bytes = 256u << 20, .samples = 3, .batch_bytes = 256u << 20,
                       .pageable = true };
    gp_copy_report rep = { 0 };
    gp_gpu_api *api = NULL;
    gp_error err = { 0 };
    const char *label = NULL, *out = NULL, *which = NULL;
    const gp_copy_stat *h2d;
    json_object *doc;
    link_info link;
    bool json = false;
    size_t n = 0;
    int c, r, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:jh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LABEL:
            label = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'j':
            json = true;
            break;
        case OPT_MAX:
            if (!parse_size(optarg, &o.max_bytes))
                return gp_cli_usage_error("bench", "--max-size takes a size from 4 bytes to 4G, not '%s'", optarg);
            break;
        case OPT_SAMPLES: {
            char *end;
            long v = strtol(optarg, &end, 10);

            if (*end || !optarg[0] || v < 1 || v > 100)
                return gp_cli_usage_error("bench", "--samples takes 1 to 100, not '%s'", optarg);
            o.samples = (unsigned)v;
            break;
        }
        case OPT_NO_PAGEABLE:
            o.pageable = false;
            break;
        case 'h':
            bench_help();
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("bench", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (argc - optind > 1)
        return gp_cli_usage_error("bench", "name at most one GPU");
    which = argc - optind == 1 ? argv[optind] : NULL;
    if (o.max_bytes < o.min_bytes)
        o.min_bytes = o.max_bytes;
    r = gp_cli_gpus_load(cli, "bench", 0, NULL, &g);
    if (r != 0)
        return r;
    /* GPUPASS_GPU_LIBDIR: where to load the driver library from (the
     * tests' stand-in); unset, the dynamic linker searches as usual. */
    r = gp_gpu_api_open(getenv("GPUPASS_GPU_LIBDIR"), &api, &err);
    if (r < 0)
        return gp_cli_error("%s", gp_error_message(&err));
    r = gp_gpu_api_devices(api, &devs, &n, &err);
    if (r < 0 || n == 0) {
        r = r < 0 ? gp_cli_error("%s", gp_error_message(&err))
                  : gp_cli_error("%s sees no GPU (is it bound to its driver? `gpupass status`)",
                                 gp_gpu_api_library(api));
        gp_gpu_api_close(api);
        return r;
    }
    o.ordinal = 0;
    if (which) {
        gp_pci_addr want;
        bool whole;
        char *end;
        long idx = strtol(which, &end, 10);

        o.ordinal = -1;
        if (!*end && which[0]) {
            o.ordinal = idx >= 0 && (size_t)idx < n ? (int)idx : -1;
        } else if (gp_pci_addr_parse(which, &want, &whole) == 0) {
            for (size_t i = 0; i < n; i++) {
                gp_pci_addr a;

                if (gp_pci_addr_parse(devs[i].pci_bus_id, &a, &whole) == 0 && gp_pci_addr_same_slot(&a, &want) &&
                    (whole || gp_pci_addr_cmp(&a, &want) == 0))
                    o.ordinal = (int)i;
            }
        }
        if (o.ordinal < 0) {
            r = gp_cli_error("GPU '%s': %s sees %zu GPU%s (index 0 to %zu, or a PCI address: `gpupass list`)",
                             which, gp_gpu_api_library(api), n, n == 1 ? "" : "s", n - 1);
            gp_gpu_api_close(api);
            return r;
        }
    }
    if (isatty(STDERR_FILENO) && !json) {
        o.progress = progress;
        o.userdata = NULL;
    }
    r = gp_gpu_copy_bench(api, &o, &rep, &err);
    if (r < 0) {
        gp_gpu_api_close(api);
        return gp_cli_error("GPU %d (%s): %s", o.ordinal, devs[o.ordinal].pci_bus_id, gp_error_message(&err));
    }
    link_read(&g, dev_of(&g, devs[o.ordinal].pci_bus_id), &link);
    doc = gp_cli_bench_doc(g.h, label);
    json_object_object_add(doc, "gpu", gpu_json(api, &devs[o.ordinal], &link));
    json_object_object_add(doc, "copy", copy_json(&rep));
    {
        json_object *lat = json_object_new_object();

        json_object_object_add(lat, "h2d", num(rep.latency_us[GP_COPY_H2D]));
        json_object_object_add(lat, "d2h", num(rep.latency_us[GP_COPY_D2H]));
        json_object_object_add(doc, "latency_us", lat);
    }
    h2d = best(&rep, GP_COPY_H2D, true);
    json_object_object_add(doc, "efficiency", h2d && link.gbps_now > 0 ? num(h2d->median / link.gbps_now) : NULL);
    rc = GP_EXIT_OK;
    if (json)
        rc = gp_cli_bench_write(doc, NULL);
    else
        print_report(api, &devs[o.ordinal], &link, &rep, o.pageable, doc);
    if (rc == 0 && out) {
        rc = gp_cli_bench_write(doc, out);
        if (rc == 0 && !json)
            printf("\nWrote %s (`gpupass bench compare` reads it).\n", out);
    }
    /* Under 60 % of the link: something between the card and the CPU
     * (link width, bounce buffers, a VM's DMA path) costs more than the
     * encoding and protocol do. */
    if (rc == 0 && h2d && link.gbps_now > 0 && h2d->median < 0.6 * link.gbps_now)
        rc = GP_EXIT_WARN;
    json_object_put(doc);
    gp_copy_report_clear(&rep);
    gp_gpu_api_close(api);
    if (rc == 0 && !json && fflush(stdout) != 0)
        return gp_cli_error("writing the output failed");
    return rc;
}

int gp_cmd_bench(const gp_cli *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "llm") == 0)
        return gp_bench_llm_main(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "compare") == 0)
        return gp_bench_compare_main(cli, argc - 1, argv + 1);
    return bench_gpu(cli, argc, argv);
}
