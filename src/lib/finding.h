/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A finding is one judgment about the host or a file: a stable dotted id
 * ("iommu.firmware-off"), a severity, what was checked, what was found, the
 * evidence (file and line, or device), and the exact fix. check, lint,
 * doctor and the guest linters all produce findings; one renderer prints
 * them and the exit status follows from the worst severity.
 *
 * A gp_findings list remembers an allocation failure instead of making every
 * caller test every call: the adders return NULL (and the setters ignore a
 * NULL finding) once memory ran out, and gp_findings_status() reports
 * -ENOMEM at the end.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/macro.h"

typedef enum gp_severity {
    GP_SEV_PASS,
    GP_SEV_INFO,
    GP_SEV_WARN,
    GP_SEV_FAIL,
    _GP_SEV_MAX,
} gp_severity;

/* "pass", "info", "warn", "fail" */
const char *gp_severity_to_string(gp_severity s);

typedef struct gp_evidence {
    char *file;      /* path as the user knows it ("/etc/default/grub"), or NULL */
    unsigned line;   /* 1-based; 0: the whole file, or no file */
    char *text;      /* the line or value as read (cut at GP_EVIDENCE_TEXT_MAX), or NULL */
    char *device;    /* "0000:01:00.0", or NULL */
} gp_evidence;

#define GP_EVIDENCE_TEXT_MAX 240

typedef struct gp_finding {
    char *id;            /* "cmdline.invalid-param" */
    char *layer;         /* group heading: "CPU", "IOMMU", "GPU 0000:01:00.0", a file name */
    gp_severity severity;
    char *subject;       /* what was checked: "hardware virtualization (VT-x/AMD-V)" */
    char *title;         /* what was found, one line */
    gp_evidence *evidence;
    size_t n_evidence;
    char *fix;           /* exact command or config line(s), '\n'-separated; NULL if none */
} gp_finding;

typedef struct gp_findings {
    gp_finding *v;
    size_t n, cap;
    bool oom;
} gp_findings;

/* Appends a finding; the title is a printf format. NULL after an allocation failure. */
gp_finding *gp_findings_add(gp_findings *l, const char *layer, const char *id, gp_severity sev,
                            const char *subject, const char *title_fmt, ...) _printf_(6, 7);
/* The same with a va_list, for wrappers that add their own evidence. */
gp_finding *gp_findings_addv(gp_findings *l, const char *layer, const char *id, gp_severity sev,
                             const char *subject, const char *title_fmt, va_list ap) _printf_(6, 0);
/* The fix, replacing any earlier one. */
void gp_finding_set_fix(gp_findings *l, gp_finding *f, const char *fmt, ...) _printf_(3, 4);
/* Evidence: a file line (line 0 and text NULL for the file as a whole) or a device. */
void gp_finding_add_line(gp_findings *l, gp_finding *f, const char *file, unsigned line, const char *text);
void gp_finding_add_text(gp_findings *l, gp_finding *f, const char *file, unsigned line, const char *text,
                         size_t text_len);
void gp_finding_add_device(gp_findings *l, gp_finding *f, const char *device);
/* A device with a note on it ("holds the root filesystem"). */
void gp_finding_add_device_text(gp_findings *l, gp_finding *f, const char *device, const char *text);

/* 0, or -ENOMEM when any add failed. */
int gp_findings_status(const gp_findings *l);
gp_severity gp_findings_worst(const gp_findings *l);
/* counts[GP_SEV_PASS..GP_SEV_FAIL] */
void gp_findings_count(const gp_findings *l, size_t counts[_GP_SEV_MAX]);
/* First finding with this id, or NULL (tests and cross-layer rules). */
const gp_finding *gp_findings_find(const gp_findings *l, const char *id);
void gp_findings_clear(gp_findings *l);
static inline void gp_findings_clearp(gp_findings *l) { gp_findings_clear(l); }
#define _cleanup_findings_ _cleanup_(gp_findings_clearp)
