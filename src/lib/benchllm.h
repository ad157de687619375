/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gpupass bench llm: how fast an LLM endpoint generates, seen from a
 * client. Two APIs: Ollama (POST /api/generate, newline-delimited JSON
 * when streaming) and the OpenAI-compatible one that vLLM, llama.cpp's
 * server and others offer (POST /v1/completions, server-sent events).
 *
 * What one run measures (gp_llm_sample):
 *  - ttft_ms: client clock, from handing the request to libcurl to the
 *    arrival of the first body chunk that carries generated text (the
 *    connection is kept alive after the warm-up, so this is the server's
 *    queueing + prompt processing + first token, plus the network).
 *  - tokens_per_s, Ollama: the server's own counters of the final
 *    `done: true` object, eval_count / eval_duration * 1e9 (generation
 *    only: no prompt, no load, no network).
 *  - tokens_per_s, OpenAI: usage.completion_tokens of the final chunk
 *    (asked for with stream_options.include_usage) on the client clock:
 *    (completion_tokens - 1) / (arrival of the last chunk with text -
 *    arrival of the first chunk with text). The first token is the end of
 *    TTFT, so the interval holds the other completion_tokens - 1 tokens
 *    (vLLM's TPOT definition, inverted). A server that sends no usage
 *    gets its text chunks counted instead (token_source "chunks").
 *
 * The stream parsers are pure (text in, counters out) so that the tests
 * drive them without a network; the library never prints.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef enum gp_llm_api {
    GP_LLM_API_AUTO,      /* ask the server (gp_llm_detect) */
    GP_LLM_API_OLLAMA,
    GP_LLM_API_OPENAI,
} gp_llm_api;

/* "auto", "ollama", "openai". */
const char *gp_llm_api_to_string(gp_llm_api a);
/* The API, or -EINVAL. */
int gp_llm_api_from_string(const char *s);

/* ---- stream parsing (pure) ---- */

/* What a feed saw, OR-ed. */
enum {
    GP_LLM_EV_TEXT = 1 << 0,   /* a chunk carrying generated text */
    GP_LLM_EV_FIRST = 1 << 1,  /* ... the first one of the answer */
    GP_LLM_EV_DONE = 1 << 2,   /* the end: Ollama's done:true, OpenAI's [DONE] */
};

typedef struct gp_llm_stream {
    gp_llm_api api;            /* OLLAMA or OPENAI */
    char *line;                /* the part of a line still to come */
    size_t line_len, line_cap;
    size_t line_no;            /* complete lines seen, for messages */
    bool done;                 /* the end was seen */
    bool final_seen;           /* Ollama: the done object; OpenAI: a usage object */
    size_t text_chunks;        /* chunks that carried generated text */
    size_t text_bytes;
    /* -1 where the server did not say */
    long long prompt_tokens;        /* prompt_eval_count / usage.prompt_tokens */
    long long generated_tokens;     /* eval_count / usage.completion_tokens */
    long long eval_duration_ns;     /* Ollama only, from here on */
    long long prompt_eval_duration_ns;
    long long load_duration_ns;
    long long total_duration_ns;
    char done_reason[32];           /* Ollama done_reason / OpenAI finish_reason, "" none */
} gp_llm_stream;

void gp_llm_stream_init(gp_llm_stream *s, gp_llm_api api);
void gp_llm_stream_done(gp_llm_stream *s);
/* Feeds the next piece of the body, cut anywhere. Returns the GP_LLM_EV_*
 * bits for the lines it completed, or a negative errno with err naming
 * the line: -EBADMSG not JSON / not the format, -EREMOTEIO an error
 * object from the server (its message), -ENOMEM. */
int gp_llm_stream_feed(gp_llm_stream *s, const char *buf, size_t len, gp_error *err);
/* The body ended: parses a last line without a newline; -EBADMSG when
 * the end object never came, -EREMOTEIO / -EBADMSG as in feed. Returns
 * the events of that last line (>= 0) otherwise. */
int gp_llm_stream_finish(gp_llm_stream *s, gp_error *err);

/* The message a server puts into an error body, or NULL: Ollama's
 * {"error": "..."}, OpenAI's {"error": {"message": "..."}}, vLLM's
 * {"message": "..."}. Copies it into buf (cut to len). */
const char *gp_llm_error_message(const char *body, size_t body_len, char *buf, size_t len);

/* ---- statistics (pure) ---- */

typedef struct gp_llm_stat {
    double median, min, max;   /* median of an even count: mean of the middle two */
} gp_llm_stat;

/* 0, or -EINVAL for n == 0. v is left as it was. */
int gp_llm_stat_of(const double *v, size_t n, gp_llm_stat *ret);

/* ---- requests ---- */

typedef struct gp_llm_sample {
    double ttft_ms;
    double tokens_per_s;
    long long prompt_tokens;        /* -1 the server did not say */
    long long generated_tokens;
    bool tokens_from_chunks;        /* OpenAI without usage: chunks counted */
    double total_ms;                /* client clock, request to end of body */
    double load_ms;                 /* Ollama load_duration, -1 none */
} gp_llm_sample;

typedef struct gp_llm_client gp_llm_client;

typedef struct gp_llm_config {
    const char *url;          /* http:// or https:// base: "http://host:11434" */
    const char *model;
    const char *prompt;
    gp_llm_api api;           /* AUTO: gp_llm_client_new asks the server */
    unsigned max_tokens;      /* Ollama options.num_predict, OpenAI max_tokens */
    unsigned timeout_s;       /* connect, and the longest silence of a request */
    long long seed;
} gp_llm_config;

/* Checks the URL (http/https only; "/v1", "/api/generate",
 * "/v1/completions" at its end are taken off), sets libcurl up and, for
 * GP_LLM_API_AUTO, finds the API: GET /api/version answering {"version"}
 * is Ollama, GET /v1/models answering {"data": [...]} OpenAI.
 * -EINVAL bad URL, -ENOTSUP API not found, -ECONNREFUSED and friends for
 * the network, with err saying which. */
int gp_llm_client_new(const gp_llm_config *cfg, gp_llm_client **ret, gp_error *err);
gp_llm_client *gp_llm_client_free(gp_llm_client *c);
gp_llm_api gp_llm_client_api(const gp_llm_client *c);
/* The URL a run posts to. */
const char *gp_llm_client_endpoint(const gp_llm_client *c);

/* One streamed generation. Errors: the network (-ECONNREFUSED,
 * -EHOSTUNREACH, -ETIMEDOUT: nothing for timeout_s seconds, ...), an HTTP
 * status other than 200 (-EREMOTEIO; 404 -ENOENT), a body that is not the
 * API's format (-EBADMSG), an answer without generated tokens (-ENODATA);
 * err names the endpoint and what came back. */
int gp_llm_run(gp_llm_client *c, gp_llm_sample *ret, gp_error *err);

#define _cleanup_llm_client_ _cleanup_(gp_llm_client_freep)
static inline void gp_llm_client_freep(gp_llm_client **c) { gp_llm_client_free(*c); }
static inline void gp_llm_streamp(gp_llm_stream *s) { gp_llm_stream_done(s); }
#define _cleanup_llm_stream_ _cleanup_(gp_llm_streamp)
