/* SPDX-License-Identifier: GPL-2.0 */
/*
 * filter.h - what a filter string (-f, '/', -p, --comm) selects.
 *
 * Terms separated by blanks, all of which a device must match:
 *
 *   TEXT        a word of the device name starts with TEXT; words begin
 *               after ' ', ':', '-', '.' or '/', so "3b" finds
 *               "vfio 0000:3b:00.2" but not "vfio 83b8f4f2-..."
 *   dev=TEXT    TEXT anywhere in the device name (plain substring)
 *   pid=N       the process that asked for the device's last report
 *   comm=NAME   that process's name, exactly; "comm=qemu*" for a prefix
 *   path=P      vfio or iommufd
 *
 * The model applies it to each device at a snapshot (model_snapshot()).
 */
#ifndef IOVATOP_FILTER_H
#define IOVATOP_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct model_row;

/* Does row match every term of filter? NULL or "" matches everything. */
bool filter_match(const char *filter, const struct model_row *row);

/*
 * Is filter well formed? 0, or -1 with a sentence in err naming the term
 * that is not (an unknown key, a pid that is not a number).
 */
int filter_check(const char *filter, char *err, size_t errlen);

#endif /* IOVATOP_FILTER_H */
