/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gpupass bench llm without a network: the Ollama (NDJSON) and OpenAI
 * (server-sent events) stream parsers fed whole, byte by byte and cut
 * mid-line; error objects, garbage and streams that end early; the error
 * body reader; the statistics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "benchllm.h"

static const char ollama_stream[] =
    "{\"model\":\"m\",\"created_at\":\"2024-01-01T00:00:00Z\",\"response\":\"Once\",\"done\":false}\n"
    "{\"model\":\"m\",\"response\":\" upon\",\"done\":false}\n"
    "{\"model\":\"m\",\"response\":\"\",\"done\":false}\n"
    "{\"model\":\"m\",\"response\":\" a\",\"done\":false}\n"
    "{\"model\":\"m\",\"response\":\"\",\"done\":true,\"done_reason\":\"length\",\"context\":[1,2,3],"
    "\"total_duration\":900000000,\"load_duration\":5000000,\"prompt_eval_count\":26,"
    "\"prompt_eval_duration\":130000000,\"eval_count\":3,\"eval_duration\":60000000}\n";

static const char openai_stream[] =
    ": keep-alive comment\r\n"
    "data: {\"id\":\"c1\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"Once\","
    "\"finish_reason\":null}],\"usage\":null}\r\n\r\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"text\":\" upon\",\"finish_reason\":null}]}\n\n"
    "event: message\n"
    "data:{\"id\":\"c1\",\"choices\":[{\"index\":0,\"text\":\" a\",\"finish_reason\":\"length\"}]}\n\n"
    "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,"
    "\"total_tokens\":10}}\n\n"
    "data: [DONE]\n\n";

/* Feeds text in pieces of step bytes (0: whole); returns the OR of events
 * and counts the feeds that reported the first token. */
static int feed_all(gp_llm_stream *s, const char *text, size_t step, int *firsts, gp_error *err)
{
    size_t len = strlen(text);
    int ev = 0;

    *firsts = 0;
    if (step == 0)
        step = len;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        int r = gp_llm_stream_feed(s, text + off, n, err);

        if (r < 0)
            return r;
        if (r & GP_LLM_EV_FIRST)
            (*firsts)++;
        ev |= r;
    }
    return ev;
}

static void test_ollama_stream(void **state)
{
    static const size_t steps[] = { 0, 1, 7, 64 };

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        gp_llm_stream s;
        gp_error err = { 0 };
        int firsts, ev;

        gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
        ev = feed_all(&s, ollama_stream, steps[i], &firsts, &err);
        assert_true(ev >= 0);
        assert_true(ev & GP_LLM_EV_TEXT);
        assert_true(ev & GP_LLM_EV_DONE);
        assert_int_equal(firsts, 1);
        assert_int_equal(gp_llm_stream_finish(&s, &err), 0);
        assert_true(s.done);
        assert_int_equal(s.text_chunks, 3);     /* the empty response is no token */
        assert_int_equal(s.generated_tokens, 3);
        assert_int_equal(s.eval_duration_ns, 60000000);
        assert_int_equal(s.prompt_tokens, 26);
        assert_int_equal(s.prompt_eval_duration_ns, 130000000);
        assert_int_equal(s.load_duration_ns, 5000000);
        assert_int_equal(s.total_duration_ns, 900000000);
        assert_string_equal(s.done_reason, "length");
        gp_llm_stream_done(&s);
    }
}

static void test_ollama_last_line_without_newline(void **state)
{
    gp_llm_stream s;
    gp_error err = { 0 };
    size_t len = strlen(ollama_stream) - 1;

    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_true(gp_llm_stream_feed(&s, ollama_stream, len, &err) >= 0);
    assert_false(s.done);
    assert_int_equal(gp_llm_stream_finish(&s, &err), GP_LLM_EV_DONE);
    assert_true(s.done);
    assert_int_equal(s.generated_tokens, 3);
    gp_llm_stream_done(&s);
}

static void test_ollama_thinking_counts(void **state)
{
    gp_llm_stream s;
    gp_error err = { 0 };
    const char *t = "{\"response\":\"\",\"thinking\":\"Hmm\",\"done\":false}\n";

    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_int_equal(gp_llm_stream_feed(&s, t, strlen(t), &err), GP_LLM_EV_TEXT | GP_LLM_EV_FIRST);
    gp_llm_stream_done(&s);
}

static void test_ollama_errors(void **state)
{
    gp_llm_stream s;
    gp_error err = { 0 };
    const char *e = "{\"error\":\"model \\\"nosuch\\\" not found, try pulling it first\"}\n";
    const char *g = "<html><body>Bad Gateway</body></html>\n";
    const char *cut = "{\"response\":\"a\",\"done\":false}\n{\"response\":\"b\",\"do";

    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_int_equal(gp_llm_stream_feed(&s, e, strlen(e), &err), -EREMOTEIO);
    assert_non_null(strstr(err.msg, "model \"nosuch\" not found"));
    gp_llm_stream_done(&s);

    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_int_equal(gp_llm_stream_feed(&s, g, strlen(g), &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "line 1"));
    assert_non_null(strstr(err.msg, "Bad Gateway"));
    gp_llm_stream_done(&s);

    /* no newline at all: finish finds the garbage */
    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_int_equal(gp_llm_stream_feed(&s, "garbage", 7, &err), 0);
    assert_int_equal(gp_llm_stream_finish(&s, &err), -EBADMSG);
    gp_llm_stream_done(&s);

    /* JSON followed by more: not one object per line */
    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_int_equal(gp_llm_stream_feed(&s, "{\"a\":1} x\n", 10, &err), -EBADMSG);
    gp_llm_stream_done(&s);

    /* a JSON array is no object */
    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_int_equal(gp_llm_stream_feed(&s, "[1,2]\n", 6, &err), -EBADMSG);
    gp_llm_stream_done(&s);

    /* cut off before the done object */
    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_true(gp_llm_stream_feed(&s, cut, strlen(cut), &err) >= 0);
    assert_int_equal(gp_llm_stream_finish(&s, &err), -EBADMSG);
    gp_llm_stream_done(&s);

    /* a clean end without done: true */
    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OLLAMA);
    assert_true(gp_llm_stream_feed(&s, "{\"response\":\"a\"}\n", 17, &err) >= 0);
    assert_int_equal(gp_llm_stream_finish(&s, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "done"));
    gp_llm_stream_done(&s);
}

static void test_openai_stream(void **state)
{
    static const size_t steps[] = { 0, 1, 3, 50 };

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        gp_llm_stream s;
        gp_error err = { 0 };
        int firsts, ev;

        gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
        ev = feed_all(&s, openai_stream, steps[i], &firsts, &err);
        assert_true(ev >= 0);
        assert_true(ev & GP_LLM_EV_DONE);
        assert_int_equal(firsts, 1);
        assert_int_equal(gp_llm_stream_finish(&s, &err), 0);
        assert_int_equal(s.text_chunks, 3);
        assert_true(s.final_seen);
        assert_int_equal(s.prompt_tokens, 7);
        assert_int_equal(s.generated_tokens, 3);
        assert_string_equal(s.done_reason, "length");
        gp_llm_stream_done(&s);
    }
}

static void test_openai_chat_and_continuous_usage(void **state)
{
    gp_llm_stream s;
    gp_error err = { 0 };
    const char *t =
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}],\"usage\":{\"prompt_tokens\":5,"
        "\"completion_tokens\":0}}\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":{\"prompt_tokens\":5,"
        "\"completion_tokens\":1}}\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"!\"}}],\"usage\":{\"prompt_tokens\":5,"
        "\"completion_tokens\":2}}\n"
        "data: [DONE]\n"
        "data: {\"choices\":[{\"text\":\"after the end\"}]}\n";
    int firsts;

    gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
    assert_true(feed_all(&s, t, 0, &firsts, &err) >= 0);
    assert_int_equal(gp_llm_stream_finish(&s, &err), 0);
    assert_int_equal(s.text_chunks, 2);          /* role-only deltas and what follows [DONE] do not count */
    assert_int_equal(s.generated_tokens, 2);     /* the last cumulative usage */
    gp_llm_stream_done(&s);
}

static void test_openai_no_usage(void **state)
{
    gp_llm_stream s;
    gp_error err = { 0 };
    const char *t = "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[{\"text\":\"b\"}]}\n\n"
                    "data: [DONE]\n\n";
    int firsts;

    gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
    assert_true(feed_all(&s, t, 0, &firsts, &err) >= 0);
    assert_int_equal(gp_llm_stream_finish(&s, &err), 0);
    assert_false(s.final_seen);
    assert_int_equal(s.generated_tokens, -1);
    assert_int_equal(s.prompt_tokens, -1);
    assert_int_equal(s.text_chunks, 2);
    gp_llm_stream_done(&s);
}

static void test_openai_errors(void **state)
{
    gp_llm_stream s;
    gp_error err = { 0 };
    const char *e = "data: {\"error\":{\"message\":\"The model `x` does not exist.\",\"type\":\"NotFoundError\"}}\n";
    const char *nd = "{\"object\":\"error\",\"message\":\"bad request\"}\n";
    const char *bad = "data: not json\n";
    const char *plain = "hello world\n";
    const char *nodone = "data: {\"choices\":[{\"text\":\"a\"}]}\n\n";

    gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
    assert_int_equal(gp_llm_stream_feed(&s, e, strlen(e), &err), -EREMOTEIO);
    assert_non_null(strstr(err.msg, "does not exist"));
    gp_llm_stream_done(&s);

    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
    assert_int_equal(gp_llm_stream_feed(&s, nd, strlen(nd), &err), -EREMOTEIO);
    assert_non_null(strstr(err.msg, "bad request"));
    gp_llm_stream_done(&s);

    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
    assert_int_equal(gp_llm_stream_feed(&s, bad, strlen(bad), &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "not json"));
    gp_llm_stream_done(&s);

    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
    assert_int_equal(gp_llm_stream_feed(&s, plain, strlen(plain), &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "server-sent event"));
    gp_llm_stream_done(&s);

    err = (gp_error){ 0 };
    gp_llm_stream_init(&s, GP_LLM_API_OPENAI);
    assert_true(gp_llm_stream_feed(&s, nodone, strlen(nodone), &err) >= 0);
    assert_int_equal(gp_llm_stream_finish(&s, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "[DONE]"));
    gp_llm_stream_done(&s);
}

static void test_error_message(void **state)
{
    char buf[128];
    const char *o = "{\"error\":\"model \\\"x\\\" not found, try pulling it first\"}\n";
    const char *a = "{\"error\":{\"message\":\"The model `x` does not exist.\",\"code\":404}}";
    const char *v = "{\"object\":\"error\",\"message\":\"Not Found\",\"code\":404}";

    assert_string_equal(gp_llm_error_message(o, strlen(o), buf, sizeof(buf)),
                        "model \"x\" not found, try pulling it first");
    assert_string_equal(gp_llm_error_message(a, strlen(a), buf, sizeof(buf)), "The model `x` does not exist.");
    assert_string_equal(gp_llm_error_message(v, strlen(v), buf, sizeof(buf)), "Not Found");
    assert_null(gp_llm_error_message("Internal Server Error", 21, buf, sizeof(buf)));
    assert_null(gp_llm_error_message("{\"ok\":true}", 11, buf, sizeof(buf)));
    assert_null(gp_llm_error_message(NULL, 0, buf, sizeof(buf)));
    /* cut to the buffer */
    assert_non_null(gp_llm_error_message(o, strlen(o), buf, 12));
    assert_true(strlen(buf) < 12);
}

static void test_stats(void **state)
{
    const double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 7.5 };
    gp_llm_stat st;

    assert_int_equal(gp_llm_stat_of(odd, 3, &st), 0);
    assert_true(st.median == 3 && st.min == 1 && st.max == 5);
    assert_true(odd[0] == 5);     /* the input is left alone */
    assert_int_equal(gp_llm_stat_of(even, 4, &st), 0);
    assert_true(st.median == 2.5 && st.min == 1 && st.max == 4);
    assert_int_equal(gp_llm_stat_of(one, 1, &st), 0);
    assert_true(st.median == 7.5 && st.min == 7.5 && st.max == 7.5);
    assert_int_equal(gp_llm_stat_of(one, 0, &st), -EINVAL);
}

static void test_api_names(void **state)
{
    assert_int_equal(gp_llm_api_from_string("ollama"), GP_LLM_API_OLLAMA);
    assert_int_equal(gp_llm_api_from_string("OpenAI"), GP_LLM_API_OPENAI);
    assert_int_equal(gp_llm_api_from_string("vllm"), GP_LLM_API_OPENAI);
    assert_int_equal(gp_llm_api_from_string("auto"), GP_LLM_API_AUTO);
    assert_int_equal(gp_llm_api_from_string("tgi"), -EINVAL);
    assert_string_equal(gp_llm_api_to_string(GP_LLM_API_OPENAI), "openai");
}

/* The URL checks happen before any network use. */
static void test_client_bad_input(void **state)
{
    static const char *const bad[] = { "ftp://example.com", "localhost:11434", "", "http://", "http://h:99999",
                                       "http://host/?q=1" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gp_llm_config cfg = { .url = bad[i], .model = "m", .prompt = "p", .max_tokens = 8, .timeout_s = 1 };
        gp_llm_client *c = NULL;
        gp_error err = { 0 };

        assert_int_equal(gp_llm_client_new(&cfg, &c, &err), -EINVAL);
        assert_null(c);
        assert_non_null(strstr(err.msg, "--url"));
    }
}

/* A full endpoint URL is cut back to the base, and names its API. */
static void test_client_endpoint(void **state)
{
    static const struct { const char *url; gp_llm_api api; const char *endpoint; } t[] = {
        { "http://127.0.0.1:11434/api/generate", GP_LLM_API_OLLAMA, "http://127.0.0.1:11434/api/generate" },
        { "http://h:8000/v1/", GP_LLM_API_OPENAI, "http://h:8000/v1/completions" },
        { "https://h/prefix/v1/completions", GP_LLM_API_OPENAI, "https://h/prefix/v1/completions" },
        { "HTTP://h:11434//", GP_LLM_API_OLLAMA, "HTTP://h:11434/api/generate" },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        gp_llm_config cfg = { .url = t[i].url, .model = "m", .prompt = "p", .max_tokens = 8, .timeout_s = 1,
                              .api = i == 3 ? GP_LLM_API_OLLAMA : GP_LLM_API_AUTO };
        gp_llm_client *c = NULL;
        gp_error err = { 0 };

        assert_int_equal(gp_llm_client_new(&cfg, &c, &err), 0);
        assert_int_equal(gp_llm_client_api(c), t[i].api);
        assert_string_equal(gp_llm_client_endpoint(c), t[i].endpoint);
        gp_llm_client_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ollama_stream),
        cmocka_unit_test(test_ollama_last_line_without_newline),
        cmocka_unit_test(test_ollama_thinking_counts),
        cmocka_unit_test(test_ollama_errors),
        cmocka_unit_test(test_openai_stream),
        cmocka_unit_test(test_openai_chat_and_continuous_usage),
        cmocka_unit_test(test_openai_no_usage),
        cmocka_unit_test(test_openai_errors),
        cmocka_unit_test(test_error_message),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_api_names),
        cmocka_unit_test(test_client_bad_input),
        cmocka_unit_test(test_client_endpoint),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
