/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "text.h"

void gp_text_wrapped(FILE *f, const char *text, int indent, int width)
{
    const char *p = text;

    while (*p) {
        const char *end = p, *brk = NULL;

        while (*end && *end != '\n' && end - p < width - indent) {
            if (*end == ' ')
                brk = end;
            end++;
        }
        if (*end && *end != '\n' && brk)
            end = brk;
        fprintf(f, "%*s%.*s\n", indent, "", (int)(end - p), p);
        p = end;
        while (*p == ' ' || *p == '\n')
            p++;
    }
}
