/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpupass bench llm: an LLM endpoint's generation speed and time to first token. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchllm.h"
#include "cli.h"

#define CMD "bench llm"
#define RUNS_MAX 1000u

static void llm_help(void)
{
    printf("Usage: gpupass bench llm --url URL --model NAME [--api ollama|openai] [--runs N]\n"
           "                         [--prompt TEXT] [--max-tokens N] [--timeout SECONDS]\n"
           "                         [--label TEXT] [-o FILE] [--json]\n"
           "\n"
           "Measure how fast an LLM server generates: an Ollama endpoint (POST URL/api/generate)\n"
           "or an OpenAI-compatible one such as vLLM (POST URL/v1/completions), on this machine\n"
           "or the LAN. One warm-up request (it loads the model and is not counted), then N\n"
           "streamed runs with temperature 0, a fixed seed and a fixed token budget.\n"
           "\n"
           "  time to first token  client clock, from sending the request to the first chunk\n"
           "                       that carries generated text\n"
           "  tokens/s, Ollama     the server's counters: eval_count / eval_duration\n"
           "  tokens/s, OpenAI     usage.completion_tokens (stream_options.include_usage):\n"
           "                       (tokens - 1) / (last text chunk - first text chunk), client clock\n"
           "\n"
           "Options:\n"
           "  --url URL          the server, http:// or https:// (http://127.0.0.1:11434 for Ollama,\n"
           "                     http://HOST:8000 for vLLM)\n"
           "  --model NAME       the model, as the server names it\n"
           "  --api API          ollama or openai (default: ask the server: GET /api/version, /v1/models)\n"
           "  --runs N           measured runs, 1 to 1000 (default 5)\n"
           "  --prompt TEXT      the prompt (default: a request for a long story)\n"
           "  --max-tokens N     tokens to generate per run (default 128)\n"
           "  --timeout SECONDS  give up on a request that sends nothing for this long, connecting\n"
           "                     included (default 60; a large model's first load may need more)\n"
           "  --label TEXT       the result's name in bench compare (default: where it runs)\n"
           "  -o, --output FILE  write the result document (JSON) to FILE, and print the summary\n"
           "  -j, --json         print the result document instead of the summary\n"
           "  -h, --help         this help\n"
           "\n"
           "Exit status: 0 measured, 3 could not run.\n");
}

/* An unsigned option value in [min, max]; prints the error and returns
 * GP_EXIT_ERROR, or 0. */
static int parse_count(const char *opt, const char *s, unsigned min, unsigned max, unsigned *ret)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || v < min || v > max)
        return gp_cli_usage_error(CMD, "%s '%s': give a whole number from %u to %u", opt, s, min, max);
    *ret = (unsigned)v;
    return 0;
}

/* -o FILE is written after the runs: say before them that it cannot be. */
static int check_output_dir(const char *out)
{
    _cleanup_free_ char *dir = strdup(out);
    char *slash;
    struct stat st;

    if (!dir)
        return gp_cli_error("out of memory");
    if (!*out)
        return gp_cli_usage_error(CMD, "-o needs a file name");
    slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    if (slash == dir)
        slash[1] = 0;
    else
        *slash = 0;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return gp_cli_error("cannot write %s: the directory %s does not exist", out, dir);
    return 0;
}

static json_object *num(double v)
{
    char s[32];

    snprintf(s, sizeof(s), "%.2f", v);
    return json_object_new_double_s(v, s);
}

static json_object *stat_json(const gp_llm_stat *s)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "median", num(s->median));
    json_object_object_add(o, "min", num(s->min));
    json_object_object_add(o, "max", num(s->max));
    return o;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

/* The middle one of the known counts (the lower of two), -1 none known. */
static long long median_count(const gp_llm_sample *s, size_t n, bool prompt)
{
    _cleanup_free_ long long *v = calloc(n ? n : 1, sizeof(*v));
    size_t k = 0;

    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++) {
        long long c = prompt ? s[i].prompt_tokens : s[i].generated_tokens;

        if (c >= 0)
            v[k++] = c;
    }
    if (k == 0)
        return -1;
    qsort(v, k, sizeof(*v), cmp_ll);
    return v[(k - 1) / 2];
}

static json_object *count_or_null(long long v)
{
    return v >= 0 ? json_object_new_int64(v) : NULL;
}

typedef struct llm_result {
    const char *api, *url, *model;
    unsigned runs, max_tokens;
    const gp_llm_sample *samples;
    gp_llm_stat tps, ttft;
    long long prompt_tokens, generated_tokens;
    bool from_chunks;
} llm_result;

static json_object *result_json(const llm_result *r)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();

    json_object_object_add(o, "api", json_object_new_string(r->api));
    json_object_object_add(o, "url", json_object_new_string(r->url));
    json_object_object_add(o, "model", json_object_new_string(r->model));
    json_object_object_add(o, "runs", json_object_new_int((int)r->runs));
    json_object_object_add(o, "max_tokens", json_object_new_int((int)r->max_tokens));
    json_object_object_add(o, "prompt_tokens", count_or_null(r->prompt_tokens));
    json_object_object_add(o, "generated_tokens", count_or_null(r->generated_tokens));
    /* how the generated tokens were counted, and whose clock timed them */
    json_object_object_add(o, "token_count", json_object_new_string(r->from_chunks ? "stream chunks" : "server"));
    json_object_object_add(o, "tokens_per_s_clock",
                           json_object_new_string(strcmp(r->api, "ollama") == 0 ? "server" : "client"));
    json_object_object_add(o, "tokens_per_s", stat_json(&r->tps));
    json_object_object_add(o, "ttft_ms", stat_json(&r->ttft));
    for (unsigned i = 0; i < r->runs; i++) {
        json_object *x = json_object_new_object();

        json_object_object_add(x, "tokens_per_s", num(r->samples[i].tokens_per_s));
        json_object_object_add(x, "ttft_ms", num(r->samples[i].ttft_ms));
        json_object_object_add(x, "generated_tokens", json_object_new_int64(r->samples[i].generated_tokens));
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "samples", a);
    return o;
}

static void print_summary(const llm_result *r)
{
    printf("model        %s (%s, %s)\n", r->model, r->api, r->url);
    printf("runs         %u, after 1 warm-up\n", r->runs);
    printf("generation   %.1f tokens/s median (min %.1f, max %.1f)%s\n", r->tps.median, r->tps.min, r->tps.max,
           strcmp(r->api, "ollama") == 0 ? ", server's counters" : ", client clock");
    printf("first token  %.1f ms median (min %.1f, max %.1f)\n", r->ttft.median, r->ttft.min, r->ttft.max);
    printf("tokens       ");
    if (r->prompt_tokens >= 0)
        printf("%lld prompt, ", r->prompt_tokens);
    printf("%lld generated per run%s\n", r->generated_tokens,
           r->from_chunks ? " (stream chunks counted: the server sent no usage)" : "");
}

static void progress(bool tty, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(bool tty, const char *fmt, ...)
{
    va_list ap;

    if (!tty)
        return;
    fputs("\r\033[K", stderr);
    if (fmt) {
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fflush(stderr);
}

int gp_bench_llm_main(const gp_cli *cli, int argc, char **argv)
{
    enum { OPT_URL = 0x100, OPT_MODEL, OPT_API, OPT_RUNS, OPT_PROMPT, OPT_MAX_TOKENS, OPT_TIMEOUT, OPT_LABEL };
    static const struct option opts[] = {
        { "url", required_argument, NULL, OPT_URL },
        { "model", required_argument, NULL, OPT_MODEL },
        { "api", required_argument, NULL, OPT_API },
        { "runs", required_argument, NULL, OPT_RUNS },
        { "prompt", required_argument, NULL, OPT_PROMPT },
        { "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "label", required_argument, NULL, OPT_LABEL },
        { "output", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        {}
    };
    gp_llm_config cfg = {
        .prompt = "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle.",
        .api = GP_LLM_API_AUTO,
        .max_tokens = 128,
        .timeout_s = 60,
        .seed = 42,
    };
    _cleanup_llm_client_ gp_llm_client *client = NULL;
    _cleanup_free_ gp_llm_sample *samples = NULL;
    _cleanup_free_ double *tps = NULL, *ttft = NULL;
    const char *label = NULL, *out = NULL;
    unsigned runs = 5;
    bool json = false, tty = isatty(STDERR_FILENO);
    gp_error err = { 0 };
    _cleanup_host_ gp_host *h = NULL;
    json_object *doc;
    llm_result res;
    gp_llm_sample warm;
    int c, r;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:jh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_URL:
            cfg.url = optarg;
            break;
        case OPT_MODEL:
            cfg.model = optarg;
            break;
        case OPT_API:
            r = gp_llm_api_from_string(optarg);
            if (r < 0)
                return gp_cli_usage_error(CMD, "--api '%s': say ollama or openai (vLLM, llama.cpp's server and "
                                          "other OpenAI-compatible ones)", optarg);
            cfg.api = (gp_llm_api)r;
            break;
        case OPT_RUNS:
            if (parse_count("--runs", optarg, 1, RUNS_MAX, &runs))
                return GP_EXIT_ERROR;
            break;
        case OPT_PROMPT:
            cfg.prompt = optarg;
            break;
        case OPT_MAX_TOKENS:
            if (parse_count("--max-tokens", optarg, 2, 1000000, &cfg.max_tokens))
                return GP_EXIT_ERROR;
            break;
        case OPT_TIMEOUT:
            if (parse_count("--timeout", optarg, 1, 86400, &cfg.timeout_s))
                return GP_EXIT_ERROR;
            break;
        case OPT_LABEL:
            label = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            llm_help();
            return GP_EXIT_OK;
        case ':':
            return gp_cli_usage_error(CMD, "%s needs a value", argv[optind - 1]);
        default:
            return gp_cli_usage_error(CMD, "unknown option '%s'", gp_cli_bad_option(argc, argv));
        }
    }
    if (optind < argc)
        return gp_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!cfg.url)
        return gp_cli_usage_error(CMD, "--url is missing: the server, like http://127.0.0.1:11434 (Ollama) "
                                  "or http://HOST:8000 (vLLM)");
    if (!cfg.model)
        return gp_cli_usage_error(CMD, "--model is missing: the model as the server names it");
    if (out && check_output_dir(out))
        return GP_EXIT_ERROR;

    /* the document's environment part; --root trouble shows before the runs */
    h = gp_cli_open_host(cli);
    if (!h)
        return GP_EXIT_ERROR;
    samples = calloc(runs, sizeof(*samples));
    tps = calloc(runs, sizeof(*tps));
    ttft = calloc(runs, sizeof(*ttft));
    if (!samples || !tps || !ttft)
        return gp_cli_error("out of memory");

    progress(tty, "gpupass bench llm: connecting to %s", cfg.url);
    r = gp_llm_client_new(&cfg, &client, &err);
    if (r < 0) {
        progress(tty, NULL);
        return gp_cli_error("%s", gp_error_message(&err));
    }
    /* The warm-up loads the model (Ollama's load_duration) and fills
     * caches; it is not counted. */
    progress(tty, "gpupass bench llm: warm-up (%s, %s)", cfg.model, gp_llm_api_to_string(gp_llm_client_api(client)));
    r = gp_llm_run(client, &warm, &err);
    if (r < 0) {
        progress(tty, NULL);
        return gp_cli_error("%s", gp_error_message(&err));
    }
    for (unsigned i = 0; i < runs; i++) {
        progress(tty, "gpupass bench llm: run %u of %u", i + 1, runs);
        r = gp_llm_run(client, &samples[i], &err);
        if (r < 0) {
            progress(tty, NULL);
            return gp_cli_error("run %u of %u: %s", i + 1, runs, gp_error_message(&err));
        }
        tps[i] = samples[i].tokens_per_s;
        ttft[i] = samples[i].ttft_ms;
    }
    progress(tty, NULL);

    res = (llm_result){
        .api = gp_llm_api_to_string(gp_llm_client_api(client)),
        .url = gp_llm_client_endpoint(client),
        .model = cfg.model,
        .runs = runs,
        .max_tokens = cfg.max_tokens,
        .samples = samples,
        .prompt_tokens = median_count(samples, runs, true),
        .generated_tokens = median_count(samples, runs, false),
    };
    for (unsigned i = 0; i < runs; i++)
        res.from_chunks |= samples[i].tokens_from_chunks;
    if (gp_llm_stat_of(tps, runs, &res.tps) < 0 || gp_llm_stat_of(ttft, runs, &res.ttft) < 0)
        return gp_cli_error("out of memory");

    doc = gp_cli_bench_doc(h, label);
    json_object_object_add(doc, "llm", result_json(&res));
    r = 0;
    if (out)
        r = gp_cli_bench_write(doc, out);
    if (r == 0 && json)
        r = gp_cli_bench_write(doc, NULL);
    else if (r == 0)
        print_summary(&res);
    json_object_put(doc);
    return r;
}
