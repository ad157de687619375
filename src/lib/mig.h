/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVIDIA MIG (Multi-Instance GPU) planning: which GPUs can be split, into
 * which GPU-instance profiles, where each may sit, and the nvidia-smi
 * commands and boot unit that make a layout. The facts are a table,
 * data/mig.tsv, compiled in by gen-migdata.py; this module only reasons on
 * it. Nothing here talks to a GPU: the caller runs the commands.
 *
 * Geometry (NVIDIA MIG user guide): a GPU instance (GI) takes compute slices
 * from a budget (7 on A100/H100/H200/B200, 4 on A30 and RTX PRO 6000) and a
 * range [start, start + size) of the placement axis (8 memory slices, 4 on
 * A30, 12 units on RTX PRO 6000) that no other GI may overlap; each profile
 * may start only at its listed positions and exist at most max_count times.
 * Profile IDs are per family: 9 is 3g on A100/H100/H200 but absent on A30,
 * and 14 is 2g on A100 yet 1g on A30 and RTX PRO 6000.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum gp_mig_gen {
    GP_MIG_GEN_AMPERE,
    GP_MIG_GEN_HOPPER,
    GP_MIG_GEN_BLACKWELL,
    _GP_MIG_GEN_MAX,
} gp_mig_gen;

/* "Ampere", "Hopper", "Blackwell" */
const char *gp_mig_gen_to_string(gp_mig_gen g);

typedef struct gp_mig_profile {
    const char *name;         /* "3g.40gb", "1g.10gb+me" */
    int id;                   /* nvidia-smi GI profile ID on this family; -1: not confirmed */
    unsigned compute;         /* compute slices */
    unsigned memory;          /* memory slices; 0: not stated (RTX PRO 6000) */
    unsigned size;            /* placement size on the model's axis */
    uint32_t starts;          /* bit n: may start at position n */
    unsigned max_count;       /* most instances of this profile on one GPU */
    bool media;               /* has the media engines (+me, +me.all): one such GI per GPU */
    bool gfx;                 /* graphics-capable (+gfx): the only kind NVIDIA vGPU can use */
    const char *min_driver;   /* "R525" when newer than the model's driver, else NULL */
} gp_mig_profile;

typedef struct gp_mig_model {
    const char *key;          /* "a100-80gb" */
    const char *title;        /* "A100 80GB" */
    gp_mig_gen gen;
    unsigned compute;         /* compute slices */
    unsigned memory;          /* memory slices; 0: not stated */
    unsigned axis;            /* placement positions (-lgipp) */
    unsigned max_instances;   /* most GPU instances */
    const char *min_driver;   /* "450.80.02", or NULL when not stated */
    bool ids_unverified;      /* profile IDs not observed: name profiles, never number them */
    bool placements_unverified;
    bool mig_parted_only;     /* profile names from mig-parted's config, not NVIDIA's docs */
    const gp_mig_profile *profiles;
    size_t n_profiles;
} gp_mig_model;

/* One card as the table knows it: a MIG GPU (model set) or one without MIG. */
typedef struct gp_mig_card {
    const uint32_t *pci_ids;  /* vendor << 16 | device */
    size_t n_pci_ids;         /* 0: known by name only */
    const char *const *names; /* display name first; NULL-terminated */
    const gp_mig_model *model;/* NULL: no MIG (or no data), see sharing */
    const char *sharing;      /* model == NULL: what the card offers instead */
    const char *min_vbios;    /* RTX PRO 6000 Workstation / Max-Q, else NULL */
    bool display_mode;        /* ships in graphics display mode: switch to compute before MIG */
} gp_mig_card;

/* The whole table. */
size_t gp_mig_models(const gp_mig_model **ret);
size_t gp_mig_cards(const gp_mig_card **ret);

/*
 * By PCI ID. 0 with *ret a MIG card; -ENOTSUP for a card without MIG (*ret
 * set, err says what it offers instead) or another vendor (*ret NULL);
 * -ENOENT for an NVIDIA device the table does not know.
 */
int gp_mig_card_by_pci(uint16_t vendor, uint16_t device, const gp_mig_card **ret, gp_error *err);
/*
 * By name, forgiving: case, spaces, '-' and '_' do not matter, "NVIDIA",
 * "Tesla", "GeForce" and memory-type words ("HBM3") are ignored, "80GB",
 * "80G" and "80 GB" are the same; a model key ("a100-80gb") and
 * "10de:20b5" work too. Every word given must be in one of a card's names.
 * 0 / -ENOTSUP as above; -EINVAL when the words fit several models (err
 * lists them); -ENOENT when nothing fits (err suggests the nearest names).
 */
int gp_mig_card_by_name(const char *name, const gp_mig_card **ret, gp_error *err);

/* A profile of m by name ("3g.40gb", case-insensitive, "MIG 3g.40gb" too) or NULL. */
const gp_mig_profile *gp_mig_profile_by_name(const gp_mig_model *m, const char *name);
/* By nvidia-smi ID, or NULL (always NULL when m->ids_unverified). */
const gp_mig_profile *gp_mig_profile_by_id(const gp_mig_model *m, int id);

/* ---- requests ---------------------------------------------------------------- */

typedef struct gp_mig_want {
    const gp_mig_profile *profile;
    unsigned count;
} gp_mig_want;

typedef struct gp_mig_request {
    const gp_mig_model *model;
    gp_mig_want *v;           /* one per profile, in order of first mention */
    size_t n;
} gp_mig_request;

/* A count above this is a typo, not a layout: no MIG GPU has more than 7 GIs. */
#define GP_MIG_COUNT_MAX 99

/*
 * Parses "3g.40gb:2,1g.10gb", "9,9,9" (IDs; repeats add up) or a mix,
 * separated by commas and/or spaces. Unknown profiles (with the nearest
 * names), IDs not on this family, counts of 0 or above GP_MIG_COUNT_MAX and
 * empty items are -EINVAL with err naming the item. Whether the layout fits
 * is gp_mig_plan_make()'s question.
 */
int gp_mig_request_parse(const gp_mig_model *m, const char *spec, gp_mig_request *ret, gp_error *err);
void gp_mig_request_clear(gp_mig_request *r);
/* "3g.40gb:2,1g.10gb" (parses back to the same request); NULL on -ENOMEM. */
char *gp_mig_request_spec(const gp_mig_request *r);
/* "2 × 3g.40gb + 1g.10gb"; "nothing" when empty; NULL on -ENOMEM. */
char *gp_mig_request_describe(const gp_mig_request *r);

/* ---- plans ------------------------------------------------------------------- */

typedef struct gp_mig_instance {
    const gp_mig_profile *profile;
    unsigned start, size;     /* on the model's placement axis */
} gp_mig_instance;

typedef struct gp_mig_suggestion {
    gp_mig_request request;   /* a layout that fits */
    char *spec;               /* "3g.40gb:2" */
    char *text;               /* "2 × 3g.40gb (1 fewer 3g.40gb)" */
} gp_mig_suggestion;

typedef struct gp_mig_plan {
    const gp_mig_model *model;
    gp_mig_instance *v;       /* sorted by start; empty when infeasible */
    size_t n;
    unsigned compute_used, memory_used, axis_used;
    /* Infeasible requests only: */
    char *reason;             /* one sentence with the numbers */
    gp_mig_suggestion *suggestions;   /* nearest layouts that fit, best first */
    size_t n_suggestions;
    unsigned *max_alone;      /* per request want: most instances of it that fit with nothing else */
} gp_mig_plan;

/* Most suggestions a refusal carries. */
#define GP_MIG_SUGGESTIONS_MAX 4

/*
 * Exact placement search (backtracking over the valid starts; the space is
 * tiny). 0 with ret->v the placement of every instance; -ENOSPC when no
 * placement exists, with ret->reason (also in err), ret->suggestions and
 * ret->max_alone filled; -ENOMEM. Clear ret in every case.
 */
int gp_mig_plan_make(const gp_mig_request *req, gp_mig_plan *ret, gp_error *err);
void gp_mig_plan_clear(gp_mig_plan *p);

/*
 * The layout on a ruler of the placement axis, one line per instance, at
 * most 80 columns, '\n'-terminated lines:
 *
 *     memory slice       0      1      2      3      4      5      6      7
 *     3g.40gb      @0   [3g.40gb=====================]
 *     3g.40gb      @4                                 [3g.40gb=====================]
 *     used: 6 of 7 compute slices, 8 of 8 memory slices
 *
 * Free positions show as '.'. -ENOMEM, or -EINVAL for an infeasible plan.
 */
int gp_mig_plan_picture(const gp_mig_plan *p, char **ret);

/* ---- commands and boot unit --------------------------------------------------- */

/* What enabling MIG means on a generation (NVIDIA MIG user guide). */
typedef struct gp_mig_mode_rules {
    bool reset_on_enable;     /* enabling MIG resets the GPU (Ampere) */
    bool mode_persists;       /* MIG mode survives a reboot (Ampere: kept in the InfoROM) */
    bool instances_persist;   /* GPU/compute instances survive a reboot: never */
    const char *text;         /* the rules in two sentences, for the user */
} gp_mig_mode_rules;

const gp_mig_mode_rules *gp_mig_gen_rules(gp_mig_gen g);

typedef struct gp_mig_command {
    char **argv;              /* NULL-terminated, for gp_plan_add_cmd() */
    char *line;               /* argv joined by spaces (no argument needs quoting) */
    char *why;
} gp_mig_command;

typedef struct gp_mig_commands {
    gp_mig_command *v;
    size_t n;
    char **notes;             /* prerequisites and caveats, one sentence each */
    size_t n_notes;
} gp_mig_commands;

/*
 * The nvidia-smi commands that make plan p on the GPU named gpu (what
 * nvidia-smi -i takes: an index, a PCI bus ID or a UUID; letters, digits and
 * ":._-" only): enable MIG mode, check it, remove old instances, create the
 * GIs with their default compute instances in one -cgi list (largest first:
 * NVIDIA documents that a 3g listed after smaller profiles fails), list what
 * the driver made. card (may be NULL) adds its vBIOS / display-mode notes.
 * -EINVAL (bad gpu, infeasible plan), -ENOMEM.
 */
int gp_mig_plan_commands(const gp_mig_plan *p, const gp_mig_card *card, const char *gpu, gp_mig_commands *ret,
                         gp_error *err);
void gp_mig_commands_clear(gp_mig_commands *c);

/*
 * A systemd oneshot unit that recreates plan p at boot: GIs and CIs never
 * survive a reboot, and from Hopper on MIG mode itself does not either
 * (Ampere keeps the mode in the InfoROM). Ordered before pve-guests.service
 * so guests find their MIG devices. -EINVAL, -ENOMEM.
 */
int gp_mig_plan_unit(const gp_mig_plan *p, const char *gpu, char **ret, gp_error *err);

static inline void gp_mig_request_clearp(gp_mig_request *r) { gp_mig_request_clear(r); }
static inline void gp_mig_plan_clearp(gp_mig_plan *p) { gp_mig_plan_clear(p); }
static inline void gp_mig_commands_clearp(gp_mig_commands *c) { gp_mig_commands_clear(c); }
#define _cleanup_mig_request_ _cleanup_(gp_mig_request_clearp)
#define _cleanup_mig_plan_ _cleanup_(gp_mig_plan_clearp)
#define _cleanup_mig_commands_ _cleanup_(gp_mig_commands_clearp)
