// SPDX-License-Identifier: GPL-2.0
/*
 * heatmap.c - report --heatmap DIR (docs/heatmap.md): the SVG and its
 * TSV; src/heatmap_png.c renders the same SVG for a PNG.
 *
 * The model tells a report before it decides whether that report closes
 * the iteration before it, and tells the iteration with its number of
 * reports; so each device keeps its reports in order and an iteration
 * takes the next that many. A report keeps HEATMAP_FINE bucket counts
 * over its own range (ibd_histogram), not its bitmap: the device's whole
 * span, and so the rows, are known only at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heatmap.h"
#include "heatmap_png.h"
#include "name_index.h"
#include "text_escape.h"

struct hm_rep {
	uint64_t iova, length, page_size;
	uint64_t nb;			/* buckets used: min(HEATMAP_FINE, bits) */
	uint64_t nbits;
	uint64_t *b;			/* set bits per bucket, NULL if not rebuilt */
};

struct hm_col {
	uint64_t index, ts_begin, ts_end;
	uint64_t dirty_bytes;		/* the model's figure for the iteration */
	size_t first, n;		/* its reports in reps[] */
};

struct hm_dev {
	char name[MODEL_NAME_LEN];
	struct hm_rep *reps;
	size_t nreps, cap;
	size_t assigned;		/* reports given to iterations so far */
	struct hm_col *cols;
	size_t ncols, colcap;
};

struct heatmap {
	struct hm_dev *devs;
	size_t ndevs, cap;
	struct name_index index;	/* name -> index in devs */
};

struct heatmap *heatmap_new(void)
{
	return calloc(1, sizeof(struct heatmap));
}

void heatmap_free(struct heatmap *h)
{
	size_t i, j;

	if (!h)
		return;
	for (i = 0; i < h->ndevs; i++) {
		for (j = 0; j < h->devs[i].nreps; j++)
			free(h->devs[i].reps[j].b);
		free(h->devs[i].reps);
		free(h->devs[i].cols);
	}
	free(h->devs);
	name_index_free(&h->index);
	free(h);
}

static const char *hm_name_of(const void *ctx, uint32_t i)
{
	return ((const struct heatmap *)ctx)->devs[i].name;
}

/* Hashed: a crafted trace names any number of devices. */
static struct hm_dev *dev_get(struct heatmap *h, const char *name, bool add)
{
	struct hm_dev *d;
	int64_t i = name_index_find(&h->index, name, hm_name_of, h);

	if (i >= 0)
		return &h->devs[i];
	if (!add)
		return NULL;
	if (h->ndevs == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 8;

		d = realloc(h->devs, cap * sizeof(*d));
		if (!d)
			return NULL;
		h->devs = d;
		h->cap = cap;
	}
	d = &h->devs[h->ndevs];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (name_index_add(&h->index, d->name, (uint32_t)h->ndevs))
		return NULL;
	h->ndevs++;
	return d;
}

int heatmap_report(struct heatmap *h, const struct model_report *r)
{
	struct hm_dev *d = dev_get(h, r->device, true);
	struct hm_rep *p;

	if (!d)
		return -ENOMEM;
	if (d->nreps == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		p = realloc(d->reps, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		d->reps = p;
		d->cap = cap;
	}
	p = &d->reps[d->nreps];
	memset(p, 0, sizeof(*p));
	p->iova = r->iova;
	p->length = r->length;
	p->page_size = r->page_size;
	if (r->bitmap && r->bitmap->nbits) {
		p->nbits = r->bitmap->nbits;
		p->nb = p->nbits < HEATMAP_FINE ? p->nbits : HEATMAP_FINE;
		p->b = calloc(p->nb, sizeof(*p->b));
		if (!p->b)
			return -ENOMEM;
		ibd_histogram(r->bitmap, p->b, p->nb);
	}
	d->nreps++;
	return 0;
}

int heatmap_iteration(struct heatmap *h, const struct model_iteration *it)
{
	struct hm_dev *d = dev_get(h, it->device, false);
	struct hm_col *c;

	if (!d)
		return 0;	/* no report of it was seen: nothing to draw */
	if (d->ncols == d->colcap) {
		size_t cap = d->colcap ? d->colcap * 2 : 16;

		c = realloc(d->cols, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		d->cols = c;
		d->colcap = cap;
	}
	c = &d->cols[d->ncols++];
	c->index = it->index;
	c->ts_begin = it->ts_begin_ns;
	c->ts_end = it->ts_end_ns;
	c->dirty_bytes = it->dirty_bytes;
	c->first = d->assigned;
	c->n = it->reports;
	if (c->first + c->n > d->nreps)	/* cannot happen; never read past */
		c->n = d->nreps - c->first;
	d->assigned = c->first + c->n;
	return 0;
}

/* ---- the colour scale ---------------------------------------------------- */

uint32_t heatmap_colour(double density)
{
	/* pale yellow, orange, red, dark red: readable in print and for most
	 * colour-blind readers, as it runs from light to dark */
	static const double stop[][3] = {
		{ 255, 255, 204 }, { 254, 204, 92 }, { 253, 141, 60 },
		{ 227, 26, 28 }, { 128, 0, 38 },
	};
	const int nstops = sizeof(stop) / sizeof(stop[0]);
	double v, f;
	int i, k;
	uint32_t rgb = 0;

	v = density > 0 ? (log10(density) - HEATMAP_LOG_MIN) / -HEATMAP_LOG_MIN : 0;
	if (v < 0)
		v = 0;
	if (v > 1)
		v = 1;
	f = v * (nstops - 1);
	i = (int)f;
	if (i >= nstops - 1)
		i = nstops - 2;
	f -= i;
	for (k = 0; k < 3; k++)
		rgb = rgb << 8 | (uint32_t)lround(stop[i][k] + (stop[i + 1][k] - stop[i][k]) * f);
	return rgb;
}

/* ---- writing ------------------------------------------------------------- */

/*
 * --heatmap may name a directory that already exists, and the report runs
 * as root: a symlink planted under one of our file names must not send
 * the picture over another file. Never follow one.
 */
static FILE *create_nofollow(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      0644);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

int heatmap_check_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s; --heatmap wants a directory it can write.",
			 dir, strerror(errno));
		return -1;
	}
	if (access(dir, W_OK | X_OK)) {
		snprintf(err, errlen, "cannot write to %s: %s; --heatmap wants a directory it can write.",
			 dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* A file name from a device name: "vfio 0000:3b:00.2" -> "vfio_0000-3b-00.2". */
static void file_name(char *out, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < len && name[i]; i++) {
		char c = name[i];

		if (c == ':')
			c = '-';
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '.' || c == '-'))
			c = '_';
		out[i] = c;
	}
	out[i] = '\0';
}

/* A device name in the SVG: escaped as in every text output, then for XML. */
static void xml_str(FILE *f, const char *name)
{
	char e[TEXT_ESCAPED_SIZE(MODEL_NAME_LEN)], *s = e;

	text_escape(e, sizeof(e), name, MODEL_NAME_LEN);
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			fputc('?', f);
		else
			fputc(*s, f);
	}
}

/* Layout of one picture, in pixels. */
#define HM_LEFT		120	/* IOVA labels */
#define HM_TOP		36	/* title */
#define HM_BOTTOM	48	/* iteration and time labels */
#define HM_RIGHT	110	/* colour legend */
#define HM_ROW_H	2
#define HM_PLOT_W	720	/* the columns share this, 4 to 48 px each */
#define HM_MIN_W	640

struct geom {
	uint64_t lo, hi, row_bytes;
	unsigned int rows;
	unsigned int cell_w, row_h;
	unsigned int x0, y0, w, h;
};

static void layout(const struct hm_dev *d, struct geom *g)
{
	uint64_t page = 0, span;
	size_t i;

	g->lo = UINT64_MAX;
	g->hi = 0;
	for (i = 0; i < d->nreps; i++) {
		const struct hm_rep *p = &d->reps[i];
		uint64_t end = p->iova + p->length;

		if (!p->b)
			continue;
		if (p->iova < g->lo)
			g->lo = p->iova;
		if (end < p->iova)
			end = UINT64_MAX;
		if (end > g->hi)
			g->hi = end;
		if (!page || p->page_size < page)
			page = p->page_size;
	}
	if (g->lo >= g->hi) {
		g->lo = 0;
		g->hi = 1;
	}
	if (!page)
		page = 1;
	span = g->hi - g->lo;
	/* rows of whole pages; a span of few pages gets a row per page */
	g->row_bytes = (span / HEATMAP_ROWS + page - 1) / page * page;
	if (!g->row_bytes)
		g->row_bytes = page;
	g->rows = (unsigned int)((span + g->row_bytes - 1) / g->row_bytes);
	g->cell_w = d->ncols ? HM_PLOT_W / (unsigned int)d->ncols : HM_PLOT_W;
	if (g->cell_w > 48)
		g->cell_w = 48;
	if (g->cell_w < 4)
		g->cell_w = 4;
	g->row_h = HM_ROW_H * (HEATMAP_ROWS / (g->rows ? g->rows : 1) > 1 ?
			       HEATMAP_ROWS / g->rows : 1);
	g->x0 = HM_LEFT;
	g->y0 = HM_TOP;
	g->w = g->cell_w * (unsigned int)d->ncols;
	g->h = g->row_h * g->rows;
}

/*
 * Dirty bytes per row of one column. A report's bucket goes whole to the
 * row holding its middle: a bucket is at most a quarter of a row wide
 * (HEATMAP_FINE buckets over a range no wider than the span, in
 * HEATMAP_ROWS rows), and the column keeps its exact total.
 */
static void column_rows(const struct hm_dev *d, const struct hm_col *c,
			const struct geom *g, uint64_t *rows)
{
	size_t i;
	uint64_t k;

	memset(rows, 0, g->rows * sizeof(*rows));
	for (i = c->first; i < c->first + c->n; i++) {
		const struct hm_rep *p = &d->reps[i];

		if (!p->b)
			continue;
		for (k = 0; k < p->nb; k++) {
			uint64_t blo, bhi, mid, r;

			if (!p->b[k])
				continue;
			blo = (uint64_t)((unsigned __int128)p->nbits * k / p->nb);
			bhi = (uint64_t)((unsigned __int128)p->nbits * (k + 1) / p->nb);
			mid = p->iova + (blo + bhi) / 2 * p->page_size;
			if (mid < g->lo)
				mid = g->lo;
			r = (mid - g->lo) / g->row_bytes;
			if (r >= g->rows)
				r = g->rows - 1;
			rows[r] += p->b[k] * p->page_size;
		}
	}
}

static double secs(uint64_t ns, uint64_t t0)
{
	return ns > t0 ? (double)(ns - t0) / 1e9 : 0;
}

/*
 * The picture's SVG text is made in memory: it goes to NAME.svg, or to
 * librsvg for NAME.png (src/heatmap_png.c), or both, the same bytes.
 */
static int write_one(const struct hm_dev *d, const char *dir, uint64_t t0,
		     unsigned int formats, char *err, size_t errlen)
{
	char base[MODEL_NAME_LEN], path[4096], tsvp[4096], perr[256];
	uint64_t *rows = NULL;
	struct geom g;
	FILE *f = NULL, *t = NULL, *out = NULL;
	char *svg = NULL;
	size_t svglen = 0;
	unsigned int W, H, i, label_every;
	size_t c;

	layout(d, &g);
	W = g.x0 + g.w + HM_RIGHT;
	if (W < HM_MIN_W)
		W = HM_MIN_W;	/* room for the title over a few columns */
	H = g.y0 + g.h + HM_BOTTOM;
	file_name(base, sizeof(base), d->name);
	snprintf(path, sizeof(path), "%s/%s.tsv", dir, base);
	snprintf(tsvp, sizeof(tsvp), "%s/%s.tsv", dir, base);
	rows = calloc(g.rows, sizeof(*rows));
	f = open_memstream(&svg, &svglen);
	if (!f || !rows) {
		free(rows);
		rows = NULL;	/* says "out of memory" below */
		goto fail;
	}
	t = create_nofollow(tsvp);
	if (!t)
		goto fail;

	fprintf(t, "# device\t");
	text_escape_fputs(t, d->name, MODEL_NAME_LEN);
	fputc('\n', t);
	if (formats & HEATMAP_SVG)
		fprintf(t, "# svg\t%s.svg\n", base);
	if (formats & HEATMAP_PNG)
		fprintf(t, "# png\t%s.png\n", base);
	fprintf(t, "# geometry\tx0 %u\ty0 %u\tcell_w %u\trow_h %u\trows %u\tcols %zu\n",
		g.x0, g.y0, g.cell_w, g.row_h, g.rows, d->ncols);
	fprintf(t, "# iova\tlo 0x%" PRIx64 "\thi 0x%" PRIx64 "\trow_bytes 0x%" PRIx64 "\n",
		g.lo, g.hi, g.row_bytes);
	fprintf(t, "# row 0 is the lowest IOVA, drawn at the bottom; colour is heatmap_colour(dirty_bytes / row_bytes)\n");
	fprintf(t, "column\titeration\tt_end_s\trow\tiova\tdirty_bytes\tcolour\n");

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
		"viewBox=\"0 0 %u %u\" font-family=\"sans-serif\" font-size=\"11\">\n",
		W, H, W, H);
	fprintf(f, "<title>");
	xml_str(f, d->name);
	fprintf(f, ": dirty density over IOVA and iterations</title>\n");
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"#ffffff\"/>\n", W, H);
	fprintf(f, "<text x=\"%u\" y=\"20\" font-size=\"14\">", g.x0);
	xml_str(f, d->name);
	fprintf(f, ": dirty density by IOVA and iteration</text>\n");
	/* the plot: cells on a frame, crisp so a pixel is a cell's colour */
	fprintf(f, "<g shape-rendering=\"crispEdges\">\n");
	/* the frame's stroke lies on the pixels just outside the cells */
	fprintf(f, "<rect x=\"%u.5\" y=\"%u.5\" width=\"%u\" height=\"%u\" fill=\"#ffffff\" stroke=\"#000000\" stroke-width=\"1\"/>\n",
		g.x0 - 1, g.y0 - 1, g.w + 1, g.h + 1);
	for (c = 0; c < d->ncols; c++) {
		column_rows(d, &d->cols[c], &g, rows);
		for (i = 0; i < g.rows; i++) {
			double density;
			uint32_t rgb;

			if (!rows[i])
				continue;
			density = (double)rows[i] / (double)g.row_bytes;
			rgb = heatmap_colour(density);
			fprintf(f, "<rect x=\"%zu\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"#%06x\"/>\n",
				g.x0 + c * g.cell_w, g.y0 + g.h - (i + 1) * g.row_h,
				g.cell_w, g.row_h, rgb);
			fprintf(t, "%zu\t%" PRIu64 "\t%.6f\t%u\t0x%" PRIx64 "\t%" PRIu64 "\t#%06x\n",
				c, d->cols[c].index, secs(d->cols[c].ts_end, t0), i,
				g.lo + i * g.row_bytes, rows[i], rgb);
		}
	}
	fprintf(f, "</g>\n");

	/* y axis: IOVA at five ticks, low at the bottom */
	for (i = 0; i <= 4; i++) {
		unsigned int y = g.y0 + g.h - g.h * i / 4;
		uint64_t iova = g.lo + (uint64_t)((double)(g.hi - g.lo) * i / 4);

		fprintf(f, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#000000\"/>\n",
			g.x0 - 6, y, g.x0 - 1, y);
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">0x%" PRIx64 "</text>\n",
			g.x0 - 8, y + 4, iova);
	}
	fprintf(f, "<text x=\"14\" y=\"%u\" transform=\"rotate(-90 14 %u)\" text-anchor=\"middle\">IOVA</text>\n",
		g.y0 + g.h / 2, g.y0 + g.h / 2);
	/* x axis: iteration numbers, and the time each ended */
	label_every = 1;
	while (label_every * g.cell_w < 44)
		label_every++;
	for (c = 0; c < d->ncols; c += label_every) {
		unsigned int x = g.x0 + (unsigned int)c * g.cell_w + g.cell_w / 2;

		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">%" PRIu64 "</text>\n",
			x, g.y0 + g.h + 14, d->cols[c].index);
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"#555555\">%.1fs</text>\n",
			x, g.y0 + g.h + 28, secs(d->cols[c].ts_end, t0));
	}
	fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">iteration, and seconds since the trace began at its end</text>\n",
		g.x0 + g.w / 2, g.y0 + g.h + 44);
	/* the legend: the scale from 10^LOG_MIN to 1 */
	{
		unsigned int lx = g.x0 + g.w + 24, ly = g.y0, lh = 160, k;

		fprintf(f, "<g shape-rendering=\"crispEdges\">\n");
		for (k = 0; k < lh; k++) {
			double lg = HEATMAP_LOG_MIN * (double)k / (lh - 1);

			fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"14\" height=\"1\" fill=\"#%06x\"/>\n",
				lx, ly + k, heatmap_colour(pow(10, lg)));
		}
		fprintf(f, "</g>\n");
		for (k = 0; k <= (unsigned int)-HEATMAP_LOG_MIN; k++)
			fprintf(f, k ? "<text x=\"%u\" y=\"%u\">1e-%u</text>\n" :
				       "<text x=\"%u\" y=\"%u\">1</text>\n", lx + 18,
				ly + 4 + (lh - 1) * k / (unsigned int)-HEATMAP_LOG_MIN, k);
		fprintf(f, "<text x=\"%u\" y=\"%u\">dirty share</text>\n", lx - 4, ly + lh + 16);
		fprintf(f, "<text x=\"%u\" y=\"%u\">of each row</text>\n", lx - 4, ly + lh + 30);
		fprintf(f, "<text x=\"%u\" y=\"%u\" fill=\"#555555\">row %.3g MiB</text>\n",
			lx - 4, ly + lh + 48, (double)g.row_bytes / (1 << 20));
	}
	fprintf(f, "</svg>\n");
	if (ferror(t))
		goto fail;
	if (fclose(t)) {
		t = NULL;
		goto fail;
	}
	t = NULL;
	if (ferror(f) || fclose(f)) {
		f = NULL;
		free(rows);
		rows = NULL;	/* memory was all it could lack */
		goto fail;
	}
	f = NULL;
	if (formats & HEATMAP_SVG) {
		snprintf(path, sizeof(path), "%s/%s.svg", dir, base);
		out = create_nofollow(path);
		if (!out || fwrite(svg, 1, svglen, out) != svglen)
			goto fail;
		if (fclose(out)) {
			out = NULL;
			goto fail;
		}
		out = NULL;
	}
	if (formats & HEATMAP_PNG) {
		snprintf(path, sizeof(path), "%s/%s.png", dir, base);
		out = create_nofollow(path);
		if (!out)
			goto fail;
		if (heatmap_png_write(out, svg, svglen, W, H, perr, sizeof(perr))) {
			snprintf(err, errlen, "cannot write %s: %s", path, perr);
			goto fail_said;
		}
		if (fclose(out)) {
			out = NULL;
			goto fail;
		}
		out = NULL;
	}
	free(svg);
	free(rows);
	return 0;
fail:
	if (rows && errno == ELOOP)
		snprintf(err, errlen, "%s is a symbolic link, which --heatmap does not follow", path);
	else
		snprintf(err, errlen, "cannot write %s: %s", path,
			 rows ? strerror(errno) : "out of memory");
fail_said:
	if (f)
		fclose(f);
	if (t)
		fclose(t);
	if (out)
		fclose(out);
	free(svg);
	free(rows);
	return -1;
}

int heatmap_format_parse(const char *s, unsigned int *formats)
{
	if (!strcmp(s, "svg"))
		*formats = HEATMAP_SVG;
	else if (!strcmp(s, "png"))
		*formats = HEATMAP_PNG;
	else if (!strcmp(s, "both"))
		*formats = HEATMAP_SVG | HEATMAP_PNG;
	else
		return -1;
	return 0;
}

int heatmap_write(struct heatmap *h, const char *dir, uint64_t t0_ns,
		  unsigned int formats, char *err, size_t errlen)
{
	size_t i;
	int n = 0;

	if (!(formats & (HEATMAP_SVG | HEATMAP_PNG)))
		formats = HEATMAP_SVG;
	for (i = 0; i < h->ndevs; i++) {
		if (!h->devs[i].ncols)
			continue;
		if (write_one(&h->devs[i], dir, t0_ns, formats, err, errlen))
			return -1;
		n++;
	}
	return n;
}
