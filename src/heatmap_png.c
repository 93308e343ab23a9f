// SPDX-License-Identifier: GPL-2.0
/*
 * heatmap_png.c - a heatmap's SVG as a PNG (docs/heatmap.md): librsvg
 * draws the document src/heatmap.c wrote onto a cairo image surface of
 * the SVG's own size, and cairo encodes the surface. The SVG's cells are
 * crispEdges rects on whole pixels, so each cell's pixels are exactly its
 * colour in the PNG too (tests/heatmap.sh reads them back).
 */
#include <cairo.h>
#include <errno.h>
#include <librsvg/rsvg.h>
#include <stdio.h>
#include <string.h>

#include "heatmap_png.h"

static cairo_status_t write_png(void *closure, const unsigned char *data,
				unsigned int length)
{
	FILE *f = closure;

	return fwrite(data, 1, length, f) == length ? CAIRO_STATUS_SUCCESS :
						      CAIRO_STATUS_WRITE_ERROR;
}

int heatmap_png_write(FILE *f, const char *svg, size_t len, unsigned int width,
		      unsigned int height, char *err, size_t errlen)
{
	RsvgRectangle vp = { 0, 0, width, height };
	cairo_surface_t *s = NULL;
	RsvgHandle *h = NULL;
	GError *gerr = NULL;
	cairo_status_t st;
	cairo_t *cr = NULL;
	int ret = -1;

	h = rsvg_handle_new_from_data((const guint8 *)svg, len, &gerr);
	if (!h) {
		/* our own document: only memory can make this fail */
		snprintf(err, errlen, "librsvg cannot read the picture: %s",
			 gerr ? gerr->message : "no reason given");
		goto out;
	}
	s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)width, (int)height);
	cr = cairo_create(s);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "cairo cannot make a %ux%u picture: %s", width,
			 height, cairo_status_to_string(cairo_status(cr)));
		goto out;
	}
	if (!rsvg_handle_render_document(h, cr, &vp, &gerr)) {
		snprintf(err, errlen, "librsvg cannot draw the picture: %s",
			 gerr ? gerr->message : "no reason given");
		goto out;
	}
	cairo_surface_flush(s);
	errno = 0;
	st = cairo_surface_write_to_png_stream(s, write_png, f);
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "%s", st == CAIRO_STATUS_WRITE_ERROR && errno ?
			 strerror(errno) : cairo_status_to_string(st));
		goto out;
	}
	ret = 0;
out:
	if (gerr)
		g_error_free(gerr);
	if (cr)
		cairo_destroy(cr);
	if (s)
		cairo_surface_destroy(s);
	if (h)
		g_object_unref(h);
	return ret;
}

#ifdef __SANITIZE_ADDRESS__
/*
 * The sanitizer build (make check SANITIZE=1): librsvg draws text through
 * pango, which loads fontconfig's font set once and keeps it, unfreed, for
 * the life of the process. Not a leak of ours, and fontconfig cannot be
 * made to free it while pango holds it: LeakSanitizer is told to leave
 * fontconfig's allocations out, and only those.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}
#endif
