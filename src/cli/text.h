/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plain-text layout shared by the renderers. */
#pragma once

#include <stdio.h>

/* Prints text in lines of at most width columns, each indented by indent
 * spaces, breaking at spaces (a longer word stands alone). */
void gp_text_wrapped(FILE *f, const char *text, int indent, int width);
