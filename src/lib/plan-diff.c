/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan as a unified diff.
 *
 * The hunks are the ones GNU `diff -u` prints, so that what the user reviews
 * reads like every other patch they have seen and can be fed to patch(1).
 * To pick the same alignment as diff where several minimal ones exist, the
 * comparison follows the steps diffutils documents for its own:
 *
 *  1. The identical leading and trailing lines are set aside, except a
 *     "horizon" of 3 lines (the context width) on each side, so that the
 *     boundary shifting of step 5 may still move the first and last change.
 *  2. Lines are put in equivalence classes (the same bytes, newline
 *     included: a last line without newline never equals a complete one).
 *  3. Lines that match nothing in the other file are changes for certain
 *     and are left out of the search; lines that match very many lines are
 *     left out too when they sit in a run of such certain changes.
 *  4. Myers' O(ND) search in linear space: a forward and a backward
 *     breadth-first search over diagonals meet at the middle snake of a
 *     shortest edit script, and each half is solved the same way. Beyond
 *     TOO_EXPENSIVE edit steps in one search, the search stops at the
 *     furthest point reached (Eggert's heuristic): still a correct diff, not
 *     always a minimal one. A global work bound on top of that turns what
 *     is left into "replace these lines" so that no input (100 000 lines,
 *     one line of a megabyte) costs more than about a second.
 *  5. A run of changes that can slide over identical lines is slid to join
 *     its neighbours, else as far down as it goes, and then back up to line
 *     up with a change in the other file.
 *
 * Binary inputs (a NUL byte) are reported as diff does: "Binary files A and
 * B differ": the text is a C string, and a NUL in a patch would cut it.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "shared/macro.h"

#define DIFF_CONTEXT 3
/* Below this many edit steps a search is always taken to the end. */
#define DIFF_TOO_EXPENSIVE_MIN 4096
/* Diagonals visited and lines compared, over the whole diff, before the rest
 * of the files is given up as "replaced": about a second of work. */
#define DIFF_WORK_MAX ((uint64_t)1 << 28)

/* ---- output buffer ---------------------------------------------------- */

typedef struct obuf {
    char *s;
    size_t n, cap;
    bool oom;
} obuf;

static void ob_add(obuf *o, const char *p, size_t len)
{
    if (o->oom)
        return;
    if (o->n + len + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        char *s;

        while (cap < o->n + len + 1)
            cap *= 2;
        s = realloc(o->s, cap);
        if (!s) {
            o->oom = true;
            return;
        }
        o->s = s;
        o->cap = cap;
    }
    memcpy(o->s + o->n, p, len);
    o->n += len;
    o->s[o->n] = '\0';
}

static void ob_puts(obuf *o, const char *s)
{
    ob_add(o, s, strlen(s));
}

_printf_(2, 3) static void ob_printf(obuf *o, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (r < 0) {
        o->oom = true;
        return;
    }
    if ((size_t)r < sizeof(small)) {
        ob_add(o, small, (size_t)r);
        return;
    }
    {
        _cleanup_free_ char *big = NULL;

        va_start(ap, fmt);
        r = vasprintf(&big, fmt, ap);
        va_end(ap);
        if (r < 0) {
            big = NULL;
            o->oom = true;
            return;
        }
        ob_add(o, big, (size_t)r);
    }
}

/* The text, or NULL on allocation failure; "" when nothing was written. */
static char *ob_finish(obuf *o)
{
    if (o->oom) {
        free(o->s);
        return NULL;
    }
    if (!o->s)
        return strdup("");
    return o->s;
}

/* ---- lines ------------------------------------------------------------ */

typedef struct dtext {
    const char *buf;
    size_t len;
    size_t n;           /* lines */
    size_t *start;      /* n + 1 offsets: line i is [start[i], start[i + 1]) */
    bool missing_nl;    /* the last line has no newline */
} dtext;

static int text_split(dtext *t, const char *buf, size_t len)
{
    size_t n = 0, k = 0;
    const char *p = buf, *end = buf + len;

    *t = (dtext){ .buf = buf, .len = len };
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        n++;
        p = nl ? nl + 1 : end;
    }
    t->start = malloc((n + 1) * sizeof(*t->start));
    if (!t->start)
        return -ENOMEM;
    /* the same walk again, n lines long */
    for (p = buf; k < n; k++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        t->start[k] = (size_t)(p - buf);
        p = nl ? nl + 1 : end;
    }
    t->start[n] = len;
    t->n = n;
    t->missing_nl = len > 0 && buf[len - 1] != '\n';
    return 0;
}

static const char *line_ptr(const dtext *t, size_t i, size_t *len)
{
    *len = t->start[i + 1] - t->start[i];
    return t->buf + t->start[i];
}

static bool lines_equal(const dtext *a, size_t i, const dtext *b, size_t j)
{
    size_t la, lb;
    const char *pa = line_ptr(a, i, &la), *pb = line_ptr(b, j, &lb);

    /* Raw bytes, newline included: an incomplete last line ("x" at the end
     * of the file) differs from "x\n", as diff and patch see it. */
    return la == lb && memcmp(pa, pb, la) == 0;
}

/* The byte at i of the text as diff reads it: a missing final newline is
 * supplied, so both ends of the suffix scan look alike. */
static char vbyte(const dtext *t, size_t i)
{
    return i < t->len ? t->buf[i] : '\n';
}

static size_t line_at_offset(const dtext *t, size_t off)
{
    size_t lo = 0, hi = t->n;

    if (off >= t->len)
        return t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->start[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static unsigned floor_log2(size_t v)
{
    unsigned r = 0;

    while (v >>= 1)
        r++;
    return r;
}

/* ---- the comparison ----------------------------------------------------- */

typedef struct dside {
    const dtext *t;
    size_t first;       /* first line of the middle part (the rest is identical) */
    ptrdiff_t n;        /* lines in the middle part */
    ptrdiff_t *equiv;   /* class of each middle line */
    bool *changed;      /* per middle line, with a false entry at [-1] and [n] */
    ptrdiff_t *undisc;  /* classes of the lines the search looks at */
    ptrdiff_t *real;    /* their middle index */
    ptrdiff_t nund;
} dside;

typedef struct dsearch {
    const ptrdiff_t *xv, *yv;
    dside *x, *y;
    ptrdiff_t *fd, *bd;     /* furthest x reached per diagonal, forward / backward */
    ptrdiff_t too_expensive;
    uint64_t work;
} dsearch;

typedef struct dsplit {
    ptrdiff_t xmid, ymid;
    bool lo_minimal, hi_minimal;
} dsplit;

static uint64_t hash_line(const char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a */

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

typedef struct eqclass {
    uint64_t hash;
    const dtext *t;
    size_t line;
} eqclass;

/* Numbers the middle lines of both sides by content, from 1; *ret_n is one
 * past the highest class. */
static int classify(dside s[2], ptrdiff_t *ret_n)
{
    size_t total = (size_t)s[0].n + (size_t)s[1].n, size = 16, mask;
    _cleanup_free_ ptrdiff_t *slots = NULL;
    _cleanup_free_ eqclass *cls = NULL;
    ptrdiff_t ncls = 1;

    while (size < 2 * total)
        size *= 2;
    mask = size - 1;
    slots = calloc(size, sizeof(*slots));
    cls = malloc((total + 1) * sizeof(*cls));
    if (!slots || !cls)
        return -ENOMEM;
    for (int f = 0; f < 2; f++)
        for (ptrdiff_t i = 0; i < s[f].n; i++) {
            size_t line = s[f].first + (size_t)i, len, k;
            const char *p = line_ptr(s[f].t, line, &len);
            uint64_t h = hash_line(p, len);

            for (k = (size_t)h & mask;; k = (k + 1) & mask) {
                ptrdiff_t c = slots[k];

                if (c == 0) {
                    cls[ncls] = (eqclass){ .hash = h, .t = s[f].t, .line = line };
                    slots[k] = c = ncls++;
                }
                assert(c > 0 && c < ncls); /* a slot holds 0 or a class made above */
                if (cls[c].hash == h && lines_equal(cls[c].t, cls[c].line, s[f].t, line)) {
                    s[f].equiv[i] = c;
                    break;
                }
            }
        }
    *ret_n = ncls;
    return 0;
}

/*
 * Lines without a match in the other file are certain changes: leaving them
 * out shortens the search and keeps it from pairing up lines across them.
 * Lines that match very many (blank lines, "}") are left out only inside a
 * run of certain changes, where pairing them would cut the run into pieces.
 */
static int discard_lines(dside s[2], ptrdiff_t nclasses)
{
    _cleanup_free_ ptrdiff_t *count = calloc(2 * (size_t)nclasses, sizeof(ptrdiff_t));
    _cleanup_free_ char *mark = malloc((size_t)s[0].n + (size_t)s[1].n + 1);
    char *d[2];

    if (!count || !mark)
        return -ENOMEM;
    d[0] = mark;
    d[1] = mark + s[0].n;
    for (int f = 0; f < 2; f++)
        for (ptrdiff_t i = 0; i < s[f].n; i++)
            count[f * nclasses + s[f].equiv[i]]++;

    /* 1: no match (certain); 2: more matches than about the square root
     * of the line count (provisional). */
    for (int f = 0; f < 2; f++) {
        const ptrdiff_t *other = count + (1 - f) * nclasses;
        ptrdiff_t end = s[f].n, many = 5;

        if (end >= 64)
            many <<= (floor_log2((size_t)end) >> 1) - 3;
        for (ptrdiff_t i = 0; i < end; i++) {
            ptrdiff_t m = other[s[f].equiv[i]];

            d[f][i] = m == 0 ? 1 : m > many ? 2 : 0;
        }
    }

    /* A provisional line stays out only inside a run of discardable lines
     * that begins and ends with certain ones, and not in a long stretch of
     * provisionals or near the run's ends. */
    for (int f = 0; f < 2; f++) {
        char *ds = d[f];
        ptrdiff_t end = s[f].n;

        for (ptrdiff_t i = 0; i < end; i++) {
            ptrdiff_t j, provisional = 0, length, minimum, consec;

            if (ds[i] == 2) {
                ds[i] = 0;
                continue;
            }
            if (ds[i] == 0)
                continue;
            for (j = i; j < end && ds[j] != 0; j++)
                provisional += ds[j] == 2;
            while (j > i && ds[j - 1] == 2) {
                ds[--j] = 0;
                provisional--;
            }
            length = j - i;
            if ((length >> 2) < provisional) {
                /* a quarter provisional: none of them is left out */
                for (j = i; j < i + length; j++)
                    if (ds[j] == 2)
                        ds[j] = 0;
            } else {
                minimum = length < 4 ? 2 : ((ptrdiff_t)1 << ((floor_log2((size_t)length) >> 1) - 1)) + 1;
                /* a stretch of `minimum` provisionals or more stays in */
                for (j = 0; j < length;) {
                    ptrdiff_t k = j;

                    while (k < length && ds[i + k] == 2)
                        k++;
                    if (k - j >= minimum)
                        memset(ds + i + j, 0, (size_t)(k - j));
                    j = k > j ? k : j + 1;
                }
                /* from each end, until 3 certain ones in a row or a
                 * certain one 8 lines in, provisionals stay in */
                for (j = 0, consec = 0; j < length; j++) {
                    if (j >= 8 && ds[i + j] == 1)
                        break;
                    if (ds[i + j] == 2) {
                        consec = 0;
                        ds[i + j] = 0;
                    } else if (ds[i + j] == 0) {
                        consec = 0;
                    } else if (++consec == 3) {
                        break;
                    }
                }
                i += length - 1;
                for (j = 0, consec = 0; j < length; j++) {
                    if (j >= 8 && ds[i - j] == 1)
                        break;
                    if (ds[i - j] == 2) {
                        consec = 0;
                        ds[i - j] = 0;
                    } else if (ds[i - j] == 0) {
                        consec = 0;
                    } else if (++consec == 3) {
                        break;
                    }
                }
            }
        }
    }

    for (int f = 0; f < 2; f++) {
        ptrdiff_t k = 0;

        for (ptrdiff_t i = 0; i < s[f].n; i++)
            if (d[f][i] == 0) {
                s[f].undisc[k] = s[f].equiv[i];
                s[f].real[k++] = i;
            } else {
                s[f].changed[i] = true;
            }
        s[f].nund = k;
    }
    return 0;
}

/*
 * The middle of a shortest edit script between xv[xoff, xlim) and
 * yv[yoff, ylim), whose first and last elements differ: the forward search
 * from the top left and the backward one from the bottom right advance one
 * edit step at a time over the diagonals k = x - y until they overlap.
 */
static void find_split(dsearch *c, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff, ptrdiff_t ylim, bool minimal,
                       dsplit *sp)
{
    ptrdiff_t *const fd = c->fd, *const bd = c->bd;
    const ptrdiff_t *const xv = c->xv, *const yv = c->yv;
    const ptrdiff_t dmin = xoff - ylim, dmax = xlim - yoff;
    const ptrdiff_t fmid = xoff - yoff, bmid = xlim - ylim;
    ptrdiff_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
    const bool odd = (fmid - bmid) & 1;

    fd[fmid] = xoff;
    bd[bmid] = xlim;
    for (ptrdiff_t cost = 1;; cost++) {
        ptrdiff_t fxybest, fxbest = 0, bxybest, bxbest = 0;

        /* one more edit step forward on every diagonal of the right parity */
        if (fmin > dmin)
            fd[--fmin - 1] = -1;
        else
            fmin++;
        if (fmax < dmax)
            fd[++fmax + 1] = -1;
        else
            fmax--;
        for (ptrdiff_t k = fmax; k >= fmin; k -= 2) {
            ptrdiff_t lo = fd[k - 1], hi = fd[k + 1];
            ptrdiff_t x0 = lo < hi ? hi : lo + 1, x = x0, y = x0 - k;

            while (x < xlim && y < ylim && xv[x] == yv[y])
                x++, y++;
            c->work += 1 + (uint64_t)(x - x0);
            fd[k] = x;
            if (odd && bmin <= k && k <= bmax && bd[k] <= x) {
                *sp = (dsplit){ .xmid = x, .ymid = y, .lo_minimal = true, .hi_minimal = true };
                return;
            }
        }

        /* and backward */
        if (bmin > dmin)
            bd[--bmin - 1] = PTRDIFF_MAX;
        else
            bmin++;
        if (bmax < dmax)
            bd[++bmax + 1] = PTRDIFF_MAX;
        else
            bmax--;
        for (ptrdiff_t k = bmax; k >= bmin; k -= 2) {
            ptrdiff_t lo = bd[k - 1], hi = bd[k + 1];
            ptrdiff_t x0 = lo < hi ? lo : hi - 1, x = x0, y = x0 - k;

            while (xoff < x && yoff < y && xv[x - 1] == yv[y - 1])
                x--, y--;
            c->work += 1 + (uint64_t)(x0 - x);
            bd[k] = x;
            if (!odd && fmin <= k && k <= fmax && x <= fd[k]) {
                *sp = (dsplit){ .xmid = x, .ymid = y, .lo_minimal = true, .hi_minimal = true };
                return;
            }
        }

        if ((minimal || cost < c->too_expensive) && c->work < DIFF_WORK_MAX)
            continue;

        /* Gone far enough: split at the point either search got furthest
         * along (largest x + y forward, smallest backward). The halves are
         * still compared; the edit script may just not be the shortest. */
        fxybest = -1;
        for (ptrdiff_t k = fmax; k >= fmin; k -= 2) {
            ptrdiff_t x = fd[k] < xlim ? fd[k] : xlim, y = x - k;

            if (ylim < y) {
                x = ylim + k;
                y = ylim;
            }
            if (fxybest < x + y) {
                fxybest = x + y;
                fxbest = x;
            }
        }
        bxybest = PTRDIFF_MAX;
        for (ptrdiff_t k = bmax; k >= bmin; k -= 2) {
            ptrdiff_t x = bd[k] > xoff ? bd[k] : xoff, y = x - k;

            if (y < yoff) {
                x = yoff + k;
                y = yoff;
            }
            if (x + y < bxybest) {
                bxybest = x + y;
                bxbest = x;
            }
        }
        if ((xlim + ylim) - bxybest < fxybest - (xoff + yoff))
            *sp = (dsplit){ .xmid = fxbest, .ymid = fxybest - fxbest, .lo_minimal = true };
        else
            *sp = (dsplit){ .xmid = bxbest, .ymid = bxybest - bxbest, .hi_minimal = true };
        return;
    }
}

static void compare(dsearch *c, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff, ptrdiff_t ylim, bool minimal)
{
    const ptrdiff_t *const xv = c->xv, *const yv = c->yv;

    /* the first half recurses, the second loops: the depth stays at the
     * logarithm of the edit distance */
    for (;;) {
        dsplit sp;

        while (xoff < xlim && yoff < ylim && xv[xoff] == yv[yoff])
            xoff++, yoff++;
        while (xoff < xlim && yoff < ylim && xv[xlim - 1] == yv[ylim - 1])
            xlim--, ylim--;

        if (xoff == xlim || yoff == ylim || c->work >= DIFF_WORK_MAX) {
            /* all that is left is inserted, deleted, or (out of work)
             * replaced */
            for (ptrdiff_t i = xoff; i < xlim; i++)
                c->x->changed[c->x->real[i]] = true;
            for (ptrdiff_t i = yoff; i < ylim; i++)
                c->y->changed[c->y->real[i]] = true;
            return;
        }
        find_split(c, xoff, xlim, yoff, ylim, minimal, &sp);
        compare(c, xoff, sp.xmid, yoff, sp.ymid, sp.lo_minimal);
        xoff = sp.xmid;
        yoff = sp.ymid;
        minimal = sp.hi_minimal;
    }
}

/*
 * Slides each run of changes over identical lines: where the line before a
 * run equals its last line, the run may as well start one line earlier, and
 * so on. Runs are slid to merge with neighbours, then as far down as they go
 * (an added block is shown after the blank line or "}" it shares with its
 * neighbour, as people write it), then back up to end where a change in the
 * other file ends, so that a changed line shows as "-" and "+" together.
 */
static void shift_boundaries(dside s[2])
{
    for (int f = 0; f < 2; f++) {
        bool *changed = s[f].changed, *other = s[1 - f].changed;
        const ptrdiff_t *eq = s[f].equiv;
        ptrdiff_t i = 0, j = 0, end = s[f].n;

        for (;;) {
            ptrdiff_t start, runlength, corresponding;

            while (i < end && !changed[i]) {
                while (other[j++])
                    ;
                i++;
            }
            if (i == end)
                break;
            start = i;
            while (changed[++i])
                ;
            while (other[j])
                j++;

            do {
                runlength = i - start;
                while (start && eq[start - 1] == eq[i - 1]) {
                    changed[--start] = true;
                    changed[--i] = false;
                    while (changed[start - 1])
                        start--;
                    while (other[--j])
                        ;
                }
                corresponding = other[j - 1] ? i : end;
                while (i != end && eq[start] == eq[i]) {
                    changed[start++] = false;
                    changed[i++] = true;
                    while (changed[i])
                        i++;
                    while (other[++j])
                        corresponding = i;
                }
            } while (runlength != i - start);

            while (corresponding < i) {
                changed[--start] = true;
                changed[--i] = false;
                while (other[--j])
                    ;
            }
        }
    }
}

/* ---- output ------------------------------------------------------------- */

typedef struct dchange {
    size_t line0, line1;        /* first line in each file (0-based) */
    size_t deleted, inserted;
} dchange;

static void print_range(obuf *o, size_t first, size_t count)
{
    /* diff's convention: an empty range names the line before it (patch
     * reads "-0,0" as "the file was empty"); one line goes without ",1" */
    if (count == 0)
        ob_printf(o, "%zu,0", first);
    else if (count == 1)
        ob_printf(o, "%zu", first + 1);
    else
        ob_printf(o, "%zu,%zu", first + 1, count);
}

static void print_line(obuf *o, char mark, const dtext *t, size_t i)
{
    size_t len;
    const char *p = line_ptr(t, i, &len);

    ob_add(o, &mark, 1);
    ob_add(o, p, len);
    if (len == 0 || p[len - 1] != '\n')
        ob_puts(o, "\n\\ No newline at end of file\n");
}

static void print_hunk(obuf *o, const dtext *a, const dtext *b, const dchange *ch, size_t n)
{
    const dchange *last = &ch[n - 1];
    size_t first0 = ch->line0 > DIFF_CONTEXT ? ch->line0 - DIFF_CONTEXT : 0;
    size_t first1 = ch->line1 > DIFF_CONTEXT ? ch->line1 - DIFF_CONTEXT : 0;
    size_t end0 = last->line0 + last->deleted + DIFF_CONTEXT, end1 = last->line1 + last->inserted + DIFF_CONTEXT;
    size_t i = first0, k = 0;

    /* the context before and after is equal in both: as long in each */
    if (end0 > a->n)
        end0 = a->n;
    if (end1 > b->n)
        end1 = b->n;
    ob_puts(o, "@@ -");
    print_range(o, first0, end0 - first0);
    ob_puts(o, " +");
    print_range(o, first1, end1 - first1);
    ob_puts(o, " @@\n");
    while (i < end0 || k < n) {
        if (k == n || i < ch[k].line0) {
            print_line(o, ' ', a, i++);
            continue;
        }
        for (size_t m = 0; m < ch[k].deleted; m++)
            print_line(o, '-', a, i++);
        for (size_t m = 0; m < ch[k].inserted; m++)
            print_line(o, '+', b, ch[k].line1 + m);
        k++;
    }
}

/* The edit script from the changed flags, hunks of changes less than
 * 2 * context + 1 lines apart, each with its context. */
static int print_script(obuf *o, const char *label_a, const char *label_b, const dtext *a, const dtext *b,
                        const bool *ch0, const bool *ch1)
{
    _cleanup_free_ dchange *v = NULL;
    size_t n = 0, cap = 0, i0 = 0, i1 = 0;

    while (i0 < a->n || i1 < b->n) {
        if ((i0 < a->n && ch0[i0]) || (i1 < b->n && ch1[i1])) {
            dchange c = { .line0 = i0, .line1 = i1 };

            while (i0 < a->n && ch0[i0])
                i0++;
            while (i1 < b->n && ch1[i1])
                i1++;
            c.deleted = i0 - c.line0;
            c.inserted = i1 - c.line1;
            if (n == cap) {
                dchange *nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

                if (!nv)
                    return -ENOMEM;
                v = nv;
            }
            v[n++] = c;
        }
        i0++;
        i1++;
    }
    if (n == 0)
        return 0;
    ob_printf(o, "--- %s\n+++ %s\n", label_a, label_b);
    for (size_t h = 0; h < n;) {
        size_t e = h + 1;

        while (e < n && v[e].line0 - (v[e - 1].line0 + v[e - 1].deleted) < 2 * DIFF_CONTEXT + 1)
            e++;
        print_hunk(o, a, b, v + h, e - h);
        h = e;
    }
    return 0;
}

/* Lines [first, first + n) of each side are compared; the rest are equal. */
static void middle_part(const dtext *a, const dtext *b, size_t *first, size_t *n0, size_t *n1)
{
    size_t common = 0, skip, pe0, p0, p1, beg0, vlen0, vlen1, s0, s1;

    while (common < a->n && common < b->n && lines_equal(a, common, b, common))
        common++;
    skip = common > DIFF_CONTEXT ? common - DIFF_CONTEXT : 0;
    pe0 = a->start[skip];       /* the same offset in b: the lines are equal */
    vlen0 = a->len + a->missing_nl;
    vlen1 = b->len + b->missing_nl;
    p0 = vlen0;
    p1 = vlen1;

    /* The identical suffix, bytewise (it may start inside a line), when
     * both files end the same way; it may not reach into the prefix. Then
     * back to a line start and a horizon of lines given back. */
    if (a->missing_nl == b->missing_nl) {
        size_t end0 = p0, i;
        bool at_bol;

        beg0 = pe0 + (vlen0 > vlen1 ? vlen0 - vlen1 : 0);
        while (p0 != beg0)
            if (vbyte(a, --p0) != vbyte(b, --p1)) {
                ++p0;
                ++p1;
                beg0 = p0;
                break;
            }
        at_bol = (p0 == 0 || vbyte(a, p0 - 1) == '\n') && (p1 == 0 || vbyte(b, p1 - 1) == '\n');
        for (i = DIFF_CONTEXT + !at_bol; i > 0 && p0 != end0; i--)
            while (vbyte(a, p0++) != '\n')
                ;
        p1 += p0 - beg0;
    }
    s0 = line_at_offset(a, p0);
    s1 = line_at_offset(b, p1);
    *first = skip;
    *n0 = s0 - skip;
    *n1 = s1 - skip;
}

static int diff_texts(obuf *o, const char *label_a, const char *label_b, const dtext *a, const dtext *b)
{
    _cleanup_free_ bool *flags = NULL;
    _cleanup_free_ ptrdiff_t *work = NULL;
    _cleanup_free_ ptrdiff_t *diag = NULL;
    size_t first, m0, m1, total;
    ptrdiff_t nclasses, diags, too;
    dside s[2];
    dsearch c;
    bool *ch0, *ch1;
    int r;

    middle_part(a, b, &first, &m0, &m1);
    total = m0 + m1;
    /* changed flags for each whole file, with a false guard before each
     * middle part and after it, which shift_boundaries relies on */
    flags = calloc(a->n + b->n + 4, sizeof(bool));
    work = malloc((3 * total + 1) * sizeof(ptrdiff_t));
    if (!flags || !work)
        return -ENOMEM;
    ch0 = flags + 1;
    ch1 = flags + a->n + 3;
    s[0] = (dside){ .t = a, .first = first, .n = (ptrdiff_t)m0, .changed = ch0 + first,
                    .equiv = work, .undisc = work + total, .real = work + 2 * total };
    s[1] = (dside){ .t = b, .first = first, .n = (ptrdiff_t)m1, .changed = ch1 + first,
                    .equiv = work + m0, .undisc = work + total + m0, .real = work + 2 * total + m0 };

    r = classify(s, &nclasses);
    if (r < 0)
        return r;
    r = discard_lines(s, nclasses);
    if (r < 0)
        return r;

    diags = s[0].nund + s[1].nund + 3;
    diag = malloc(2 * (size_t)diags * sizeof(*diag));
    if (!diag)
        return -ENOMEM;
    /* about the square root of the input size, at least 4096 */
    too = (ptrdiff_t)1 << ((floor_log2((size_t)diags) >> 1) + 1);
    c = (dsearch){
        .xv = s[0].undisc, .yv = s[1].undisc, .x = &s[0], .y = &s[1],
        .fd = diag + s[1].nund + 1, .bd = diag + diags + s[1].nund + 1,
        .too_expensive = too > DIFF_TOO_EXPENSIVE_MIN ? too : DIFF_TOO_EXPENSIVE_MIN,
    };
    compare(&c, 0, s[0].nund, 0, s[1].nund, false);
    shift_boundaries(s);
    return print_script(o, label_a, label_b, a, b, ch0, ch1);
}

static void text_done(dtext *t)
{
    free(t->start);
    t->start = NULL;
}

static int text_diff(obuf *o, const char *label_a, const char *a, size_t a_len, const char *label_b, const char *b,
                     size_t b_len)
{
    dtext ta, tb;
    int r;

    if (a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0))
        return 0;
    if (memchr(a, '\0', a_len) || memchr(b, '\0', b_len)) {
        ob_printf(o, "Binary files %s and %s differ\n", label_a, label_b);
        return 0;
    }
    r = text_split(&ta, a, a_len);
    if (r < 0)
        return r;
    r = text_split(&tb, b, b_len);
    if (r >= 0) {
        r = diff_texts(o, label_a, label_b, &ta, &tb);
        text_done(&tb);
    }
    text_done(&ta);
    return r;
}

char *gp_text_diff(const char *label_a, const char *a, size_t a_len, const char *label_b, const char *b,
                   size_t b_len)
{
    obuf o = { 0 };

    if (text_diff(&o, label_a, a ? a : "", a ? a_len : 0, label_b, b ? b : "", b ? b_len : 0) < 0)
        o.oom = true;
    return ob_finish(&o);
}

/* ---- the plan ------------------------------------------------------------ */

/* An argument as a shell reads it back: quoted only when it has to be, so
 * the common "update-initramfs -u -k all" reads as typed. */
static void print_arg(obuf *o, const char *arg)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_";

    if (*arg && strspn(arg, safe) == strlen(arg)) {
        ob_puts(o, arg);
        return;
    }
    ob_add(o, "'", 1);
    for (const char *p = arg; *p; p++)
        if (*p == '\'')
            ob_puts(o, "'\\''");
        else
            ob_add(o, p, 1);
    ob_add(o, "'", 1);
}

/* A comment that stays one comment however many lines it has. */
static void print_comment(obuf *o, const char *first, const char *rest, const char *text)
{
    const char *p = text;

    ob_puts(o, first);
    for (;;) {
        const char *nl = strchr(p, '\n');

        if (!nl) {
            ob_puts(o, p);
            ob_add(o, "\n", 1);
            return;
        }
        ob_add(o, p, (size_t)(nl - p) + 1);
        p = nl + 1;
        if (!*p)
            return;
        ob_puts(o, rest);
    }
}

char *gp_plan_diff(const gp_plan *p)
{
    obuf o = { 0 };

    /* commands and notes belong to file changes: without one there is
     * nothing to show */
    if (gp_plan_is_empty(p))
        return strdup("");

    for (size_t i = 0; i < p->n_files; i++) {
        const gp_plan_file *f = &p->files[i];
        _cleanup_free_ char *la = NULL, *lb = NULL;
        size_t before;

        if (!gp_plan_file_changes(f))
            continue;
        ob_printf(&o, "# /%s", f->path);
        if (f->why && *f->why) {
            ob_puts(&o, ": ");
            print_comment(&o, "", "#   ", f->why);
        } else {
            ob_add(&o, "\n", 1);
        }
        if (asprintf(&la, "a/%s", f->path) < 0)
            la = NULL;
        if (asprintf(&lb, "b/%s", f->path) < 0)
            lb = NULL;
        if (!la || !lb) {
            o.oom = true;
            break;
        }
        before = o.n;
        if (text_diff(&o, f->existed ? la : "/dev/null", f->existed ? f->old : "", f->existed ? f->old_len : 0,
                      lb, f->new ? f->new : "", f->new ? f->new_len : 0) < 0)
            o.oom = true;
        else if (o.n == before)
            /* a new empty file: diff prints nothing for it */
            ob_puts(&o, "# (created empty)\n");
    }

    if (p->n_cmds > 0) {
        ob_puts(&o, "\n# then run:\n");
        for (size_t i = 0; i < p->n_cmds; i++) {
            const gp_plan_cmd *c = &p->cmds[i];

            for (size_t k = 0; c->argv[k]; k++) {
                if (k > 0)
                    ob_add(&o, " ", 1);
                print_arg(&o, c->argv[k]);
            }
            if (c->once)
                ob_puts(&o, c->why && *c->why ? "   # (apply only)" : "   # (apply only)\n");
            if (c->why && *c->why)
                print_comment(&o, c->once ? " " : "   # ", "   # ", c->why);
            else
                ob_add(&o, "\n", 1);
        }
    }
    for (size_t i = 0; p->notes && p->notes[i]; i++)
        print_comment(&o, "# note: ", "#       ", p->notes[i]);
    return ob_finish(&o);
}
