/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The MIG table, generated from data/mig.tsv by gen-migdata.py (internal to mig.c). */
#pragma once

#include <stddef.h>

#include "mig.h"

extern const gp_mig_model gp_mig_data_models[];
extern const size_t gp_mig_data_n_models;
extern const gp_mig_card gp_mig_data_cards[];
extern const size_t gp_mig_data_n_cards;
