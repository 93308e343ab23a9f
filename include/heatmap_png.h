/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heatmap_png.h - report --heatmap-format png|both: a heatmap's SVG
 * (src/heatmap.c) rendered to PNG by librsvg on a cairo image surface, so
 * the PNG is the SVG's own picture, pixel for pixel as rsvg-convert draws
 * it, and not a second drawing that could disagree with it.
 */
#ifndef IOVATOP_HEATMAP_PNG_H
#define IOVATOP_HEATMAP_PNG_H

#include <stddef.h>
#include <stdio.h>

/*
 * Render the SVG document svg (len bytes) at width x height pixels and
 * write it as a PNG to f. 0, or -1 with a sentence in err (without the
 * file's name: the caller knows it).
 */
int heatmap_png_write(FILE *f, const char *svg, size_t len, unsigned int width,
		      unsigned int height, char *err, size_t errlen);

#endif /* IOVATOP_HEATMAP_PNG_H */
