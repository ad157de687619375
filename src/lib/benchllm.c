/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpupass bench llm: requests (libcurl), stream parsing, statistics. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "benchllm.h"

static void json_putp(json_object **o)
{
    json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* A line longer than this is no token stream; neither is a body longer
 * than GP_LLM_BODY_MAX (which also ends a server that trickles forever). */
#define GP_LLM_LINE_MAX (16u << 20)
#define GP_LLM_BODY_MAX (256u << 20)
/* What an error answer keeps of its body, and what a GET keeps. */
#define GP_LLM_ERRBODY_MAX 4096u
#define GP_LLM_GETBODY_MAX (1u << 20)

const char *gp_llm_api_to_string(gp_llm_api a)
{
    switch (a) {
    case GP_LLM_API_OLLAMA:
        return "ollama";
    case GP_LLM_API_OPENAI:
        return "openai";
    default:
        return "auto";
    }
}

int gp_llm_api_from_string(const char *s)
{
    if (!s)
        return -EINVAL;
    if (strcasecmp(s, "ollama") == 0)
        return GP_LLM_API_OLLAMA;
    if (strcasecmp(s, "openai") == 0 || strcasecmp(s, "vllm") == 0)
        return GP_LLM_API_OPENAI;
    if (strcasecmp(s, "auto") == 0)
        return GP_LLM_API_AUTO;
    return -EINVAL;
}

/* ---- stream parsing ---- */

void gp_llm_stream_init(gp_llm_stream *s, gp_llm_api api)
{
    *s = (gp_llm_stream){
        .api = api,
        .prompt_tokens = -1,
        .generated_tokens = -1,
        .eval_duration_ns = -1,
        .prompt_eval_duration_ns = -1,
        .load_duration_ns = -1,
        .total_duration_ns = -1,
    };
}

void gp_llm_stream_done(gp_llm_stream *s)
{
    free(s->line);
    s->line = NULL;
    s->line_len = s->line_cap = 0;
}

/* A printable excerpt of a line for messages: control bytes become '?'. */
static void excerpt(const char *p, size_t n, char *buf, size_t len)
{
    size_t k = 0, i;

    for (i = 0; i < n && k + 4 < len; i++)
        buf[k++] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
    if (i < n) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
}

static long long get_count(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !v)
        return -1;
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return -1;
    return json_object_get_int64(v) < 0 ? -1 : json_object_get_int64(v);
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The message of an error member: a string (Ollama), or an object with
 * "message" (OpenAI); NULL when o carries none. */
static const char *error_of(json_object *o)
{
    json_object *e;

    if (!json_object_is_type(o, json_type_object))
        return NULL;
    if (json_object_object_get_ex(o, "error", &e) && e) {
        if (json_object_is_type(e, json_type_string))
            return json_object_get_string(e);
        if (get_str(e, "message"))
            return get_str(e, "message");
        return json_object_to_json_string(e);
    }
    /* vLLM's ErrorResponse: {"object": "error", "message": ...} */
    if (get_str(o, "object") && strcmp(get_str(o, "object"), "error") == 0 && get_str(o, "message"))
        return get_str(o, "message");
    return NULL;
}

static json_object *parse_json(const char *p, size_t n)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;

    if (!tok)
        return NULL;
    o = json_tokener_parse_ex(tok, p, (int)n);
    /* the whole text must be one value: trailing bytes make it not JSON */
    if (o && (json_tokener_get_error(tok) != json_tokener_success || (size_t)json_tokener_get_parse_end(tok) < n)) {
        size_t end = json_tokener_get_parse_end(tok);

        while (end < n && (p[end] == ' ' || p[end] == '\t' || p[end] == '\r'))
            end++;
        if (json_tokener_get_error(tok) != json_tokener_success || end < n) {
            json_object_put(o);
            o = NULL;
        }
    }
    json_tokener_free(tok);
    return o;
}

static int ollama_line(gp_llm_stream *s, json_object *o, gp_error *err)
{
    json_object *v;
    const char *msg = error_of(o), *text;
    int ev = 0;

    if (msg)
        return gp_error_set(err, -EREMOTEIO, "the server reports an error: %s", msg);
    text = get_str(o, "response");
    if (!text || !*text)
        text = get_str(o, "thinking");    /* reasoning models stream their thinking first */
    if (text && *text) {
        ev |= GP_LLM_EV_TEXT | (s->text_chunks == 0 ? GP_LLM_EV_FIRST : 0);
        s->text_chunks++;
        s->text_bytes += strlen(text);
    }
    if (json_object_object_get_ex(o, "done", &v) && json_object_get_boolean(v)) {
        s->done = s->final_seen = true;
        s->generated_tokens = get_count(o, "eval_count");
        s->eval_duration_ns = get_count(o, "eval_duration");
        s->prompt_tokens = get_count(o, "prompt_eval_count");
        s->prompt_eval_duration_ns = get_count(o, "prompt_eval_duration");
        s->load_duration_ns = get_count(o, "load_duration");
        s->total_duration_ns = get_count(o, "total_duration");
        snprintf(s->done_reason, sizeof(s->done_reason), "%s", get_str(o, "done_reason") ?: "");
        ev |= GP_LLM_EV_DONE;
    }
    return ev;
}

static int openai_data(gp_llm_stream *s, json_object *o, gp_error *err)
{
    json_object *choices, *usage;
    const char *msg = error_of(o);
    int ev = 0;

    if (msg)
        return gp_error_set(err, -EREMOTEIO, "the server reports an error: %s", msg);
    if (json_object_object_get_ex(o, "choices", &choices) && json_object_is_type(choices, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(choices); i++) {
            json_object *ch = json_object_array_get_idx(choices, i), *delta = NULL;
            const char *text = get_str(ch, "text"), *fr = get_str(ch, "finish_reason");

            if ((!text || !*text) && json_object_is_type(ch, json_type_object) &&
                json_object_object_get_ex(ch, "delta", &delta)) {     /* chat completions */
                text = get_str(delta, "content");
                if (!text || !*text)
                    text = get_str(delta, "reasoning_content");
            }
            if (text && *text) {
                ev |= GP_LLM_EV_TEXT | (s->text_chunks == 0 ? GP_LLM_EV_FIRST : 0);
                s->text_chunks++;
                s->text_bytes += strlen(text);
            }
            if (fr)
                snprintf(s->done_reason, sizeof(s->done_reason), "%s", fr);
        }
    }
    /* The final chunk of include_usage; with vLLM's continuous_usage_stats
     * every chunk has a cumulative one: the last one wins. */
    if (json_object_object_get_ex(o, "usage", &usage) && json_object_is_type(usage, json_type_object)) {
        s->final_seen = true;
        s->prompt_tokens = get_count(usage, "prompt_tokens");
        s->generated_tokens = get_count(usage, "completion_tokens");
    }
    return ev;
}

/* One complete line (no newline). */
static int stream_line(gp_llm_stream *s, char *p, size_t n, gp_error *err)
{
    _cleanup_json_ json_object *o = NULL;
    char ex[96];

    s->line_no++;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    if (n == 0)
        return 0;
    if (s->done)
        return 0;    /* whatever follows the end does not count */
    excerpt(p, n, ex, sizeof(ex));
    if (s->api == GP_LLM_API_OPENAI) {
        /* server-sent events: data: lines count, comments and other fields do not */
        if (p[0] == ':' || (n >= 6 && strncmp(p, "event:", 6) == 0) || (n >= 3 && strncmp(p, "id:", 3) == 0) ||
            (n >= 6 && strncmp(p, "retry:", 6) == 0))
            return 0;
        if (n < 5 || strncmp(p, "data:", 5) != 0) {
            o = parse_json(p, n);
            if (o && error_of(o))
                return gp_error_set(err, -EREMOTEIO, "the server reports an error: %s", error_of(o));
            return gp_error_set(err, -EBADMSG, "line %zu is not a server-sent event (data: ...): '%s'",
                                s->line_no, ex);
        }
        p += 5, n -= 5;
        if (n > 0 && *p == ' ')
            p++, n--;
        if (n == 6 && memcmp(p, "[DONE]", 6) == 0) {
            s->done = true;
            return GP_LLM_EV_DONE;
        }
        o = parse_json(p, n);
        if (!o || !json_object_is_type(o, json_type_object))
            return gp_error_set(err, -EBADMSG, "line %zu carries no JSON object: '%s'", s->line_no, ex);
        return openai_data(s, o, err);
    }
    o = parse_json(p, n);
    if (!o || !json_object_is_type(o, json_type_object))
        return gp_error_set(err, -EBADMSG, "line %zu is not a JSON object: '%s'", s->line_no, ex);
    return ollama_line(s, o, err);
}

int gp_llm_stream_feed(gp_llm_stream *s, const char *buf, size_t len, gp_error *err)
{
    int events = 0;

    while (len > 0) {
        const char *nl = memchr(buf, '\n', len);
        size_t take = nl ? (size_t)(nl - buf) : len;
        int r;

        if (s->line_len + take > GP_LLM_LINE_MAX)
            return gp_error_set(err, -EBADMSG, "line %zu is longer than %u MiB: no token stream",
                                s->line_no + 1, GP_LLM_LINE_MAX >> 20);
        if (!nl || s->line_len > 0) {
            /* keep the piece: the line goes on in the next feed, or began in an earlier one */
            if (s->line_len + take + 1 > s->line_cap) {
                size_t cap = s->line_cap ? s->line_cap : 256;
                char *t;

                while (cap < s->line_len + take + 1)
                    cap *= 2;
                t = realloc(s->line, cap);
                if (!t)
                    return gp_error_set(err, -ENOMEM, "out of memory");
                s->line = t;
                s->line_cap = cap;
            }
            memcpy(s->line + s->line_len, buf, take);
            s->line_len += take;
            s->line[s->line_len] = 0;
        }
        if (!nl)
            break;
        if (s->line_len > 0) {
            r = stream_line(s, s->line, s->line_len, err);
            s->line_len = 0;
        } else {
            /* not strndup: a NUL in the line must not cut the copy short */
            char *copy = malloc(take + 1);

            if (!copy)
                return gp_error_set(err, -ENOMEM, "out of memory");
            memcpy(copy, buf, take);
            copy[take] = '\0';
            r = stream_line(s, copy, take, err);
            free(copy);
        }
        if (r < 0)
            return r;
        events |= r;
        buf += take + 1;
        len -= take + 1;
    }
    return events;
}

int gp_llm_stream_finish(gp_llm_stream *s, gp_error *err)
{
    int ev = 0;

    if (s->line_len > 0) {
        ev = stream_line(s, s->line, s->line_len, err);
        s->line_len = 0;
        if (ev < 0)
            return ev;
    }
    if (!s->done)
        return gp_error_set(err, -EBADMSG, s->api == GP_LLM_API_OPENAI ?
                            "the stream ended without its last line, data: [DONE] (%zu lines)" :
                            "the stream ended without its last object, the one with \"done\": true (%zu lines)",
                            s->line_no);
    return ev;
}

const char *gp_llm_error_message(const char *body, size_t body_len, char *buf, size_t len)
{
    _cleanup_json_ json_object *o = NULL;
    const char *msg;
    size_t n = body_len;

    if (!body || len == 0)
        return NULL;
    while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == ' '))
        n--;
    o = parse_json(body, n);
    if (!o || !(msg = error_of(o)))
        return NULL;
    excerpt(msg, strlen(msg), buf, len);
    return buf;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int gp_llm_stat_of(const double *v, size_t n, gp_llm_stat *ret)
{
    _cleanup_free_ double *s = NULL;

    if (n == 0 || !v)
        return -EINVAL;
    s = malloc(n * sizeof(*s));
    if (!s)
        return -ENOMEM;
    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_double);
    ret->min = s[0];
    ret->max = s[n - 1];
    ret->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    return 0;
}

/* ---- requests ---- */

struct gp_llm_client {
    CURL *curl;
    bool curl_global;     /* curl_global_init() done: pair it */
    gp_llm_api api;
    unsigned timeout_s;
    char *base;           /* without a trailing slash */
    char *endpoint;
    char *request;        /* the POST body, the same for every run */
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
};

/* One transfer's state, shared with libcurl's callbacks. */
typedef struct xfer {
    gp_llm_client *c;
    bool stream;          /* POST: parse as the API's stream; GET: keep the body */
    long status;          /* HTTP status, once the body starts */
    gp_llm_stream st;
    char *body;           /* an error answer's first bytes, or a GET body */
    size_t body_len;
    size_t total;
    double t0, t_first, t_last, t_activity;
    int parse_r;          /* < 0: the stream was not the API's (perr) */
    gp_error perr;
    bool silent_too_long;
    bool too_big;
} xfer;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void keep_body(xfer *x, const char *p, size_t n, size_t max)
{
    size_t room = max > x->body_len ? max - x->body_len : 0;
    char *t;

    if (n > room)
        n = room;
    if (n == 0)
        return;
    t = realloc(x->body, x->body_len + n + 1);
    if (!t)
        return;
    x->body = t;
    memcpy(x->body + x->body_len, p, n);
    x->body_len += n;
    x->body[x->body_len] = 0;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    double t = now_s();
    int r;

    x->t_activity = t;
    if (x->status == 0)
        curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &x->status);
    x->total += n;
    if (x->total > GP_LLM_BODY_MAX) {
        x->too_big = true;
        return 0;
    }
    if (!x->stream || x->status != 200) {
        keep_body(x, p, n, x->stream ? GP_LLM_ERRBODY_MAX : GP_LLM_GETBODY_MAX);
        return n;
    }
    r = gp_llm_stream_feed(&x->st, p, n, &x->perr);
    if (r < 0) {
        x->parse_r = r;
        keep_body(x, p, n, GP_LLM_ERRBODY_MAX);
        return 0;     /* ends the transfer: CURLE_WRITE_ERROR */
    }
    if (r & GP_LLM_EV_FIRST)
        x->t_first = t;
    if (r & GP_LLM_EV_TEXT)
        x->t_last = t;
    return n;
}

/* --timeout is the longest silence, not the whole request: a long
 * generation streams all along and must not be cut, a server that
 * accepts and never answers must end. libcurl calls this at least about
 * once a second. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    xfer *x = userdata;

    if (now_s() - (x->t_activity > x->t0 ? x->t_activity : x->t0) > (double)x->c->timeout_s) {
        x->silent_too_long = true;
        return 1;
    }
    return 0;
}

static int curl_failure(const gp_llm_client *c, const xfer *x, const char *url, CURLcode cc, gp_error *err)
{
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
    long oserr = 0;

    if (x->silent_too_long)
        return gp_error_set(err, -ETIMEDOUT, "%s sent nothing for %u s (--timeout %u): the server is busy or "
                            "hangs; a large model's first load can take longer, raise --timeout",
                            url, c->timeout_s, c->timeout_s);
    if (x->too_big)
        return gp_error_set(err, -EFBIG, "%s sent more than %u MiB: not a generation of a few tokens",
                            url, GP_LLM_BODY_MAX >> 20);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
        if (oserr == ECONNREFUSED)
            return gp_error_set(err, -ECONNREFUSED, "cannot connect to %s: connection refused; is the server "
                                "running and listening on that address and port (Ollama listens on "
                                "127.0.0.1:11434 unless OLLAMA_HOST says otherwise)?", url);
        return gp_error_set(err, oserr > 0 ? -(int)oserr : -EHOSTUNREACH, "cannot connect to %s: %s", url, detail);
    case CURLE_COULDNT_RESOLVE_HOST:
        return gp_error_set(err, -EHOSTUNREACH, "cannot connect to %s: %s; check the host name", url, detail);
    case CURLE_OPERATION_TIMEDOUT:
        return gp_error_set(err, -ETIMEDOUT, "no connection to %s within %u s (--timeout): %s",
                            url, c->timeout_s, detail);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return gp_error_set(err, -ECONNRESET, "%s broke off the answer: %s", url, detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return gp_error_set(err, -EPROTO, "TLS with %s failed: %s", url, detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return gp_error_set(err, -EINVAL, "cannot use %s: %s", url, detail);
    default:
        return gp_error_set(err, -EIO, "request to %s failed: %s", url, detail);
    }
}

/* An answer other than 200: the status and what the server said. */
static int http_failure(const gp_llm_client *c, const xfer *x, const char *url, gp_error *err)
{
    char msg[512], ex[240];
    const char *m = gp_llm_error_message(x->body, x->body_len, msg, sizeof(msg));
    const char *hint = "";

    if (!m) {
        size_t n = x->body_len;

        while (n > 0 && (x->body[n - 1] == '\n' || x->body[n - 1] == '\r' || x->body[n - 1] == ' '))
            n--;
        excerpt(x->body ? x->body : "", n, ex, sizeof(ex));
        m = ex[0] ? ex : "(empty body)";
    }
    if (x->status == 404)
        hint = c->api == GP_LLM_API_OLLAMA ? "; `ollama list` on the server shows its models, `ollama pull NAME` "
                                             "fetches one" :
               c->api == GP_LLM_API_OPENAI ? "; GET /v1/models lists the model names it serves" : "";
    else if (x->status == 401 || x->status == 403)
        hint = "; the server wants an API key, which gpupass does not send: measure it where it needs none";
    return gp_error_set(err, x->status == 404 ? -ENOENT : -EREMOTEIO, "%s answered HTTP %ld: %s%s",
                        url, x->status, m, hint);
}

static void xfer_done(xfer *x)
{
    gp_llm_stream_done(&x->st);
    free(x->body);
}

/* Runs one transfer of x (set up by the caller); 0 when it completed with
 * any HTTP status, else the network error. */
static int perform(gp_llm_client *c, xfer *x, const char *url, gp_error *err)
{
    CURLcode cc;

    c->errbuf[0] = 0;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, x);
    x->t0 = now_s();
    cc = curl_easy_perform(c->curl);
    if (x->status == 0)
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->status);
    if (cc == CURLE_WRITE_ERROR && x->parse_r < 0)
        return 0;     /* the answer came, it just was not the API's: the caller says so */
    if (cc != CURLE_OK)
        return curl_failure(c, x, url, cc, err);
    return 0;
}

static int http_get(gp_llm_client *c, const char *path, xfer *x, gp_error *err)
{
    _cleanup_free_ char *url = NULL;

    if (asprintf(&url, "%s%s", c->base, path) < 0)
        return gp_error_set(err, -ENOMEM, "out of memory");
    *x = (xfer){ .c = c };
    gp_llm_stream_init(&x->st, c->api);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    return perform(c, x, url, err);
}

static bool get_answers(const xfer *x, const char *key, json_type type)
{
    _cleanup_json_ json_object *o = NULL;
    json_object *v;

    if (x->status != 200 || !x->body)
        return false;
    o = parse_json(x->body, x->body_len);
    return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) &&
           json_object_is_type(v, type);
}

/* Ollama answers GET /api/version with {"version": "0.x"}; an
 * OpenAI-compatible server answers GET /v1/models with {"data": [...]}.
 * Ollama also offers /v1/models, so it is asked first. */
static int detect(gp_llm_client *c, gp_error *err)
{
    _cleanup_(xfer_done) xfer a = { 0 };
    _cleanup_(xfer_done) xfer b = { 0 };
    int r;

    r = http_get(c, "/api/version", &a, err);
    if (r < 0)
        return r;
    if (get_answers(&a, "version", json_type_string)) {
        c->api = GP_LLM_API_OLLAMA;
        return 0;
    }
    r = http_get(c, "/v1/models", &b, err);
    if (r < 0)
        return r;
    if (get_answers(&b, "data", json_type_array)) {
        c->api = GP_LLM_API_OPENAI;
        return 0;
    }
    return gp_error_set(err, -ENOTSUP, "cannot tell which API %s speaks: GET /api/version answered HTTP %ld%s, "
                        "GET /v1/models HTTP %ld%s; say it with --api ollama or --api openai",
                        c->base, a.status, a.status == 200 ? " without a version" : "",
                        b.status, b.status == 200 ? " without a model list" : "");
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* The base URL: http(s) only, parsed by libcurl, no trailing slash, and
 * without an endpoint path that users copy from client configs. */
static int normalize_url(const char *url, gp_llm_api *api, char **ret, gp_error *err)
{
    static const struct { const char *suffix; gp_llm_api api; } ends[] = {
        { "/api/generate", GP_LLM_API_OLLAMA },
        { "/v1/completions", GP_LLM_API_OPENAI },
        { "/v1/chat/completions", GP_LLM_API_OPENAI },
        { "/v1", GP_LLM_API_OPENAI },
    };
    CURLU *u;
    CURLUcode uc;
    char *host = NULL, *s;
    size_t n;

    if (!url || !*url)
        return gp_error_set(err, -EINVAL, "--url is empty; give the server's address, like http://127.0.0.1:11434");
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        if (strstr(url, "://"))
            return gp_error_set(err, -EINVAL, "--url '%s' is not an http:// or https:// URL: gpupass speaks HTTP "
                                "to the server", url);
        return gp_error_set(err, -EINVAL, "--url '%s' is not an http:// or https:// URL; write http://%s", url, url);
    }
    u = curl_url();
    if (!u)
        return gp_error_set(err, -ENOMEM, "out of memory");
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_cleanup(u);
    if (uc != CURLUE_OK || !host || !*host) {
        curl_free(host);
        return gp_error_set(err, -EINVAL, "--url '%s' is no valid URL (%s); write it like http://HOST:PORT",
                            url, uc != CURLUE_OK ? curl_url_strerror(uc) : "no host");
    }
    curl_free(host);
    if (strpbrk(url, "?#"))
        return gp_error_set(err, -EINVAL, "--url '%s' has a query or fragment; give the server's base address, "
                            "like http://HOST:PORT", url);
    s = strdup(url);
    if (!s)
        return gp_error_set(err, -ENOMEM, "out of memory");
    n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = 0;
    for (size_t i = 0; i < ELEMENTSOF(ends); i++)
        if (ends_with(s, n, ends[i].suffix) && (*api == GP_LLM_API_AUTO || *api == ends[i].api)) {
            n -= strlen(ends[i].suffix);
            s[n] = 0;
            *api = ends[i].api;     /* the endpoint path says which API */
            break;
        }
    *ret = s;
    return 0;
}

static int build_request(gp_llm_client *c, const gp_llm_config *cfg, gp_error *err)
{
    _cleanup_json_ json_object *o = json_object_new_object();
    json_object *x = json_object_new_object();

    if (!o || !x) {
        json_object_put(x);
        return gp_error_set(err, -ENOMEM, "out of memory");
    }
    json_object_object_add(o, "model", json_object_new_string(cfg->model));
    json_object_object_add(o, "prompt", json_object_new_string(cfg->prompt));
    json_object_object_add(o, "stream", json_object_new_boolean(1));
    /* deterministic settings where the API has them: greedy sampling, a
     * seed, a fixed token budget */
    if (c->api == GP_LLM_API_OLLAMA) {
        json_object_object_add(x, "temperature", json_object_new_int(0));
        json_object_object_add(x, "seed", json_object_new_int64(cfg->seed));
        json_object_object_add(x, "num_predict", json_object_new_int64(cfg->max_tokens));
        json_object_object_add(o, "options", x);
        /* the model stays loaded between the runs (and the warm-up) */
        json_object_object_add(o, "keep_alive", json_object_new_string("10m"));
    } else {
        json_object_object_add(x, "include_usage", json_object_new_boolean(1));
        json_object_object_add(o, "stream_options", x);
        json_object_object_add(o, "max_tokens", json_object_new_int64(cfg->max_tokens));
        json_object_object_add(o, "temperature", json_object_new_int(0));
        json_object_object_add(o, "seed", json_object_new_int64(cfg->seed));
    }
    c->request = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    if (!c->request)
        return gp_error_set(err, -ENOMEM, "out of memory");
    return 0;
}

int gp_llm_client_new(const gp_llm_config *cfg, gp_llm_client **ret, gp_error *err)
{
    _cleanup_llm_client_ gp_llm_client *c = NULL;
    gp_llm_api api = cfg->api;
    int r;

    if (!cfg->model || !*cfg->model)
        return gp_error_set(err, -EINVAL, "--model is empty; name a model the server has");
    if (!cfg->prompt || !*cfg->prompt)
        return gp_error_set(err, -EINVAL, "--prompt is empty; the model needs something to answer");
    if (cfg->max_tokens == 0 || cfg->timeout_s == 0)
        return gp_error_set(err, -EINVAL, "max_tokens and timeout_s must be positive");
    c = calloc(1, sizeof(*c));
    if (!c)
        return gp_error_set(err, -ENOMEM, "out of memory");
    r = normalize_url(cfg->url, &api, &c->base, err);
    if (r < 0)
        return r;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return gp_error_set(err, -EIO, "libcurl cannot start");
    c->curl_global = true;
    c->curl = curl_easy_init();
    if (!c->curl)
        return gp_error_set(err, -ENOMEM, "libcurl cannot start: out of memory");
    c->timeout_s = cfg->timeout_s;
    c->api = api;
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, (long)cfg->timeout_s);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    /* A proxy between gpupass and the server would be measured with it:
     * talk to the endpoint directly, whatever http_proxy says. */
    curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "gpupass-bench-llm");
    curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c->headers)
        return gp_error_set(err, -ENOMEM, "out of memory");
    if (c->api == GP_LLM_API_AUTO) {
        r = detect(c, err);
        if (r < 0)
            return r;
    }
    if (asprintf(&c->endpoint, "%s%s", c->base, c->api == GP_LLM_API_OLLAMA ? "/api/generate" :
                 "/v1/completions") < 0) {
        c->endpoint = NULL;
        return gp_error_set(err, -ENOMEM, "out of memory");
    }
    r = build_request(c, cfg, err);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(c);
    return 0;
}

gp_llm_client *gp_llm_client_free(gp_llm_client *c)
{
    if (!c)
        return NULL;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    if (c->curl_global)
        curl_global_cleanup();
    curl_slist_free_all(c->headers);
    free(c->base);
    free(c->endpoint);
    free(c->request);
    free(c);
    return NULL;
}

gp_llm_api gp_llm_client_api(const gp_llm_client *c)
{
    return c->api;
}

const char *gp_llm_client_endpoint(const gp_llm_client *c)
{
    return c->endpoint;
}

int gp_llm_run(gp_llm_client *c, gp_llm_sample *ret, gp_error *err)
{
    _cleanup_(xfer_done) xfer x = { .c = c, .stream = true };
    const char *url = c->endpoint;
    const gp_llm_stream *s = &x.st;
    long long n;
    int r;

    gp_llm_stream_init(&x.st, c->api);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, c->request);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(c->request));
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    r = perform(c, &x, url, err);
    if (r < 0)
        return r;
    if (x.status != 200)
        return http_failure(c, &x, url, err);
    if (x.parse_r >= 0)
        x.parse_r = gp_llm_stream_finish(&x.st, &x.perr);
    if (x.parse_r < 0)
        return gp_error_set(err, x.parse_r, "%s: %s%s", url, gp_error_message(&x.perr),
                            x.parse_r == -EBADMSG && s->text_chunks == 0 ? (c->api == GP_LLM_API_OLLAMA ?
                                                     "; is it an Ollama server (--api)?" :
                                                     "; is it an OpenAI-compatible server (--api)?") : "");
    if (s->text_chunks == 0)
        return gp_error_set(err, -ENODATA, "%s answered without generating any text (%s%s); try another --prompt",
                            url, s->done_reason[0] ? "reason: " : "no reason given",
                            s->done_reason);

    *ret = (gp_llm_sample){
        .ttft_ms = (x.t_first - x.t0) * 1000.0,
        .prompt_tokens = s->prompt_tokens,
        .total_ms = (now_s() - x.t0) * 1000.0,
        .load_ms = s->load_duration_ns >= 0 ? (double)s->load_duration_ns / 1e6 : -1,
    };
    if (c->api == GP_LLM_API_OLLAMA) {
        if (s->generated_tokens <= 0 || s->eval_duration_ns <= 0)
            return gp_error_set(err, -EBADMSG, "%s: the final object has no eval_count and eval_duration, so the "
                                "server's generation speed is unknown; is it Ollama?", url);
        ret->generated_tokens = s->generated_tokens;
        ret->tokens_per_s = (double)s->generated_tokens / (double)s->eval_duration_ns * 1e9;
        return 0;
    }
    n = s->generated_tokens;
    if (n < 0) {
        n = (long long)s->text_chunks;    /* no usage: one token per chunk, as servers stream them */
        ret->tokens_from_chunks = true;
    }
    ret->generated_tokens = n;
    if (n < 2 || s->text_chunks < 2 || x.t_last <= x.t_first)
        return gp_error_set(err, -ENODATA, "%s generated %lld token%s in %zu chunk%s: too few to time the "
                            "generation; raise --max-tokens or use a prompt with a longer answer",
                            url, n, n == 1 ? "" : "s", s->text_chunks, s->text_chunks == 1 ? "" : "s");
    ret->tokens_per_s = (double)(n - 1) / (x.t_last - x.t_first);
    return 0;
}
