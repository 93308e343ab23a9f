/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heatmap.h - report --heatmap DIR: per device a picture of where in IOVA
 * space it writes, iteration by iteration (docs/heatmap.md).
 *
 * x is the device's pre-copy iterations, y its IOVA span (low addresses
 * at the bottom), a cell's colour the dirty density of its IOVA rows in
 * that iteration on a logarithmic scale. Each picture is an SVG with its
 * cells as rects (or that SVG rendered as a PNG, or both), and beside it
 * a TSV of every non-empty cell with the geometry, so a test (or a
 * script) can check the picture against the numbers.
 */
#ifndef IOVATOP_HEATMAP_H
#define IOVATOP_HEATMAP_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define HEATMAP_ROWS		256	/* IOVA rows of a picture (fewer for small spans) */
#define HEATMAP_FINE		1024	/* buckets kept per report */
#define HEATMAP_LOG_MIN		-4.0	/* log10 density at the palest colour */

struct heatmap;

struct heatmap *heatmap_new(void);
void heatmap_free(struct heatmap *h);

/* Feed from model_on_report / model_on_iteration. 0 or -ENOMEM. */
int heatmap_report(struct heatmap *h, const struct model_report *r);
int heatmap_iteration(struct heatmap *h, const struct model_iteration *it);

/*
 * Can pictures be written to dir? Creates it if missing. 0, or -1 with a
 * sentence in err. Asked before the trace is read.
 */
int heatmap_check_dir(const char *dir, char *err, size_t errlen);

/* What --heatmap-format asks for: the SVG, its PNG (librsvg), or both. */
#define HEATMAP_SVG		1u
#define HEATMAP_PNG		2u
/* "svg", "png" or "both" into formats; -1 for anything else. */
int heatmap_format_parse(const char *s, unsigned int *formats);

/*
 * Write DIR/<device>.svg and/or DIR/<device>.png, as formats says (0:
 * SVG), and DIR/<device>.tsv for each device with at least one finished
 * iteration; t0_ns is time 0 on the x axis labels. Returns the number of
 * pictures, or -1 with a sentence in err.
 */
int heatmap_write(struct heatmap *h, const char *dir, uint64_t t0_ns,
		  unsigned int formats, char *err, size_t errlen);

/*
 * The colour of a density (dirty bytes over row bytes, > 0): a ramp from
 * pale yellow at 10^HEATMAP_LOG_MIN to dark red at 1, in 0xRRGGBB.
 */
uint32_t heatmap_colour(double density);

#endif /* IOVATOP_HEATMAP_H */
