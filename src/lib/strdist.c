/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "strdist.h"

#define NAME_MAX_LEN 64

static char fold(char c)
{
    return c == '-' ? '_' : c;
}

unsigned gp_name_distance(const char *a, const char *b, unsigned cap)
{
    /* Three rows of the table: the previous two for the swap rule. */
    unsigned rows[3][NAME_MAX_LEN + 1];
    unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    size_t la = strlen(a), lb = strlen(b);

    if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN || (la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned best = cur[0] = (unsigned)i, *t;

        for (size_t j = 1; j <= lb; j++) {
            unsigned v = prev[j - 1] + (fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1);

            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]) &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
            if (v < best)
                best = v;
        }
        if (best > cap)
            return cap + 1;
        t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}
