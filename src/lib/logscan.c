/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logscan.h"
#include "shared/macro.h"

/*
 * Aho-Corasick as a full DFA: delta[state * n_cls + class of byte] is the next state,
 * out[state] the first needle that ends there and link[] chains the other
 * needles ending in it (via suffix links), so one table lookup per input
 * byte finds every needle, whatever their number.
 */
/* A delta entry holds the next state's row offset (state * n_cls), so the
 * scan loop adds instead of multiplying; its top bit marks a state where a
 * needle ends (its own or through a suffix link), so the loop tests the
 * entry it already has instead of loading out[] for every byte. */
#define OUT_FLAG 0x80000000u
#define STATE_MASK 0x7fffffffu

struct gp_matcher {
    uint8_t cls[256];         /* byte -> class: bytes in no needle share class 0 */
    unsigned n_cls;
    uint32_t *delta;          /* [state * n_cls + class]: see OUT_FLAG */
    int32_t *out;             /* needle ending here, -1 */
    int32_t *out_next;        /* next state on the output chain with an output, -1 */
    size_t n_states;
    size_t n_needles;
};

void gp_matcher_free(gp_matcher *m)
{
    if (!m)
        return;
    free(m->delta);
    free(m->out);
    free(m->out_next);
    free(m);
}

int gp_matcher_new(const char *const *needles, size_t n, gp_matcher **ret)
{
    _cleanup_free_ uint32_t *fail = NULL, *queue = NULL;
    gp_matcher *m;
    size_t total = 1, states = 1, head = 0, tail = 0, C;

    *ret = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!needles[i] || !needles[i][0])
            return -EINVAL;
        total += strlen(needles[i]);
    }
    if (total > 65535)
        return -E2BIG;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->n_needles = n;
    m->n_cls = 1;
    for (size_t i = 0; i < n; i++)
        for (const unsigned char *p = (const unsigned char *)needles[i]; *p; p++)
            if (!m->cls[*p])
                m->cls[*p] = (uint8_t)m->n_cls++;
    C = m->n_cls;
    m->delta = calloc(total * C, sizeof(*m->delta));
    m->out = malloc(total * sizeof(*m->out));
    m->out_next = malloc(total * sizeof(*m->out_next));
    fail = calloc(total, sizeof(*fail));
    queue = malloc(total * sizeof(*queue));
    if (!m->delta || !m->out || !m->out_next || !fail || !queue) {
        gp_matcher_free(m);
        return -ENOMEM;
    }
    for (size_t s = 0; s < total; s++)
        m->out[s] = m->out_next[s] = -1;
    /* The trie; 0 in delta means "no edge yet" (state 0 is the root, never
     * a target of a trie edge). */
    for (size_t i = 0; i < n; i++) {
        size_t s = 0;

        for (const unsigned char *p = (const unsigned char *)needles[i]; *p; p++) {
            if (!m->delta[s * C + m->cls[*p]])
                m->delta[s * C + m->cls[*p]] = (uint32_t)states++;
            s = m->delta[s * C + m->cls[*p]];
        }
        assert(s < total); /* one state per needle byte, plus the root */
        if (m->out[s] < 0)
            m->out[s] = (int32_t)i;
    }
    m->n_states = states;
    /* Breadth first: fill the missing edges with the failure state's. */
    for (size_t c = 0; c < C; c++) {
        uint32_t t = m->delta[c];

        if (t) {
            fail[t] = 0;
            queue[tail++] = t;
        }
    }
    while (head < tail) {
        uint32_t s = queue[head++];

        m->out_next[s] = m->out[fail[s]] >= 0 ? (int32_t)fail[s] : m->out_next[fail[s]];
        for (size_t c = 0; c < C; c++) {
            uint32_t t = m->delta[s * C + c];

            if (t) {
                fail[t] = m->delta[fail[s] * C + c];
                queue[tail++] = t;
            } else {
                m->delta[s * C + c] = m->delta[fail[s] * C + c];
            }
        }
    }
    for (size_t i = 0; i < states * C; i++) {
        size_t t = m->delta[i];

        assert(t < total); /* edges lead to states of the trie: at most total of them */
        m->delta[i] = (uint32_t)(t * C) | (m->out[t] >= 0 || m->out_next[t] >= 0 ? OUT_FLAG : 0);
    }
    *ret = m;
    return 0;
}

/* "\e[...m" and the other CSI sequences a colored journalctl or a pasted
 * terminal leaves in the text. */
static size_t strip_ansi(char *s, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\033' && i + 1 < len && s[i + 1] == '[') {
            i += 2;
            while (i < len && !((s[i] >= '@' && s[i] <= '~')))
                i++;
            continue;
        }
        s[o++] = s[i];
    }
    return o;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "[   12.345678] ": dmesg's stamp (printk time), read by hand: strtod
 * would cost more than matching the line. */
static size_t dmesg_stamp(const char *s, size_t len, double *ts)
{
    size_t i = 1;
    unsigned long long whole = 0, frac = 0, scale = 1;

    if (len < 4 || s[0] != '[')
        return 0;
    while (i < len && s[i] == ' ')
        i++;
    if (i >= len || !is_digit(s[i]))
        return 0;
    for (; i < len && is_digit(s[i]) && whole < 1ULL << 50; i++)
        whole = whole * 10 + (unsigned)(s[i] - '0');
    if (i < len && s[i] == '.')
        for (i++; i < len && is_digit(s[i]); i++)
            if (scale < 1000000000ULL) {
                frac = frac * 10 + (unsigned)(s[i] - '0');
                scale *= 10;
            }
    if (i >= len || s[i] != ']')
        return 0;
    *ts = (double)whole + (double)frac / (double)scale;
    i++;
    return i < len && s[i] == ' ' ? i + 1 : i;
}

/* "6,1234,5678901,-;message": a /dev/kmsg record (priority, sequence,
 * microseconds since boot, flags). */
static size_t kmsg_header(const char *s, size_t len, double *ts)
{
    size_t i = 0, field = 0;
    unsigned long long usec = 0;

    while (i < len && field < 3) {
        size_t start = i;

        while (i < len && is_digit(s[i])) {
            if (field == 2)
                usec = usec * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || i >= len || s[i] != ',')
            return 0;
        i++;
        field++;
    }
    while (i < len && s[i] != ';' && s[i] != ' ')
        i++;
    if (i >= len || s[i] != ';')
        return 0;
    *ts = (double)usec / 1e6;
    return i + 1;
}

/* "Nov 25 10:00:01 pve kernel: " (syslog, journalctl) and
 * "2025-11-25T10:00:01+0100 pve kernel: " (journalctl -o short-iso): the
 * prefix up to "kernel: ". Other programs' lines keep their tag. */
static size_t syslog_prefix(const char *s, size_t len)
{
    const char *k;
    bool month = len > 16 && s[3] == ' ' && s[6] == ' ' && s[9] == ':' && s[12] == ':';
    bool iso = len > 20 && is_digit(s[0]) && s[4] == '-' && s[7] == '-' && s[10] == 'T';

    if (!month && !iso)
        return 0;
    k = memmem(s, len < 200 ? len : 200, " kernel: ", 9);
    return k ? (size_t)(k - s) + 9 : 0;
}

/* The message part of a raw line: *start and *len say where it is; the
 * caller's bytes are only changed to remove ANSI codes. */
static double normalize_view(char *line, size_t *len, size_t *start)
{
    double ts = -1;
    size_t n = *len, cut, off = 0;

    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    if (memchr(line, '\033', n))
        n = strip_ansi(line, n);
    if ((cut = syslog_prefix(line, n)) > 0)
        off = cut;
    if ((cut = kmsg_header(line + off, n - off, &ts)) > 0 || (cut = dmesg_stamp(line + off, n - off, &ts)) > 0)
        off += cut;
    *start = off;
    *len = n - off;
    return ts;
}

double gp_logline_normalize(char *line, size_t *len)
{
    size_t start;
    double ts = normalize_view(line, len, &start);

    memmove(line, line + start, *len);
    line[*len] = '\0';
    return ts;
}

/* Distinct needles reported per line (a line naming more is pathological). */
#define HITS_MAX 64

typedef struct scanner {
    const gp_matcher *m;
    gp_logscan_hit_fn hit;
    void *userdata;
    gp_logscan_stats *stats;
    uint64_t *seen;           /* one bit per needle: reported for this line */
    size_t seen_words;
} scanner;

static int scan_line(scanner *sc, char *line, size_t len, bool cut)
{
    gp_logline l = { .lineno = ++sc->stats->lines };
    const gp_matcher *m = sc->m;
    size_t hits[HITS_MAX], n_hits = 0;
    uint32_t s = 0;
    bool any = false;

    if (cut)
        sc->stats->cut++;
    {
        size_t start;

        l.ts = normalize_view(line, &len, &start);
        line += start;
        line[len] = '\0';
    }
    l.text = line;
    l.len = len;
    /* One pass: a NUL or a control byte other than TAB means binary noise,
     * not a message (the line then reports nothing); else the matcher. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if (c < 0x20 && c != '\t') {
            sc->stats->binary++;
            return 0;
        }
        s = m->delta[s + m->cls[c]];
        if (s & OUT_FLAG) {
            size_t state;

            s &= STATE_MASK;
            state = s / m->n_cls;
            if (!any) {
                memset(sc->seen, 0, sc->seen_words * sizeof(*sc->seen));
                any = true;
            }
            for (int32_t t = m->out[state] >= 0 ? (int32_t)state : m->out_next[state]; t >= 0; t = m->out_next[t]) {
                size_t k = (size_t)m->out[t];

                if (sc->seen[k / 64] & (1ULL << (k % 64)))
                    continue;
                sc->seen[k / 64] |= 1ULL << (k % 64);
                if (n_hits < HITS_MAX)
                    hits[n_hits++] = k;
            }
        }
    }
    /* Reported after the whole line is known not to be binary. */
    for (size_t h = 0; h < n_hits && sc->hit; h++) {
        int r = sc->hit(sc->userdata, hits[h], &l);

        if (r < 0)
            return r;
    }
    return 0;
}

static int scanner_init(scanner *sc, const gp_matcher *m, gp_logscan_hit_fn hit, void *userdata,
                        gp_logscan_stats *stats)
{
    *sc = (scanner){ .m = m, .hit = hit, .userdata = userdata, .stats = stats };
    *stats = (gp_logscan_stats){ 0 };
    sc->seen_words = m->n_needles / 64 + 1;
    sc->seen = calloc(sc->seen_words, sizeof(*sc->seen));
    return sc->seen ? 0 : -ENOMEM;
}

int gp_logscan_buffer(const char *buf, size_t len, const gp_matcher *m, gp_logscan_hit_fn hit, void *userdata,
                      gp_logscan_stats *stats)
{
    _cleanup_free_ char *line = malloc(GP_LOGSCAN_LINE_MAX + 1);
    scanner sc;
    int r = scanner_init(&sc, m, hit, userdata, stats);

    if (r < 0 || !line) {
        free(sc.seen);
        return -ENOMEM;
    }
    stats->bytes = len;
    for (size_t off = 0; off < len && r >= 0;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) : len - off, keep = n < GP_LOGSCAN_LINE_MAX ? n : GP_LOGSCAN_LINE_MAX;

        memcpy(line, buf + off, keep);
        r = scan_line(&sc, line, keep, keep < n);
        off += n + (nl ? 1 : 0);
    }
    free(sc.seen);
    return r;
}

int gp_logscan_fd(int fd, const gp_matcher *m, unsigned long long max_bytes, gp_logscan_hit_fn hit, void *userdata,
                  gp_logscan_stats *stats, bool *truncated)
{
    enum { CHUNK = 1u << 20 };
    /* One chunk plus one line: a line that does not fit is cut, and the
     * rest of it skipped up to its newline. */
    _cleanup_free_ char *buf = malloc(CHUNK + GP_LOGSCAN_LINE_MAX + 1);
    size_t have = 0;
    bool skipping = false;
    scanner sc;
    int r = scanner_init(&sc, m, hit, userdata, stats);

    if (truncated)
        *truncated = false;
    if (r < 0 || !buf) {
        free(sc.seen);
        return -ENOMEM;
    }
    for (;;) {
        ssize_t got;
        size_t start = 0;

        if (max_bytes && stats->bytes >= max_bytes) {
            if (truncated)
                *truncated = true;
            break;
        }
        got = read(fd, buf + have, CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = -errno;
            break;
        }
        stats->bytes += (unsigned long long)got;
        have += (size_t)got;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            size_t n;

            if (!nl)
                break;
            n = (size_t)(nl - (buf + start));
            if (!skipping)
                r = scan_line(&sc, buf + start, n, false);
            skipping = false;
            start += n + 1;
            if (r < 0)
                goto out;
        }
        /* The end of the input, or a line longer than the limit. */
        if ((got == 0 && have > start) || have - start > GP_LOGSCAN_LINE_MAX) {
            if (!skipping) {
                size_t n = have - start < GP_LOGSCAN_LINE_MAX ? have - start : GP_LOGSCAN_LINE_MAX;

                r = scan_line(&sc, buf + start, n, got != 0);
                if (r < 0)
                    goto out;
            }
            skipping = got != 0;
            start = have;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (got == 0)
            break;
    }
out:
    free(sc.seen);
    return r < 0 ? r : 0;
}
