/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `gpupass bench compare`: result documents side by side, the first as the
 * base, with each other run's overhead in %; and the same as an SVG chart. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"

#define RUNS_MAX 8
#define DOC_MAX (16u * 1024 * 1024)

typedef struct metric {
    char name[64];
    const char *unit;
    bool lower_better;               /* latency, time to first token */
    double v[RUNS_MAX];              /* NAN: the run lacks it */
} metric;

typedef struct table {
    char label[RUNS_MAX][64];
    size_t n_runs;
    metric *m;
    size_t n;
} table;

static metric *metric_get(table *t, const char *name, const char *unit, bool lower_better)
{
    metric *m;

    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->m[i].name, name) == 0)
            return &t->m[i];
    m = realloc(t->m, (t->n + 1) * sizeof(*m));
    if (!m)
        return NULL;
    t->m = m;
    m = &t->m[t->n++];
    *m = (metric){ .unit = unit, .lower_better = lower_better };
    snprintf(m->name, sizeof(m->name), "%s", name);
    for (size_t r = 0; r < RUNS_MAX; r++)
        m->v[r] = NAN;
    return m;
}

static bool get_double(json_object *o, const char *k, double *v)
{
    json_object *x;

    if (!json_object_object_get_ex(o, k, &x) || !x ||
        (!json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int)))
        return false;
    *v = json_object_get_double(x);
    return isfinite(*v);
}

static int add_value(table *t, size_t run, const char *name, const char *unit, bool lower, double v)
{
    metric *m = metric_get(t, name, unit, lower);

    if (!m)
        return -ENOMEM;
    m->v[run] = v;
    return 0;
}

/* The figures of one document: the largest copy of each direction and
 * memory kind, the small-copy latency, the LLM speed. */
static int doc_values(table *t, size_t run, json_object *doc)
{
    json_object *copy, *lat, *llm, *x;
    double v;
    int r = 0;

    if (json_object_object_get_ex(doc, "copy", &copy) && json_object_is_type(copy, json_type_array)) {
        static const char *const kinds[][2] = { { "h2d", "pinned" }, { "d2h", "pinned" }, { "h2d", "pageable" },
                                                { "d2h", "pageable" } };

        for (size_t k = 0; r >= 0 && k < 4; k++) {
            json_object *best = NULL;
            int64_t best_bytes = -1;

            for (size_t i = 0; i < json_object_array_length(copy); i++) {
                json_object *e = json_object_array_get_idx(copy, i), *d, *mem, *b;

                if (json_object_object_get_ex(e, "direction", &d) && json_object_object_get_ex(e, "memory", &mem) &&
                    json_object_object_get_ex(e, "bytes", &b) &&
                    strcmp(json_object_get_string(d), kinds[k][0]) == 0 &&
                    strcmp(json_object_get_string(mem), kinds[k][1]) == 0 && json_object_get_int64(b) > best_bytes) {
                    best = e;
                    best_bytes = json_object_get_int64(b);
                }
            }
            if (best && get_double(best, "gbps_median", &v)) {
                char name[64];

                snprintf(name, sizeof(name), "%s %s copy", strcmp(kinds[k][0], "h2d") == 0 ? "H2D" : "D2H",
                         kinds[k][1]);
                r = add_value(t, run, name, "GB/s", false, v);
            }
        }
    }
    if (r >= 0 && json_object_object_get_ex(doc, "latency_us", &lat)) {
        if (get_double(lat, "h2d", &v))
            r = add_value(t, run, "H2D latency", "µs", true, v);
        if (r >= 0 && get_double(lat, "d2h", &v))
            r = add_value(t, run, "D2H latency", "µs", true, v);
    }
    if (r >= 0 && json_object_object_get_ex(doc, "llm", &llm)) {
        if (json_object_object_get_ex(llm, "tokens_per_s", &x) && get_double(x, "median", &v))
            r = add_value(t, run, "LLM generation", "tokens/s", false, v);
        if (r >= 0 && json_object_object_get_ex(llm, "ttft_ms", &x) && get_double(x, "median", &v))
            r = add_value(t, run, "LLM first token", "ms", true, v);
    }
    return r;
}

static int load(table *t, const char *path)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    json_object *doc, *fmt, *label;
    json_tokener *tok;
    size_t len = 0;
    int r;

    if (fd < 0)
        return gp_cli_error("cannot read %s: %s", path, strerror(errno));
    r = gp_fd_read_all(fd, DOC_MAX, &text, &len);
    if (r < 0)
        return gp_cli_error("cannot read %s: %s", path, r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
    tok = json_tokener_new();
    if (!tok)
        return gp_cli_error("out of memory");
    doc = json_tokener_parse_ex(tok, text, (int)len);
    if (!doc || json_tokener_get_error(tok) != json_tokener_success) {
        gp_cli_error("%s is not JSON (%s): give the files `gpupass bench -o FILE` writes", path,
                     json_tokener_error_desc(json_tokener_get_error(tok)));
        json_tokener_free(tok);
        json_object_put(doc);
        return GP_EXIT_ERROR;
    }
    json_tokener_free(tok);
    if (!json_object_is_type(doc, json_type_object) || !json_object_object_get_ex(doc, "gpupass_bench", &fmt) ||
        json_object_get_int(fmt) != GP_BENCH_FORMAT) {
        json_object_put(doc);
        return gp_cli_error("%s is not a gpupass bench result (format %d): give the files `gpupass bench -o "
                            "FILE` writes", path, GP_BENCH_FORMAT);
    }
    snprintf(t->label[t->n_runs], sizeof(t->label[0]), "%s",
             json_object_object_get_ex(doc, "label", &label) ? json_object_get_string(label) : path);
    r = doc_values(t, t->n_runs, doc);
    json_object_put(doc);
    if (r < 0)
        return gp_cli_error("out of memory");
    t->n_runs++;
    return 0;
}

/* Overhead of a run against the base in %: what it costs, positive when
 * it is slower (less throughput, more latency). */
static double overhead(const metric *m, size_t run)
{
    double base = m->v[0], v = m->v[run];

    if (isnan(base) || isnan(v) || base == 0)
        return NAN;
    return m->lower_better ? (v - base) / base * 100 : (base - v) / base * 100;
}

/* Left-aligned in a column of `width` characters: printf counts bytes,
 * and "µs" is three of them for two characters. */
static void print_cell(const char *s, int width)
{
    int chars = 0;

    for (const char *c = s; *c; c++)
        chars += ((unsigned char)*c & 0xC0) != 0x80;
    printf("  %s%*s", s, width > chars ? width - chars : 0, "");
}

static void print_table(const table *t)
{
    printf("%-18s", "");
    for (size_t r = 0; r < t->n_runs; r++)
        printf("  %-22.22s", t->label[r]);
    printf("\n");
    for (size_t i = 0; i < t->n; i++) {
        const metric *m = &t->m[i];

        printf("%-18s", m->name);
        for (size_t r = 0; r < t->n_runs; r++) {
            char cell[64];
            double o = overhead(m, r);

            if (isnan(m->v[r]))
                snprintf(cell, sizeof(cell), "-");
            else if (r == 0 || isnan(o))
                snprintf(cell, sizeof(cell), "%.2f %s", m->v[r], m->unit);
            else
                snprintf(cell, sizeof(cell), "%.2f %s (%+.1f %%)", m->v[r], m->unit, o);
            print_cell(cell, 22);
        }
        printf("\n");
    }
    printf("\n(%%: the overhead against %s; positive is slower)\n", t->label[0]);
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* One group of bars per measurement, one bar per run, each bar as long as
 * its value against the largest of its group, the value and the overhead
 * written next to it. */
static char *svg_render(const table *t, size_t *len)
{
    static const char *const colors[RUNS_MAX] = { "#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                                  "#76b7b2", "#edc948", "#b07aa1", "#9c755f" };
    const int w = 860, left = 170, bar_w = 460, bar_h = 18, gap = 16;
    int h = 60 + (int)t->n * ((int)t->n_runs * (bar_h + 4) + gap) + 24 * (int)t->n_runs;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    int y = 40;

    if (!f)
        return NULL;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
            "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", w, h);
    fprintf(f, "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">gpupass bench compare (base: ");
    xml_text(f, t->label[0]);
    fprintf(f, ")</text>\n");
    for (size_t i = 0; i < t->n; i++) {
        const metric *m = &t->m[i];
        double top = 0;

        for (size_t r = 0; r < t->n_runs; r++)
            if (!isnan(m->v[r]) && m->v[r] > top)
                top = m->v[r];
        fprintf(f, "<text x=\"10\" y=\"%d\">", y + bar_h - 4);
        xml_text(f, m->name);
        fprintf(f, " (%s%s)</text>\n", m->unit, m->lower_better ? ", lower is better" : "");
        for (size_t r = 0; r < t->n_runs; r++, y += bar_h + 4) {
            double v = m->v[r], o = overhead(m, r);
            int len_px = isnan(v) || top <= 0 ? 0 : (int)lround(v / top * bar_w);

            if (isnan(v)) {
                fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#888\">(not measured)</text>\n", left, y + bar_h - 4);
                continue;
            }
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", left, y, len_px, bar_h,
                    colors[r]);
            fprintf(f, "<text x=\"%d\" y=\"%d\">%.2f", left + len_px + 6, y + bar_h - 4, v);
            if (r > 0 && !isnan(o))
                fprintf(f, " (%+.1f %%)", o);
            fprintf(f, "</text>\n");
        }
        y += gap;
    }
    for (size_t r = 0; r < t->n_runs; r++, y += 22) {
        fprintf(f, "<rect x=\"10\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/><text x=\"30\" y=\"%d\">", y,
                colors[r], y + 12);
        xml_text(f, t->label[r]);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int gp_bench_compare_main(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_SVG = 0x100 };
    static const struct option opts[] = {
        { "svg", required_argument, NULL, OPT_SVG },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    const char *svg = NULL;
    table t = { 0 };
    int c, r = 0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SVG:
            svg = optarg;
            break;
        case 'h':
            printf("Usage: gpupass bench compare BASE.json OTHER.json... [--svg FILE]\n"
                   "\n"
                   "Show the results of `gpupass bench -o` or `gpupass bench llm -o` side by\n"
                   "side (2 to %d files), the first as the base, with each other run's\n"
                   "overhead in percent (positive is slower).\n"
                   "\n"
                   "Options:\n"
                   "  --svg FILE  also draw the comparison as an SVG chart\n"
                   "  -h, --help  this help\n"
                   "\n"
                   "Exit status: 0 shown, 3 could not run (a file unreadable or not a result).\n",
                   RUNS_MAX);
            return GP_EXIT_OK;
        default:
            return gp_cli_usage_error("bench compare", "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (argc - optind < 2 || argc - optind > RUNS_MAX)
        return gp_cli_usage_error("bench compare", "give 2 to %d result files (gpupass bench -o FILE)", RUNS_MAX);
    for (int i = optind; r == 0 && i < argc; i++)
        r = load(&t, argv[i]);
    if (r == 0 && t.n == 0)
        r = gp_cli_error("the files hold no measurement to compare");
    if (r == 0)
        print_table(&t);
    if (r == 0 && svg) {
        size_t len = 0;
        _cleanup_free_ char *text = svg_render(&t, &len);

        if (!text)
            r = gp_cli_error("out of memory");
        else if ((r = gp_file_replace_at(AT_FDCWD, svg, text, len, 0644, geteuid(), getegid())) < 0)
            r = gp_cli_error("cannot write '%s': %s", svg, strerror(-r));
        else
            printf("Wrote %s.\n", svg);
    }
    free(t.m);
    if (r == 0 && fflush(stdout) != 0)
        return gp_cli_error("writing the output failed");
    return r;
}
