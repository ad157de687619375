/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the LLM stream parsers (benchllm.h): any bytes as an
 * Ollama NDJSON body and as an OpenAI server-sent-events body, fed whole
 * and fed in pieces cut where the input's first bytes say, and as an
 * error body. Invariants:
 *   - where a body is cut does not matter: the same result (events or
 *     error code and message) and the same counters either way;
 *   - results are the GP_LLM_EV_* bits or -EBADMSG/-EREMOTEIO/-ENOMEM with
 *     a message; DONE seen means done; counters are -1 or >= 0, text_bytes
 *     0 without text chunks; done_reason is NUL-terminated;
 *   - an error message fits its buffer.
 * Plain builds replay tests/fuzz/seeds/benchllm (bodies as
 * tests/cli/llmserver.py sends them).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "benchllm.h"

#define FUZZ_NAME "benchllm"
#define FUZZ_TOKENS "\n", "\r\n", "data: ", "data: [DONE]\n", ": keep-alive\n", "{", "}", "\"", ":", ",", \
    "\"response\":", "\"done\":true", "\"eval_count\":", "\"choices\":[{\"text\":\"a\"}]", "\"usage\":", \
    "\"error\":", "1e400", "-1", "null", "\\u0000"
#include "fuzz-main.h"

typedef struct result {
    int r, fin;
    gp_error err, ferr;
    gp_llm_stream s;
} result;

/* Feeds data in pieces of the given lengths (cycled; 0: all at once), then finishes. */
static void run(gp_llm_api api, const char *data, size_t size, const uint8_t *cuts, size_t n_cuts, result *out)
{
    size_t off = 0, c = 0;

    memset(out, 0, sizeof(*out));
    gp_llm_stream_init(&out->s, api);
    while (off < size || (off == 0 && size == 0)) {
        size_t piece = n_cuts ? 1 + (size_t)(cuts[c++ % n_cuts] % 97) : size;
        int r;

        if (piece > size - off)
            piece = size - off;
        r = gp_llm_stream_feed(&out->s, data + off, piece, &out->err);
        if (r < 0) {
            out->r = r;
            break;
        }
        FUZZ_CHECK((r & ~(GP_LLM_EV_TEXT | GP_LLM_EV_FIRST | GP_LLM_EV_DONE)) == 0);
        out->r |= r;
        off += piece;
        if (size == 0)
            break;
    }
    if (out->r >= 0) {
        out->fin = gp_llm_stream_finish(&out->s, &out->ferr);
        if (out->fin >= 0)
            out->r |= out->fin;
    }
}

static void check_one(const result *x)
{
    const gp_llm_stream *s = &x->s;

    if (x->r < 0) {
        FUZZ_CHECK(x->r == -EBADMSG || x->r == -EREMOTEIO || x->r == -ENOMEM);
        FUZZ_CHECK(x->err.code == x->r && x->err.msg[0]);
    } else if (x->fin < 0) {
        FUZZ_CHECK(x->fin == -EBADMSG || x->fin == -EREMOTEIO || x->fin == -ENOMEM);
        FUZZ_CHECK(x->ferr.code == x->fin && x->ferr.msg[0]);
    }
    if (x->r >= 0 && (x->r & GP_LLM_EV_DONE))
        FUZZ_CHECK(s->done);
    if (x->r >= 0 && x->fin >= 0)
        FUZZ_CHECK(s->done);
    FUZZ_CHECK(s->text_chunks || !s->text_bytes);
    FUZZ_CHECK(memchr(s->done_reason, '\0', sizeof(s->done_reason)));
    FUZZ_CHECK(s->prompt_tokens >= -1 && s->generated_tokens >= -1);
}

static void check_same(const result *a, const result *b)
{
    FUZZ_CHECK(a->r == b->r && a->fin == b->fin);
    FUZZ_CHECK(strcmp(a->err.msg, b->err.msg) == 0 && strcmp(a->ferr.msg, b->ferr.msg) == 0);
    if (a->r < 0)
        return;   /* the counters of a failed stream are whatever came before the failure */
    FUZZ_CHECK(a->s.line_no == b->s.line_no && a->s.done == b->s.done && a->s.final_seen == b->s.final_seen);
    FUZZ_CHECK(a->s.text_chunks == b->s.text_chunks && a->s.text_bytes == b->s.text_bytes);
    FUZZ_CHECK(a->s.prompt_tokens == b->s.prompt_tokens && a->s.generated_tokens == b->s.generated_tokens);
    FUZZ_CHECK(a->s.eval_duration_ns == b->s.eval_duration_ns &&
               a->s.prompt_eval_duration_ns == b->s.prompt_eval_duration_ns);
    FUZZ_CHECK(a->s.load_duration_ns == b->s.load_duration_ns && a->s.total_duration_ns == b->s.total_duration_ns);
    FUZZ_CHECK(strcmp(a->s.done_reason, b->s.done_reason) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gp_llm_api apis[] = { GP_LLM_API_OLLAMA, GP_LLM_API_OPENAI };
    const char *body = (const char *)data;
    static result whole, cut;
    char msg[40];
    const char *m;

    for (size_t i = 0; i < 2; i++) {
        run(apis[i], body, size, NULL, 0, &whole);
        check_one(&whole);
        run(apis[i], body, size, data, size < 8 ? size : 8, &cut);
        check_one(&cut);
        check_same(&whole, &cut);
        gp_llm_stream_done(&whole.s);
        gp_llm_stream_done(&cut.s);
    }
    m = gp_llm_error_message(body, size, msg, sizeof(msg));
    if (m)
        FUZZ_CHECK(m == msg && memchr(msg, '\0', sizeof(msg)));
    return 0;
}
