/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig-data.h"
#include "mig.h"
#include "strdist.h"

#define NVIDIA 0x10de
/* More profiles than any model has (gen-migdata.py enforces it). */
#define WANTS_MAX 32

/* ---- small helpers ------------------------------------------------------------ */

/* Closes an open_memstream() stream and hands out its buffer (*buf, which
 * fclose() updates); NULL when memory ran out. */
static char *mem_close(FILE *f, char **buf)
{
    char *b;

    if (!f)
        return NULL;
    if (ferror(f) | fclose(f)) {
        free(*buf);
        *buf = NULL;
        return NULL;
    }
    b = *buf;
    *buf = NULL;
    return b;
}

static bool has_bit(uint32_t mask, unsigned n)
{
    return n < 32 && (mask >> n & 1u);
}

static uint32_t span_mask(unsigned start, unsigned size)
{
    return (size >= 32 ? ~0u : ((1u << size) - 1)) << start;
}

/* "0", "0 and 4", "0 to 6" (a run of three or more), "0, 2, 4 and 6". */
static void put_positions(FILE *f, const unsigned *v, size_t n)
{
    bool run = n >= 3;

    for (size_t i = 1; run && i < n; i++)
        run = v[i] == v[i - 1] + 1;
    if (run) {
        fprintf(f, "%u to %u", v[0], v[n - 1]);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%u", i == 0 ? "" : i + 1 == n ? " and " : ", ", v[i]);
}

static size_t mask_positions(uint32_t mask, unsigned *v)
{
    size_t n = 0;

    for (unsigned i = 0; i < 32; i++)
        if (has_bit(mask, i))
            v[n++] = i;
    return n;
}

/* What the placement axis counts: memory slices on A100/H100/A30, plain
 * -lgipp units on RTX PRO 6000 (its memory slices are not published). */
static const char *axis_word(const gp_mig_model *m, bool plural)
{
    if (m->memory)
        return plural ? "memory slices" : "memory slice";
    return plural ? "placement units" : "placement unit";
}

static const char *start_word(const gp_mig_model *m, bool plural)
{
    if (m->memory)
        return plural ? "start slices" : "start slice";
    return plural ? "placement starts" : "placement start";
}

/* "3g" from "3g.40gb". */
static size_t class_len(const char *name)
{
    const char *dot = strchr(name, '.');

    return dot ? (size_t)(dot - name) : strlen(name);
}

/* The part after the size: "+me" of "1g.10gb+me", "" for a plain profile. */
static const char *profile_suffix(const char *name)
{
    const char *p = strstr(name, "gb");

    return p ? p + 2 : "";
}

/* ---- generations -------------------------------------------------------------- */

const char *gp_mig_gen_to_string(gp_mig_gen g)
{
    static const char *const names[_GP_MIG_GEN_MAX] = {
        [GP_MIG_GEN_AMPERE] = "Ampere",
        [GP_MIG_GEN_HOPPER] = "Hopper",
        [GP_MIG_GEN_BLACKWELL] = "Blackwell",
    };

    return (unsigned)g < _GP_MIG_GEN_MAX ? names[g] : "unknown";
}

/*
 * NVIDIA MIG user guide ("Enable MIG mode"): on Ampere the driver resets
 * the GPU to enable MIG and keeps the mode in the InfoROM; from Hopper on no
 * reset is needed but the mode lives only as long as the loaded driver. GIs
 * and CIs are never persistent on any generation.
 */
static const gp_mig_mode_rules rules_ampere = {
    .reset_on_enable = true,
    .mode_persists = true,
    .instances_persist = false,
    .text = "Ampere: enabling MIG resets the GPU, which fails while nvidia-persistenced, DCGM, nvsm or "
            "another nvidia-smi holds it (\"In use by another client\") and is usually refused inside a "
            "passthrough VM (reboot the VM then); the mode is kept in the InfoROM across reboots. "
            "GPU and compute instances never survive a reboot or GPU reset.",
};
static const gp_mig_mode_rules rules_hopper = {
    .reset_on_enable = false,
    .mode_persists = false,
    .instances_persist = false,
    .text = "Hopper and later: enabling MIG needs no GPU reset, but the mode lasts only while the nvidia "
            "driver is loaded; a reboot or driver reload turns it off. "
            "GPU and compute instances never survive a reboot or GPU reset.",
};

const gp_mig_mode_rules *gp_mig_gen_rules(gp_mig_gen g)
{
    return g == GP_MIG_GEN_AMPERE ? &rules_ampere : &rules_hopper;
}

/* ---- the table ---------------------------------------------------------------- */

size_t gp_mig_models(const gp_mig_model **ret)
{
    *ret = gp_mig_data_models;
    return gp_mig_data_n_models;
}

size_t gp_mig_cards(const gp_mig_card **ret)
{
    *ret = gp_mig_data_cards;
    return gp_mig_data_n_cards;
}

static int card_result(const gp_mig_card *c, const char *asked, const gp_mig_card **ret, gp_error *err)
{
    *ret = c;
    if (c->model)
        return 0;
    return gp_error_set(err, -ENOTSUP, "%s (%s): %s", c->names[0], asked, c->sharing);
}

int gp_mig_card_by_pci(uint16_t vendor, uint16_t device, const gp_mig_card **ret, gp_error *err)
{
    uint32_t id = (uint32_t)vendor << 16 | device;
    char asked[16];

    *ret = NULL;
    snprintf(asked, sizeof(asked), "%04x:%04x", vendor, device);
    for (size_t i = 0; i < gp_mig_data_n_cards; i++)
        for (size_t j = 0; j < gp_mig_data_cards[i].n_pci_ids; j++)
            if (gp_mig_data_cards[i].pci_ids[j] == id)
                return card_result(&gp_mig_data_cards[i], asked, ret, err);
    if (vendor != NVIDIA)
        return gp_error_set(err, -ENOTSUP, "%s is not an NVIDIA device: MIG is an NVIDIA feature", asked);
    return gp_error_set(err, -ENOENT,
                        "NVIDIA device %s is not in gpupass's MIG table: it is not one of the MIG GPUs "
                        "(A30, A100, H100, H200, GH200, B200, GB200, B300, GB300, RTX PRO 6000 Blackwell); "
                        "if it is newer, nvidia-smi mig -lgip lists its profiles", asked);
}

/* ---- names -------------------------------------------------------------------- */

#define WORDS_MAX 16
#define WORD_LEN 24

typedef struct words {
    char w[WORDS_MAX][WORD_LEN];
    size_t n;
    bool overflow;
} words;

/* Words that name no particular card: vendor and brand, memory type. */
static bool filler(const char *w)
{
    static const char *const skip[] = {
        "nvidia", "tesla", "geforce", "gpu", "edition", "hbm2", "hbm2e", "hbm3", "hbm3e", "amd", "intel",
    };

    for (size_t i = 0; i < ELEMENTSOF(skip); i++)
        if (strcmp(w, skip[i]) == 0)
            return true;
    return false;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static void words_add(words *ws, const char *w, size_t len)
{
    char buf[WORD_LEN];

    if (len == 0)
        return;
    if (len >= WORD_LEN - 2 || ws->n == WORDS_MAX) {
        ws->overflow = true;
        return;
    }
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)w[i]);
    buf[len] = '\0';
    if (filler(buf))
        return;
    /* "80GB", "80G" and "80 GB" are one size: "80gb". */
    if ((strcmp(buf, "gb") == 0 || strcmp(buf, "g") == 0) && ws->n > 0 && all_digits(ws->w[ws->n - 1])) {
        strcat(ws->w[ws->n - 1], "gb");
        return;
    }
    if (len >= 2 && buf[len - 1] == 'g' && isdigit((unsigned char)buf[0])) {
        bool digits = true;

        for (size_t i = 0; i + 1 < len; i++)
            digits = digits && isdigit((unsigned char)buf[i]);
        if (digits)
            strcat(buf, "b");
    }
    memcpy(ws->w[ws->n++], buf, sizeof(buf));
}

static void words_split(const char *s, words *ws)
{
    *ws = (words){ 0 };
    while (*s) {
        size_t len = 0;

        while (*s && !isalnum((unsigned char)*s))
            s++;
        while (isalnum((unsigned char)s[len]))
            len++;
        words_add(ws, s, len);
        s += len;
    }
}

static bool words_has(const words *ws, const char *w)
{
    for (size_t i = 0; i < ws->n; i++)
        if (strcmp(ws->w[i], w) == 0)
            return true;
    return false;
}

/* Every word of q is in name; *exact when they are the same words. */
static bool words_match(const words *q, const words *name, bool *exact)
{
    for (size_t i = 0; i < q->n; i++)
        if (!words_has(name, q->w[i]))
            return false;
    *exact = q->n == name->n;
    return true;
}

static bool parse_pci_pair(const char *s, uint16_t *vendor, uint16_t *device)
{
    unsigned v, d;
    int n = 0;

    if (sscanf(s, " %4x:%4x %n", &v, &d, &n) != 2 || s[n] != '\0' || strlen(s) > 12)
        return false;
    *vendor = (uint16_t)v;
    *device = (uint16_t)d;
    return true;
}

/* How a card is offered in a message: its model ("A100 80GB") when it has
 * MIG, else its own name. */
static const char *card_label(const gp_mig_card *c)
{
    return c->model ? c->model->title : c->names[0];
}

/* How well a card's best name fits the asked words: 2 per word it holds,
 * 1 per word one edit away ("90gb" for "80gb", "a10o" for "a100"). */
static unsigned name_score(const words *q, const gp_mig_card *c)
{
    unsigned best = 0;

    for (const char *const *n = c->names; *n; n++) {
        unsigned score = 0;
        words nw;

        words_split(*n, &nw);
        for (size_t i = 0; i < q->n; i++) {
            unsigned w = 0;

            for (size_t j = 0; j < nw.n && w < 2; j++) {
                if (strcmp(q->w[i], nw.w[j]) == 0)
                    w = 2;
                else if (strlen(q->w[i]) >= 3 && gp_name_distance(q->w[i], nw.w[j], 1) <= 1)
                    w = 1;
            }
            score += w;
        }
        best = score > best ? score : best;
    }
    return best;
}

/* "did you mean": the models (or cards without MIG) whose names fit the
 * asked words best, up to three; else the list of MIG GPUs. */
static void suggest_names(const words *q, FILE *f)
{
    const char *shown[3];
    unsigned top = 0;
    size_t n = 0;

    for (size_t i = 0; i < gp_mig_data_n_cards; i++) {
        unsigned sc = name_score(q, &gp_mig_data_cards[i]);

        top = sc > top ? sc : top;
    }
    for (size_t i = 0; top > 0 && i < gp_mig_data_n_cards && n < 3; i++) {
        const char *label = card_label(&gp_mig_data_cards[i]);
        bool dup = false;

        if (name_score(q, &gp_mig_data_cards[i]) != top)
            continue;
        for (size_t k = 0; k < n; k++)
            dup = dup || strcmp(shown[k], label) == 0;
        if (dup)
            continue;
        fprintf(f, "%s%s", n ? ", " : "; nearest: ", label);
        shown[n++] = label;
    }
    if (n)
        return;
    fputs("; MIG GPUs gpupass knows: ", f);
    for (size_t i = 0; i < gp_mig_data_n_models; i++)
        fprintf(f, "%s%s", i ? ", " : "", gp_mig_data_models[i].title);
}

int gp_mig_card_by_name(const char *name, const gp_mig_card **ret, gp_error *err)
{
    const gp_mig_card *match[64];
    size_t n = 0, n_exact = 0;
    bool any_mig = false, one_model = true;
    uint16_t vendor, device;
    char *msg = NULL;
    size_t msglen = 0;
    words q;
    FILE *f;

    *ret = NULL;
    if (parse_pci_pair(name, &vendor, &device))
        return gp_mig_card_by_pci(vendor, device, ret, err);
    for (size_t i = 0; i < gp_mig_data_n_models; i++)
        if (strcasecmp(name, gp_mig_data_models[i].key) == 0)
            for (size_t j = 0; j < gp_mig_data_n_cards; j++)
                if (gp_mig_data_cards[j].model == &gp_mig_data_models[i]) {
                    *ret = &gp_mig_data_cards[j];
                    return 0;
                }
    words_split(name, &q);
    if (q.n == 0 || q.overflow)
        return gp_error_set(err, -EINVAL, "'%s' does not name a GPU (say e.g. \"A100 80GB\" or \"10de:20b5\")",
                            name);

    /* Every card with a name holding all the words; a name that is exactly
     * the words wins over longer ones ("H800" over "H800 NVL"). */
    for (size_t i = 0; i < gp_mig_data_n_cards && n < ELEMENTSOF(match); i++) {
        const gp_mig_card *c = &gp_mig_data_cards[i];
        bool hit = false, exact = false;

        for (const char *const *nm = c->names; *nm; nm++) {
            words nw;
            bool e;

            words_split(*nm, &nw);
            if (words_match(&q, &nw, &e)) {
                hit = true;
                exact = exact || e;
            }
        }
        if (!hit)
            continue;
        if (exact) {
            if (n_exact < n)
                /* NOLINTNEXTLINE(bugprone-sizeof-expression): match is an array of pointers */
                memmove(match + n_exact + 1, match + n_exact, (n - n_exact) * sizeof(match[0]));
            match[n_exact++] = c;
            n++;
        } else
            match[n++] = c;
    }
    if (n_exact > 0)
        n = n_exact;
    for (size_t i = 0; i < n; i++) {
        any_mig = any_mig || match[i]->model;
        one_model = one_model && match[i]->model == match[0]->model;
    }
    if (n > 0 && (one_model || !any_mig))
        return card_result(match[0], name, ret, err);

    f = open_memstream(&msg, &msglen);
    if (!f)
        return gp_error_set(err, -ENOMEM, "out of memory");
    if (n == 0) {
        fprintf(f, "no GPU in gpupass's MIG table is called '%s'", name);
        suggest_names(&q, f);
    } else {
        const gp_mig_model *seen[64];
        size_t n_seen = 0;

        fprintf(f, "'%s' fits several GPUs with different MIG profiles; say which: ", name);
        for (size_t i = 0; i < n; i++) {
            bool dup = false;

            for (size_t k = 0; k < n_seen; k++)
                dup = dup || seen[k] == match[i]->model;
            if (dup)
                continue;
            seen[n_seen++] = match[i]->model;
            fprintf(f, "%s%s", n_seen > 1 ? ", " : "", card_label(match[i]));
        }
    }
    msg = mem_close(f, &msg);
    if (!msg)
        return gp_error_set(err, -ENOMEM, "out of memory");
    gp_error_set(err, n == 0 ? -ENOENT : -EINVAL, "%s", msg);
    free(msg);
    return n == 0 ? -ENOENT : -EINVAL;
}

/* ---- profiles ----------------------------------------------------------------- */

const gp_mig_profile *gp_mig_profile_by_name(const gp_mig_model *m, const char *name)
{
    /* nvidia-smi's full names are "MIG 3g.40gb" */
    if (strncasecmp(name, "MIG ", 4) == 0)
        name += 4;
    for (size_t i = 0; i < m->n_profiles; i++)
        if (strcasecmp(name, m->profiles[i].name) == 0)
            return &m->profiles[i];
    return NULL;
}

const gp_mig_profile *gp_mig_profile_by_id(const gp_mig_model *m, int id)
{
    if (m->ids_unverified)
        return NULL;
    for (size_t i = 0; i < m->n_profiles; i++)
        if (m->profiles[i].id == id)
            return &m->profiles[i];
    return NULL;
}

static void put_profile_names(FILE *f, const gp_mig_model *m)
{
    for (size_t i = 0; i < m->n_profiles; i++)
        fprintf(f, "%s%s", i ? ", " : "", m->profiles[i].name);
}

/* The error for a profile name m does not have: the same class on this GPU
 * when the name belongs to another one ("3g.20gb" asked of an A100 80GB),
 * else the nearest names, else all of them. */
static int unknown_profile(const gp_mig_model *m, const char *item, const char *name, gp_error *err)
{
    const gp_mig_model *other = NULL;
    const gp_mig_profile *op = NULL;
    char *msg = NULL;
    size_t msglen = 0, shown = 0;
    FILE *f;

    for (size_t i = 0; i < gp_mig_data_n_models && !op; i++)
        if (&gp_mig_data_models[i] != m && (op = gp_mig_profile_by_name(&gp_mig_data_models[i], name)))
            other = &gp_mig_data_models[i];
    f = open_memstream(&msg, &msglen);
    if (!f)
        return gp_error_set(err, -ENOMEM, "out of memory");
    fprintf(f, "unknown MIG profile '%s' in '%s' on %s", name, item, m->title);
    if (op) {
        const char *suffix = profile_suffix(op->name);

        fprintf(f, " (%s is a profile of the %s)", op->name, other->title);
        for (size_t i = 0; i < m->n_profiles; i++) {
            const gp_mig_profile *p = &m->profiles[i];

            if (class_len(p->name) == class_len(op->name) &&
                strncmp(p->name, op->name, class_len(op->name)) == 0 && strcmp(profile_suffix(p->name), suffix) == 0)
                fprintf(f, "%s%s", shown++ ? ", " : "; here it is ", p->name);
        }
    }
    if (!shown) {
        for (unsigned d = 0; d <= 3 && !shown; d++)
            for (size_t i = 0; i < m->n_profiles; i++)
                if (gp_name_distance(name, m->profiles[i].name, 3) == d)
                    fprintf(f, "%s%s", shown++ ? ", " : "; nearest: ", m->profiles[i].name);
    }
    if (!shown) {
        fputs("; its profiles: ", f);
        put_profile_names(f, m);
    }
    msg = mem_close(f, &msg);
    if (!msg)
        return gp_error_set(err, -ENOMEM, "out of memory");
    gp_error_set(err, -EINVAL, "%s", msg);
    free(msg);
    return -EINVAL;
}

/* Profile IDs are per family (§ "facts likely to be gotten wrong"): 9 is 3g
 * on the 7-slice parts and does not exist on A30 or RTX PRO 6000, where 14
 * is 1g. The error says what the ID means elsewhere and lists this GPU's. */
static int unknown_id(const gp_mig_model *m, const char *item, const char *name, int id, gp_error *err)
{
    char *msg = NULL;
    size_t msglen = 0;
    FILE *f;

    f = open_memstream(&msg, &msglen);
    if (!f)
        return gp_error_set(err, -ENOMEM, "out of memory");
    if (m->ids_unverified) {
        fprintf(f, "'%s': the %s's MIG profile IDs are not confirmed (never seen in nvidia-smi mig -lgip "
                   "output); name the profile instead: ", item, m->title);
        put_profile_names(f, m);
    } else {
        fprintf(f, "the %s has no MIG profile ID %s ('%s')", m->title, name, item);
        for (size_t i = 0; i < gp_mig_data_n_models; i++) {
            const gp_mig_profile *op = gp_mig_profile_by_id(&gp_mig_data_models[i], id);

            if (op && id >= 0 && &gp_mig_data_models[i] != m) {
                fprintf(f, "; IDs differ between GPU families (%d is %s on the %s)", id, op->name,
                        gp_mig_data_models[i].title);
                break;
            }
        }
        fprintf(f, "; the %s's IDs: ", m->title);
        for (size_t i = 0; i < m->n_profiles; i++)
            fprintf(f, "%s%d = %s", i ? ", " : "", m->profiles[i].id, m->profiles[i].name);
    }
    msg = mem_close(f, &msg);
    if (!msg)
        return gp_error_set(err, -ENOMEM, "out of memory");
    gp_error_set(err, -EINVAL, "%s", msg);
    free(msg);
    return -EINVAL;
}

/* ---- requests ----------------------------------------------------------------- */

void gp_mig_request_clear(gp_mig_request *r)
{
    free(r->v);
    *r = (gp_mig_request){ 0 };
}

static int request_add(gp_mig_request *r, const gp_mig_profile *p, unsigned count)
{
    gp_mig_want *v;

    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].profile == p) {
            r->v[i].count += count;
            return 0;
        }
    v = realloc(r->v, (r->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    r->v = v;
    r->v[r->n++] = (gp_mig_want){ .profile = p, .count = count };
    return 0;
}

static int request_copy(const gp_mig_request *src, gp_mig_request *ret)
{
    *ret = (gp_mig_request){ .model = src->model };
    if (src->n == 0)
        return 0;
    ret->v = calloc(src->n, sizeof(*ret->v));
    if (!ret->v)
        return -ENOMEM;
    memcpy(ret->v, src->v, src->n * sizeof(*ret->v));
    ret->n = src->n;
    return 0;
}

/* Drops wants whose count is 0. */
static void request_compact(gp_mig_request *r)
{
    size_t k = 0;

    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].count > 0)
            r->v[k++] = r->v[i];
    r->n = k;
}

static int parse_item(const gp_mig_model *m, const char *item, gp_mig_request *r, gp_error *err)
{
    char name[64];
    const char *colon = strchr(item, ':');
    size_t len = colon ? (size_t)(colon - item) : strlen(item);
    const gp_mig_profile *p;
    unsigned long count = 1;

    if (len == 0)
        return gp_error_set(err, -EINVAL, "'%s' names no profile before the ':'", item);
    if (len >= sizeof(name))
        return gp_error_set(err, -EINVAL, "'%.40s...' is not a MIG profile", item);
    memcpy(name, item, len);
    name[len] = '\0';
    if (colon) {
        const char *c = colon + 1;

        if (!all_digits(c))
            return gp_error_set(err, -EINVAL, "the count in '%s' is not a number: write PROFILE:COUNT, e.g. %s:2",
                                item, name);
        count = 0;
        for (; *c && count <= GP_MIG_COUNT_MAX; c++)
            count = count * 10 + (unsigned long)(*c - '0');
        if (count == 0)
            return gp_error_set(err, -EINVAL, "count 0 in '%s': ask for at least one instance, or leave %s out",
                                item, name);
        if (count > GP_MIG_COUNT_MAX)
            return gp_error_set(err, -EINVAL,
                                "count %s in '%s' is not a layout: the %s holds at most %u GPU instances",
                                colon + 1, item, m->title, m->max_instances);
    }
    if (all_digits(name)) {
        long id = len <= 3 ? strtol(name, NULL, 10) : -1;

        p = id >= 0 ? gp_mig_profile_by_id(m, (int)id) : NULL;
        if (!p)
            return unknown_id(m, item, name, (int)id, err);
    } else {
        p = gp_mig_profile_by_name(m, name);
        if (!p)
            return unknown_profile(m, item, name, err);
    }
    if (request_add(r, p, (unsigned)count) < 0)
        return gp_error_set(err, -ENOMEM, "out of memory");
    /* Repeats add up ("9,9,9"); keep the sum below the same bound. */
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].profile == p && r->v[i].count > GP_MIG_COUNT_MAX)
            return gp_error_set(err, -EINVAL, "%u × %s is not a layout: the %s holds at most %u GPU instances",
                                r->v[i].count, p->name, m->title, m->max_instances);
    return 0;
}

int gp_mig_request_parse(const gp_mig_model *m, const char *spec, gp_mig_request *ret, gp_error *err)
{
    _cleanup_mig_request_ gp_mig_request r = { .model = m };
    const char *s = spec;
    bool after_comma = true;   /* an item is due: two commas in a row are an error */

    *ret = (gp_mig_request){ .model = m };
    for (;;) {
        char item[128];
        size_t len = 0;
        int k;

        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == ',' || *s == '\0') {
            if (after_comma && (*s == ',' || r.n > 0))
                return gp_error_set(err, -EINVAL, "empty item in MIG request '%s' (two commas, or one at an end)",
                                    spec);
            if (*s == '\0')
                break;
            after_comma = true;
            s++;
            continue;
        }
        while (s[len] && s[len] != ',' && s[len] != ' ' && s[len] != '\t')
            len++;
        if (len >= sizeof(item))
            return gp_error_set(err, -EINVAL, "'%.40s...' in MIG request '%s' is not a profile", s, spec);
        memcpy(item, s, len);
        item[len] = '\0';
        s += len;
        /* "MIG 3g.40gb", nvidia-smi's full name: the word MIG is decoration */
        if (strcasecmp(item, "MIG") == 0 && *s && *s != ',')
            continue;
        k = parse_item(m, item, &r, err);
        if (k < 0)
            return k;
        after_comma = false;
    }
    if (r.n == 0)
        return gp_error_set(err, -EINVAL, "empty MIG request: name profiles, e.g. %s:2", m->profiles[0].name);
    *ret = r;
    r = (gp_mig_request){ 0 };
    return 0;
}

char *gp_mig_request_spec(const gp_mig_request *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        fprintf(f, "%s%s", i ? "," : "", r->v[i].profile->name);
        if (r->v[i].count != 1)
            fprintf(f, ":%u", r->v[i].count);
    }
    return mem_close(f, &buf);
}

static void put_describe(FILE *f, const gp_mig_request *r)
{
    size_t shown = 0;

    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i].count == 0)
            continue;
        fputs(shown++ ? " + " : "", f);
        if (r->v[i].count != 1)
            fprintf(f, "%u × ", r->v[i].count);
        fputs(r->v[i].profile->name, f);
    }
    if (!shown)
        fputs("nothing", f);
}

char *gp_mig_request_describe(const gp_mig_request *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    put_describe(f, r);
    return mem_close(f, &buf);
}

/* ---- the exact search ----------------------------------------------------------- */

typedef struct search {
    const gp_mig_model *m;
    gp_mig_instance inst[GP_MIG_COUNT_MAX];
    size_t n;
} search;

/* Larger first: they have the fewest starts, so conflicts show early. */
static int inst_cmp(const void *a, const void *b)
{
    const gp_mig_instance *x = a, *y = b;

    if (x->profile->size != y->profile->size)
        return x->profile->size > y->profile->size ? -1 : 1;
    if (x->profile->compute != y->profile->compute)
        return x->profile->compute > y->profile->compute ? -1 : 1;
    return x->profile < y->profile ? -1 : x->profile > y->profile;
}

static bool place(search *s, size_t i, uint32_t occupied)
{
    const gp_mig_profile *p;
    unsigned first = 0;

    if (i == s->n)
        return true;
    p = s->inst[i].profile;
    /* Instances of one profile are interchangeable: try them in rising
     * order only, or the search would revisit every permutation. */
    if (i > 0 && s->inst[i - 1].profile == p)
        first = s->inst[i - 1].start + 1;
    for (unsigned st = first; st + p->size <= s->m->axis; st++) {
        uint32_t span = span_mask(st, p->size);

        if (!has_bit(p->starts, st) || (occupied & span))
            continue;
        s->inst[i].start = st;
        s->inst[i].size = p->size;
        if (place(s, i + 1, occupied | span))
            return true;
    }
    return false;
}

typedef struct tally {
    unsigned compute, memory, axis, instances, media;
    bool over_max;            /* some profile asked more often than its max_count */
} tally;

static tally count_request(const gp_mig_request *r)
{
    tally t = { 0 };

    for (size_t i = 0; i < r->n; i++) {
        const gp_mig_profile *p = r->v[i].profile;
        unsigned c = r->v[i].count;

        t.compute += c * p->compute;
        t.memory += c * p->memory;
        t.axis += c * p->size;
        t.instances += c;
        t.media += p->media ? c : 0;
        t.over_max = t.over_max || c > p->max_count;
    }
    return t;
}

/*
 * Whether r fits, with its placement in s. The sums are checked first:
 * the compute budget (compute slices are not positional), one media-engine
 * instance per GPU (+me), each profile's max count and the GPU's instance
 * limit; then the backtracking over the placement axis.
 */
static bool fits(const gp_mig_request *r, search *s)
{
    tally t = count_request(r);
    const gp_mig_model *m = r->model;

    s->m = m;
    s->n = 0;
    if (t.compute > m->compute || t.axis > m->axis || t.media > 1 || t.over_max || t.instances > m->max_instances ||
        t.instances > ELEMENTSOF(s->inst) || m->axis > 32)
        return false;
    for (size_t i = 0; i < r->n; i++)
        for (unsigned c = 0; c < r->v[i].count; c++)
            s->inst[s->n++] = (gp_mig_instance){ .profile = r->v[i].profile };
    qsort(s->inst, s->n, sizeof(s->inst[0]), inst_cmp);
    return place(s, 0, 0);
}

/* Most instances of want i that fit with the others as they are (up to limit). */
static unsigned max_with_others(const gp_mig_request *r, size_t i, unsigned limit)
{
    gp_mig_request t = *r;
    gp_mig_want v[WANTS_MAX];
    search s;

    /* one want per distinct profile, and no model has WANTS_MAX profiles
     * (gen-migdata.py checks) */
    memcpy(v, r->v, r->n * sizeof(v[0]));
    t.v = v;
    for (unsigned k = limit;; k--) {
        v[i].count = k;
        if (fits(&t, &s) || k == 0)
            return k;
    }
}

/* Most instances of p alone; with max_count ignored when geometry is true
 * (to tell which of the two limits binds). s holds their placement. */
static unsigned max_alone(const gp_mig_model *m, const gp_mig_profile *p, bool geometry, search *s)
{
    gp_mig_profile q = *p;
    gp_mig_want w = { .profile = &q };
    gp_mig_request r = { .model = m, .v = &w, .n = 1 };

    if (geometry)
        q.max_count = m->max_instances;
    for (unsigned k = q.max_count; k > 0; k--) {
        w.count = k;
        if (fits(&r, s))
            return k;
    }
    s->n = 0;
    return 0;
}

/* ---- plans ---------------------------------------------------------------------- */

void gp_mig_plan_clear(gp_mig_plan *p)
{
    free(p->v);
    free(p->reason);
    for (size_t i = 0; i < p->n_suggestions; i++) {
        gp_mig_request_clear(&p->suggestions[i].request);
        free(p->suggestions[i].spec);
        free(p->suggestions[i].text);
    }
    free(p->suggestions);
    free(p->max_alone);
    *p = (gp_mig_plan){ 0 };
}

static int inst_start_cmp(const void *a, const void *b)
{
    const gp_mig_instance *x = a, *y = b;

    return (x->start > y->start) - (x->start < y->start);
}

/* The one-sentence why, with the numbers: what the request needs of each
 * budget it overruns, and how many of its largest over-asked profile fit
 * and where. */
static void put_reason(FILE *f, const gp_mig_request *r, const unsigned *alone)
{
    const gp_mig_model *m = r->model;
    tally t = count_request(r);
    bool needs = false, clause = false;
    const gp_mig_want *culprit = NULL;
    unsigned culprit_max = 0;

    put_describe(f, r);
    if (t.compute > m->compute) {
        fprintf(f, " needs %u of %u compute slices", t.compute, m->compute);
        needs = true;
    }
    if (t.axis > m->axis) {
        fprintf(f, "%s%u of %u %s", needs ? " and " : " needs ", m->memory ? t.memory : t.axis,
                m->memory ? m->memory : m->axis, axis_word(m, true));
        needs = true;
    }
#define CLAUSE() fputs(needs || clause ? "; " : ": ", f), clause = true
    if (t.instances > m->max_instances && !needs) {
        CLAUSE();
        fprintf(f, "the %s holds at most %u GPU instances", m->title, m->max_instances);
    }
    if (t.media > 1) {
        CLAUSE();
        fprintf(f, "only one instance may have the media engines (+me), and %u are asked for", t.media);
    }
    for (size_t i = 0; i < r->n; i++) {
        const gp_mig_want *w = &r->v[i];

        if (w->count > alone[i] &&
            (!culprit || w->profile->size > culprit->profile->size ||
             (w->profile->size == culprit->profile->size && w->profile->compute > culprit->profile->compute))) {
            culprit = w;
            culprit_max = alone[i];
        }
    }
    if (culprit && !(culprit->profile->media && t.media > 1 && culprit_max == 1)) {
        search s;
        unsigned geo = max_alone(m, culprit->profile, true, &s);
        unsigned at[32];
        size_t n_at = 0;

        CLAUSE();
        if (culprit_max == 0)
            fprintf(f, "no %s fits", culprit->profile->name);
        else if (r->n == 1)
            fprintf(f, "at most %u fit%s", culprit_max, culprit_max == 1 ? "s" : "");
        else
            fprintf(f, "at most %u × %s fit%s", culprit_max, culprit->profile->name, culprit_max == 1 ? "s" : "");
        if (geo > culprit_max) {
            fprintf(f, " (NVIDIA allows %u per GPU)", culprit_max);
        } else if (culprit_max > 0) {
            max_alone(m, culprit->profile, false, &s);
            for (size_t i = 0; i < s.n; i++)
                at[n_at++] = s.inst[i].start;
            fprintf(f, ", at %s ", start_word(m, n_at > 1));
            put_positions(f, at, n_at);
        }
    }
    if (!clause && !needs) {
        /* Every budget holds; the valid starts collide. */
        fprintf(f, ": it fits the budgets (%u of %u compute slices, %u of %u %s) but no placement holds it all: ",
                t.compute, m->compute, m->memory ? t.memory : t.axis, m->memory ? m->memory : m->axis,
                axis_word(m, true));
        for (size_t i = 0; i < r->n; i++) {
            unsigned at[32];
            size_t n_at = mask_positions(r->v[i].profile->starts, at);

            fprintf(f, "%s%s starts only at ", i ? ", " : "", r->v[i].profile->name);
            put_positions(f, at, n_at);
        }
    }
#undef CLAUSE
}

/* "(1 fewer 3g.40gb, plus 4g.40gb)": how suggestion s differs from r. */
static void put_diff(FILE *f, const gp_mig_request *r, const gp_mig_request *s)
{
    size_t shown = 0;

    fputs(" (", f);
    for (size_t i = 0; i < r->n; i++) {
        unsigned now = 0;

        for (size_t j = 0; j < s->n; j++)
            if (s->v[j].profile == r->v[i].profile)
                now = s->v[j].count;
        if (now == 0)
            fprintf(f, "%sno %s", shown++ ? ", " : "", r->v[i].profile->name);
        else if (now < r->v[i].count)
            fprintf(f, "%s%u fewer %s", shown++ ? ", " : "", r->v[i].count - now, r->v[i].profile->name);
        else if (now > r->v[i].count)
            fprintf(f, "%s%u more %s", shown++ ? ", " : "", now - r->v[i].count, r->v[i].profile->name);
    }
    for (size_t j = 0; j < s->n; j++) {
        bool asked = false;

        for (size_t i = 0; i < r->n; i++)
            asked = asked || r->v[i].profile == s->v[j].profile;
        if (asked || s->v[j].count == 0)
            continue;
        fprintf(f, "%splus ", shown++ ? ", " : "");
        if (s->v[j].count > 1)
            fprintf(f, "%u × ", s->v[j].count);
        fputs(s->v[j].profile->name, f);
    }
    fputs(")", f);
}

/* Adds suggestion s (taken over) unless it is empty, a duplicate, or the
 * list is full. 0 or -ENOMEM; s is cleared either way. */
static int add_suggestion(gp_mig_plan *p, const gp_mig_request *r, gp_mig_request *s)
{
    _cleanup_free_ char *spec = NULL;
    gp_mig_suggestion *v;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    request_compact(s);
    if (s->n == 0 || p->n_suggestions == GP_MIG_SUGGESTIONS_MAX) {
        gp_mig_request_clear(s);
        return 0;
    }
    spec = gp_mig_request_spec(s);
    if (!spec) {
        gp_mig_request_clear(s);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->n_suggestions; i++)
        if (strcmp(p->suggestions[i].spec, spec) == 0) {
            gp_mig_request_clear(s);
            return 0;
        }
    f = open_memstream(&text, &len);
    if (f) {
        put_describe(f, s);
        put_diff(f, r, s);
    }
    text = mem_close(f, &text);
    v = text ? realloc(p->suggestions, (p->n_suggestions + 1) * sizeof(*v)) : NULL;
    if (!v) {
        free(text);
        gp_mig_request_clear(s);
        return -ENOMEM;
    }
    p->suggestions = v;
    v[p->n_suggestions++] = (gp_mig_suggestion){ .request = *s, .spec = TAKE_PTR(spec), .text = text };
    *s = (gp_mig_request){ 0 };
    return 0;
}

/* More compute, or as much and more room on the axis. */
static bool profile_bigger(const gp_mig_profile *a, const gp_mig_profile *b)
{
    return a->compute > b->compute || (a->compute == b->compute && a->size > b->size);
}

/* Wants in the order the suggestions consider them: largest placement first. */
static void order_wants(const gp_mig_request *r, size_t *idx)
{
    for (size_t i = 0; i < r->n; i++) {
        size_t at = i;
        const gp_mig_profile *p = r->v[i].profile;

        for (; at > 0; at--) {
            const gp_mig_profile *q = r->v[idx[at - 1]].profile;

            if (q->size > p->size || (q->size == p->size && q->compute >= p->compute))
                break;
            idx[at] = idx[at - 1];
        }
        idx[at] = i;
    }
}

/*
 * The nearest layouts that fit: first each requested profile cut to the
 * most that fit beside the others (largest profile first); then the room
 * the largest over-asked profile leaves, filled with as many of one plain
 * profile as fit (the way NVIDIA's own answer to 9,9,9 offers 9,5).
 */
static int suggest(gp_mig_plan *p, const gp_mig_request *r)
{
    const gp_mig_profile *by_size[WANTS_MAX];
    size_t idx[WANTS_MAX];
    size_t culprit = SIZE_MAX;
    unsigned culprit_k = 0;
    int k;

    order_wants(r, idx);
    for (size_t j = 0; j < r->model->n_profiles; j++) {
        size_t at = j;

        for (; at > 0 && profile_bigger(&r->model->profiles[j], by_size[at - 1]); at--)
            by_size[at] = by_size[at - 1];
        by_size[at] = &r->model->profiles[j];
    }
    for (size_t o = 0; o < r->n; o++) {
        size_t i = idx[o];
        unsigned most = max_with_others(r, i, r->v[i].count);
        gp_mig_request s;

        if (most >= r->v[i].count)
            continue;
        if (culprit == SIZE_MAX) {
            culprit = i;
            culprit_k = most;
        }
        if (request_copy(r, &s) < 0)
            return -ENOMEM;
        s.v[i].count = most;
        if (most == 0) {
            search st;

            /* none of it fits because the others alone do not: no suggestion */
            if (!fits(&s, &st)) {
                gp_mig_request_clear(&s);
                continue;
            }
        }
        k = add_suggestion(p, r, &s);
        if (k < 0)
            return k;
    }
    if (culprit == SIZE_MAX)
        return 0;
    for (unsigned base = culprit_k, tries = 0; tries < 2 && base <= culprit_k; base--, tries++) {
        size_t before = p->n_suggestions;

        if (base == 0 && r->n == 1)
            break;
        /* the biggest profiles first: they fill the room with the fewest instances */
        for (size_t j = 0; j < r->model->n_profiles; j++) {
            const gp_mig_profile *q = by_size[j];
            gp_mig_request s;
            unsigned most;
            size_t at;

            /* plain profiles only: +me/+gfx/-me variants are choices the user makes */
            if (q == r->v[culprit].profile || *profile_suffix(q->name))
                continue;
            if (request_copy(r, &s) < 0)
                return -ENOMEM;
            s.v[culprit].count = base;
            for (at = 0; at < s.n && s.v[at].profile != q; at++)
                ;
            if (at == s.n && request_add(&s, q, 0) < 0) {
                gp_mig_request_clear(&s);
                return -ENOMEM;
            }
            most = max_with_others(&s, at, q->max_count);
            if (most <= (at < r->n ? r->v[at].count : 0)) {
                gp_mig_request_clear(&s);
                continue;
            }
            s.v[at].count = most;
            k = add_suggestion(p, r, &s);
            if (k < 0)
                return k;
        }
        if (p->n_suggestions > before || base == 0)
            break;
    }
    return 0;
}

int gp_mig_plan_make(const gp_mig_request *req, gp_mig_plan *ret, gp_error *err)
{
    const gp_mig_model *m = req->model;
    char *reason = NULL;
    size_t len = 0;
    search s;
    tally t;
    FILE *f;
    int k;

    *ret = (gp_mig_plan){ .model = m };
    if (!m || req->n == 0)
        return gp_error_set(err, -EINVAL, "empty MIG request");
    if (req->n > WANTS_MAX)
        return gp_error_set(err, -EINVAL, "MIG request with more than %d profiles", WANTS_MAX);
    if (fits(req, &s)) {
        ret->v = calloc(s.n, sizeof(*ret->v));
        if (!ret->v)
            return gp_error_set(err, -ENOMEM, "out of memory");
        memcpy(ret->v, s.inst, s.n * sizeof(*ret->v));
        ret->n = s.n;
        qsort(ret->v, ret->n, sizeof(*ret->v), inst_start_cmp);
        t = count_request(req);
        ret->compute_used = t.compute;
        ret->memory_used = t.memory;
        ret->axis_used = t.axis;
        return 0;
    }

    ret->max_alone = calloc(req->n, sizeof(*ret->max_alone));
    if (!ret->max_alone)
        return gp_error_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < req->n; i++)
        ret->max_alone[i] = max_alone(m, req->v[i].profile, false, &s);
    f = open_memstream(&reason, &len);
    if (f)
        put_reason(f, req, ret->max_alone);
    ret->reason = mem_close(f, &reason);
    if (!ret->reason)
        return gp_error_set(err, -ENOMEM, "out of memory");
    k = suggest(ret, req);
    if (k < 0)
        return gp_error_set(err, k, "out of memory");
    return gp_error_set(err, -ENOSPC, "%s", ret->reason);
}

/* ---- the picture ---------------------------------------------------------------- */

#define LABEL_W 19      /* "1g.24gb+me.all @11 " */
#define RULER_W 56      /* 19 + 56 = 75 columns: fits 80 */

int gp_mig_plan_picture(const gp_mig_plan *p, char **ret)
{
    const gp_mig_model *m = p->model;
    unsigned cw, used = 0;
    char *buf = NULL;
    size_t len = 0;
    uint32_t occupied = 0;
    FILE *f;

    *ret = NULL;
    if (!m || p->reason || p->n == 0)
        return -EINVAL;
    cw = RULER_W / m->axis;
    f = open_memstream(&buf, &len);
    if (!f)
        return -ENOMEM;
    fprintf(f, "%-*s", LABEL_W, axis_word(m, false));
    for (unsigned i = 0; i < m->axis; i++)
        fprintf(f, "%-*u", i + 1 < m->axis ? (int)cw : 0, i);
    fputc('\n', f);
    for (size_t i = 0; i < p->n; i++) {
        const gp_mig_instance *in = &p->v[i];
        const char *name = in->profile->name;
        size_t inner = (size_t)cw * in->size - 2, nl = strlen(name);

        occupied |= span_mask(in->start, in->size);
        used += in->profile->compute;
        fprintf(f, "%-14s @%-3u", name, in->start);
        fprintf(f, "%*s[", (int)(cw * in->start), "");
        if (cw * in->size < 2) {
            fputs("#\n", f);
            continue;
        }
        /* the name when it fits the span, else its class ("1g") */
        if (nl > inner)
            nl = class_len(name) <= inner ? class_len(name) : 0;
        fwrite(name, 1, nl, f);
        for (size_t c = nl; c < inner; c++)
            fputc('=', f);
        fputs("]\n", f);
    }
    if (occupied != span_mask(0, m->axis)) {
        unsigned last = 0;

        for (unsigned i = 0; i < m->axis; i++)
            if (!has_bit(occupied, i))
                last = i;
        fprintf(f, "%-*s", LABEL_W, "free");
        for (unsigned i = 0; i <= last; i++)
            fprintf(f, "%-*s", i < last ? (int)cw : 0, has_bit(occupied, i) ? "" : ".");
        fputc('\n', f);
    }
    fprintf(f, "used: %u of %u compute slices, %u of %u %s\n", used, m->compute,
            m->memory ? p->memory_used : p->axis_used, m->memory ? m->memory : m->axis, axis_word(m, true));
    *ret = mem_close(f, &buf);
    return *ret ? 0 : -ENOMEM;
}

/* ---- commands ------------------------------------------------------------------- */

void gp_mig_commands_clear(gp_mig_commands *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (char **a = c->v[i].argv; a && *a; a++)
            free(*a);
        free(c->v[i].argv);
        free(c->v[i].line);
        free(c->v[i].why);
    }
    free(c->v);
    for (size_t i = 0; i < c->n_notes; i++)
        free(c->notes[i]);
    free(c->notes);
    *c = (gp_mig_commands){ 0 };
}

/* What nvidia-smi -i takes (an index, a PCI bus ID, a UUID), and nothing a
 * shell or a systemd unit would read differently ('%' is a specifier there). */
static int check_gpu(const char *gpu, gp_error *err)
{
    size_t n = gpu ? strlen(gpu) : 0;

    if (n == 0 || n > 64)
        return gp_error_set(err, -EINVAL, "GPU '%s': give nvidia-smi's index, PCI bus ID or UUID",
                            gpu ? gpu : "");
    for (const char *c = gpu; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr(":._-", *c))
            return gp_error_set(err, -EINVAL,
                                "GPU '%s': an nvidia-smi index, PCI bus ID or UUID has only letters, digits and ':._-'",
                                gpu);
    return 0;
}

static int add_cmd(gp_mig_commands *c, const char *why, const char *const *argv)
{
    gp_mig_command *v, cmd = { 0 };
    size_t n = 0, len = 0;
    FILE *f;

    while (argv[n])
        n++;
    cmd.argv = calloc(n + 1, sizeof(char *));
    cmd.why = strdup(why);
    f = open_memstream(&cmd.line, &len);
    if (f)
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s%s", i ? " " : "", argv[i]);
    cmd.line = mem_close(f, &cmd.line);
    for (size_t i = 0; cmd.argv && i < n; i++)
        if (!(cmd.argv[i] = strdup(argv[i])))
            break;
    v = realloc(c->v, (c->n + 1) * sizeof(*v));
    if (v)
        c->v = v;
    if (!v || !cmd.argv || !cmd.why || !cmd.line || (n && !cmd.argv[n - 1])) {
        for (size_t i = 0; cmd.argv && i < n; i++)
            free(cmd.argv[i]);
        free(cmd.argv);
        free(cmd.why);
        free(cmd.line);
        return -ENOMEM;
    }
    c->v[c->n++] = cmd;
    return 0;
}

static int add_note(gp_mig_commands *c, const char *fmt, ...) _printf_(2, 3);
static int add_note(gp_mig_commands *c, const char *fmt, ...)
{
    char **v, *s;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    v = realloc(c->notes, (c->n_notes + 1) * sizeof(*v));
    if (!v) {
        free(s);
        return -ENOMEM;
    }
    c->notes = v;
    c->notes[c->n_notes++] = s;
    return 0;
}

/* Instances in the order -cgi should list them: the largest placement
 * first, and of equal size the 3g before the 4g. NVIDIA documents
 * (getting-started, known issue) that -cgi 19,19,14,9 fails on the 9 with
 * "Insufficient Resources" while 9,19,14,19 works, and gives -cgi 9,5 as a
 * valid 3g + 4g. */
static int cgi_cmp(const void *a, const void *b)
{
    const gp_mig_instance *x = a, *y = b;

    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    if (x->profile->compute != y->profile->compute)
        return x->profile->compute < y->profile->compute ? -1 : 1;
    return x->start > y->start ? -1 : x->start < y->start;
}

/* "9,9" or, where the IDs are not confirmed, "3g.90gb,3g.90gb" (nvidia-smi
 * takes IDs and short names alike). */
static char *cgi_list(const gp_mig_plan *p)
{
    gp_mig_instance v[GP_MIG_COUNT_MAX];
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    if (p->n > ELEMENTSOF(v))
        return NULL;
    memcpy(v, p->v, p->n * sizeof(v[0]));
    qsort(v, p->n, sizeof(v[0]), cgi_cmp);
    f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        fputs(i ? "," : "", f);
        if (p->model->ids_unverified || v[i].profile->id < 0)
            fputs(v[i].profile->name, f);
        else
            fprintf(f, "%d", v[i].profile->id);
    }
    return mem_close(f, &buf);
}

int gp_mig_plan_commands(const gp_mig_plan *p, const gp_mig_card *card, const char *gpu, gp_mig_commands *ret,
                         gp_error *err)
{
    _cleanup_(gp_mig_commands_clearp) gp_mig_commands c = { 0 };
    const gp_mig_model *m = p->model;
    const gp_mig_mode_rules *rules;
    _cleanup_free_ char *list = NULL;
    bool gfx_model = false, gfx_used = false;
    int k = 0;

    *ret = (gp_mig_commands){ 0 };
    if (!m || p->reason || p->n == 0)
        return gp_error_set(err, -EINVAL, "no MIG layout to make: the request does not fit");
    k = check_gpu(gpu, err);
    if (k < 0)
        return k;
    rules = gp_mig_gen_rules(m->gen);
    list = cgi_list(p);
    if (!list)
        return gp_error_set(err, -ENOMEM, "out of memory");

    k = add_cmd(&c, rules->reset_on_enable
                    ? "enable MIG mode; the driver resets the GPU (see the notes when that is refused); the mode "
                      "then stays across reboots"
                    : "enable MIG mode (no reset needed); it lasts only until the next reboot or driver reload",
                (const char *const[]){ "nvidia-smi", "-i", gpu, "-mig", "1", NULL });
    if (k >= 0)
        k = add_cmd(&c, "check the mode: mig.mode.current must read Enabled (current Disabled with pending Enabled "
                        "waits for a GPU reset or reboot)",
                    (const char *const[]){ "nvidia-smi", "-i", gpu,
                                           "--query-gpu=pci.bus_id,mig.mode.current,mig.mode.pending",
                                           "--format=csv", NULL });
    if (k >= 0)
        k = add_cmd(&c, "remove existing compute instances (they go before their GPU instances; fails with "
                        "\"In use by another client\" while a process uses one, and reports an error when there "
                        "are none)",
                    (const char *const[]){ "nvidia-smi", "mig", "-i", gpu, "-dci", NULL });
    if (k >= 0)
        k = add_cmd(&c, "remove existing GPU instances",
                    (const char *const[]){ "nvidia-smi", "mig", "-i", gpu, "-dgi", NULL });
    if (k >= 0)
        k = add_cmd(&c, "create the GPU instances, each with its default compute instance (-C), largest first: "
                        "a 3g listed after smaller profiles fails with \"Insufficient Resources\"; the driver "
                        "picks the placements",
                    (const char *const[]){ "nvidia-smi", "mig", "-i", gpu, "-cgi", list, "-C", NULL });
    if (k >= 0)
        k = add_cmd(&c, "list the GPU instances: Placement Start:Size shows where the driver put each one",
                    (const char *const[]){ "nvidia-smi", "mig", "-i", gpu, "-lgi", NULL });
    if (k < 0)
        return gp_error_set(err, -ENOMEM, "out of memory");

    k = add_note(&c, "%s", rules->text);
    if (k >= 0 && m->min_driver)
        k = add_note(&c, "MIG on the %s needs NVIDIA driver %s or later.", m->title, m->min_driver);
    for (size_t i = 0; k >= 0 && i < m->n_profiles; i++) {
        const gp_mig_profile *q = &m->profiles[i];
        bool used = false;

        gfx_model = gfx_model || q->gfx;
        for (size_t j = 0; j < p->n; j++)
            used = used || p->v[j].profile == q;
        gfx_used = gfx_used || (used && q->gfx);
        if (used && q->min_driver)
            k = add_note(&c, "%s on the %s needs driver %s or later.", q->name, m->title, q->min_driver);
    }
    if (k >= 0 && gfx_model && !gfx_used)
        k = add_note(&c, "NVIDIA vGPU can use only the +gfx profiles; this layout has none, so its instances are "
                         "for CUDA work, not vGPU.");
    if (k >= 0 && m->ids_unverified)
        k = add_note(&c, "The %s's profile IDs are not confirmed, so -cgi names the profiles; check them with "
                         "nvidia-smi mig -i %s -lgip.", m->title, gpu);
    if (k >= 0 && m->placements_unverified)
        k = add_note(&c, "The placements shown are NVIDIA's layout for 7-slice GPUs, not yet confirmed on the %s; "
                         "compare with nvidia-smi mig -i %s -lgipp.", m->title, gpu);
    if (k >= 0)
        k = add_note(&c, "nvidia-smi does not roll back: when -cgi fails part-way, the instances made before the "
                         "failure stay; remove them with -dci and -dgi before trying again.");
    if (k >= 0)
        k = add_note(&c, "GPU and compute instances are gone after every reboot: install the gpupass unit to "
                         "recreate them at boot.");
    if (k >= 0 && card && card->min_vbios)
        k = add_note(&c, "The %s needs vBIOS %s or later for MIG (nvidia-smi --query-gpu=vbios_version "
                         "--format=csv).", card->names[0], card->min_vbios);
    if (k >= 0 && card && card->display_mode)
        k = add_note(&c, "The %s ships in graphics display mode: switch it to compute with NVIDIA "
                         "DisplayModeSelector 1.72.0 or later (--gpumode=compute --gpu=<id>) before enabling MIG; "
                         "on the only display adapter this ends physical display output.", card->names[0]);
    if (k < 0)
        return gp_error_set(err, -ENOMEM, "out of memory");
    *ret = c;
    c = (gp_mig_commands){ 0 };
    return 0;
}

int gp_mig_plan_unit(const gp_mig_plan *p, const char *gpu, char **ret, gp_error *err)
{
    const gp_mig_model *m = p->model;
    _cleanup_free_ char *list = NULL, *desc = NULL;
    gp_mig_request r = { 0 };
    gp_mig_want w[WANTS_MAX];
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    int k;

    *ret = NULL;
    if (!m || p->reason || p->n == 0)
        return gp_error_set(err, -EINVAL, "no MIG layout to make: the request does not fit");
    k = check_gpu(gpu, err);
    if (k < 0)
        return k;
    /* the layout as a request again, for its description */
    r.model = m;
    r.v = w;
    for (size_t i = 0; i < p->n; i++) {
        size_t j;

        for (j = 0; j < r.n && w[j].profile != p->v[i].profile; j++)
            ;
        if (j == r.n) {
            if (r.n == WANTS_MAX)
                return gp_error_set(err, -EINVAL, "MIG layout with too many profiles");
            w[r.n++] = (gp_mig_want){ .profile = p->v[i].profile };
        }
        w[j].count++;
    }
    list = cgi_list(p);
    desc = gp_mig_request_describe(&r);
    if (!list || !desc)
        return gp_error_set(err, -ENOMEM, "out of memory");

    f = open_memstream(&buf, &len);
    if (!f)
        return gp_error_set(err, -ENOMEM, "out of memory");
    fprintf(f, "# Written by gpupass: recreates the MIG layout of GPU %s (%s) at boot.\n", gpu, m->title);
    fputs("# MIG GPU and compute instances never survive a reboot or GPU reset.\n", f);
    if (m->gen == GP_MIG_GEN_AMPERE)
        fprintf(f, "# On Ampere the MIG mode itself is kept in the InfoROM; it was enabled once with\n"
                   "# nvidia-smi -i %s -mig 1 (enabling resets the GPU, so it is not done here).\n", gpu);
    else
        fputs("# From Hopper on the MIG mode is lost at every reboot too: it is enabled here first.\n", f);
    fprintf(f, "\n[Unit]\n"
               "Description=gpupass MIG layout on GPU %s: %s\n"
               "After=systemd-modules-load.service nvidia-persistenced.service\n"
               "Before=pve-guests.service\n"
               "\n[Service]\n"
               "Type=oneshot\n"
               "RemainAfterExit=yes\n", gpu, desc);
    if (m->gen != GP_MIG_GEN_AMPERE)
        fprintf(f, "ExecStart=/usr/bin/nvidia-smi -i %s -mig 1\n", gpu);
    /* '-': an error here only means there was nothing to remove */
    fprintf(f, "ExecStart=-/usr/bin/nvidia-smi mig -i %s -dci\n"
               "ExecStart=-/usr/bin/nvidia-smi mig -i %s -dgi\n"
               "ExecStart=/usr/bin/nvidia-smi mig -i %s -cgi %s -C\n"
               "\n[Install]\n"
               "WantedBy=multi-user.target\n", gpu, gpu, gpu, list);
    *ret = mem_close(f, &buf);
    if (!*ret)
        return gp_error_set(err, -ENOMEM, "out of memory");
    return 0;
}
