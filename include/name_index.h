/* SPDX-License-Identifier: GPL-2.0 */
/*
 * name_index.h - device names to array indexes, hashed (src/name_index.c).
 *
 * The model, the report and its outputs keep their devices in arrays and
 * look a device up by name for every report. A trace is untrusted input
 * and may name tens of thousands of devices: a linear scan per lookup
 * makes reading it quadratic. The index holds no names itself, only each
 * one's hash and array index; the caller's name_of() gives the name at an
 * index, so the index follows a realloc'ed array for free.
 */
#ifndef IOVATOP_NAME_INDEX_H
#define IOVATOP_NAME_INDEX_H

#include <stdint.h>

typedef const char *(*name_of_fn)(const void *ctx, uint32_t i);

struct name_slot;

struct name_index {
	struct name_slot *slot;	/* open addressing, linear probing */
	uint32_t cap, n;
};

/* The index of name, or -1. */
int64_t name_index_find(const struct name_index *x, const char *name,
			name_of_fn name_of, const void *ctx);

/* Remember that name is at index i (not already there): 0 or -ENOMEM. */
int name_index_add(struct name_index *x, const char *name, uint32_t i);

void name_index_free(struct name_index *x);

#endif /* IOVATOP_NAME_INDEX_H */
