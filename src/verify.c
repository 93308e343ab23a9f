// SPDX-License-Identifier: GPL-2.0
/*
 * verify.c - --verify: follow each user bitmap from the records the sink
 * gets, rebuild its reports with the decode library and compare with what
 * the kernel left in user memory (include/verify.h).
 */
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "verify.h"

static struct vbitmap *vb_find(struct verify *vf, uint64_t bitmap_id)
{
	int i;

	for (i = 0; i < VERIFY_BITMAPS; i++)
		if (vf->vb[i].used && vf->vb[i].bitmap_id == bitmap_id)
			return &vf->vb[i];
	return NULL;
}

static void vb_release(struct vbitmap *v)
{
	if (!v->used)
		return;
	if (v->rebuild_ok)
		ibd_free(&v->d);
	free(v->before);
	free(v->after);
	memset(v, 0, sizeof(*v));
}

static void vb_alloc(struct verify *vf, const struct iova_rec_alloc *a)
{
	struct vbitmap *v = NULL;
	uint64_t nbits;
	int i;

	if (a->ret || !a->length || !a->page_size ||
	    (a->page_size & (a->page_size - 1)))
		return;
	nbits = (a->length - 1) / a->page_size + 1;
	for (i = 0; i < VERIFY_BITMAPS; i++)
		if (!vf->vb[i].used || vf->vb[i].bitmap_id == a->bitmap_id) {
			v = &vf->vb[i];
			break;
		}
	if (!v) {
		/* more live bitmaps than slots: reuse the oldest */
		v = &vf->vb[0];
		for (i = 1; i < VERIFY_BITMAPS; i++)
			if (vf->vb[i].bitmap_id < v->bitmap_id)
				v = &vf->vb[i];
	}
	vb_release(v);
	v->used = true;
	v->bitmap_id = a->bitmap_id;
	v->nbytes = (nbits + 63) / 64 * 8;
	if (v->nbytes > vf->max)
		return;		/* the BPF side does not read it either */
	v->before = calloc(1, v->nbytes);
	v->after = calloc(1, v->nbytes);
	if (!v->before || !v->after)
		return;
	if (iova_kpage_shift(a) >= 32 ||
	    ibd_init_kpage(&v->d, a->iova, a->length, a->page_size, vf->rule,
			   1ull << iova_kpage_shift(a)))
		return;
	ibd_set_user_addr(&v->d, a->user_addr);
	v->rebuild_ok = true;
}

void verify_ubits(struct verify *vf, const struct iova_live_ubits *u)
{
	struct vbitmap *v = vb_find(vf, u->bitmap_id);
	uint8_t *dst;

	if (!v || !v->before || !v->after || u->total != v->nbytes ||
	    u->offset >= v->nbytes || u->nbytes > v->nbytes - u->offset)
		return;
	if (u->phase == IOVA_UBITS_AFTER && u->report_id != v->report_id)
		return;
	dst = u->phase == IOVA_UBITS_BEFORE ? v->before : v->after;
	memcpy(dst + u->offset, u->data, u->nbytes);
	if (u->err)
		return;		/* not counted: the read-back stays incomplete */
	if (u->phase == IOVA_UBITS_BEFORE)
		v->before_got += u->nbytes;
	else
		v->after_got += u->nbytes;
}

/* Build the VERIFY record of a report that just ended. */
bool verify_end(struct verify *vf, const struct iova_rec_report_end *e,
		struct iova_rec_verify *out)
{
	struct vbitmap *v = vb_find(vf, e->bitmap_id);
	uint64_t i, words, kw, rw;

	if (!v || v->report_id != e->report_id)
		return false;
	memset(out, 0, sizeof(*out));
	out->hdr.type = IOVA_REC_VERIFY;
	out->hdr.size = sizeof(*out);
	out->hdr.cpu = e->hdr.cpu;
	out->hdr.ts_ns = e->hdr.ts_ns;
	out->bitmap_id = e->bitmap_id;
	out->report_id = e->report_id;
	out->status = IOVA_VERIFY_SKIPPED;
	v->report_id = 0;
	/*
	 * Skipped: too large to read back, a read-back chunk was lost or
	 * faulted, or records of the report were lost (then the rebuild is
	 * known to be short, and that is already flagged as incomplete).
	 */
	if (!v->rebuild_ok || v->before_got != v->nbytes ||
	    v->after_got != v->nbytes || (e->flags & IOVA_REPORT_INCOMPLETE))
		return true;
	words = v->nbytes / 8;
	if (words > v->d.nwords)
		words = v->d.nwords;
	if (vf->flip && words) {
		v->d.words[0] ^= 1;	/* the comparison must catch this */
		ibd_words_written(&v->d, 0, 1);	/* for the next clear */
	}
	out->words = words;
	out->status = IOVA_VERIFY_OK;
	for (i = 0; i < words; i++) {
		kw = le_get64(v->after + i * 8);
		rw = v->d.words[i] | le_get64(v->before + i * 8);
		if (kw == rw)
			continue;
		if (!out->mismatches++) {
			out->first_bad_word = i;
			out->kernel_word = kw;
			out->rebuilt_word = rw;
		}
	}
	if (out->mismatches)
		out->status = IOVA_VERIFY_MISMATCH;
	return true;
}

/* Feed the records the sink gets to the --verify rebuild. */
void verify_record(struct verify *vf, const struct iova_rec_hdr *h)
{
	struct vbitmap *v;

	switch (h->type) {
	case IOVA_REC_ALLOC:
		vb_alloc(vf, (const void *)h);
		break;
	case IOVA_REC_REPORT_BEGIN: {
		const struct iova_rec_report_begin *b = (const void *)h;

		v = vb_find(vf, b->bitmap_id);
		if (!v)
			break;
		v->report_id = b->report_id;
		v->after_got = 0;
		if (v->rebuild_ok)
			ibd_clear(&v->d);	/* keeps user_addr, re-pins */
		break;
	}
	case IOVA_REC_RANGE: {
		const struct iova_rec_range *r = (const void *)h;

		v = vb_find(vf, r->bitmap_id);
		if (v && v->rebuild_ok && v->report_id == r->report_id)
			ibd_set(&v->d, r->iova, r->length);
		break;
	}
	case IOVA_REC_FREE:
		v = vb_find(vf, ((const struct iova_rec_free *)h)->bitmap_id);
		if (v)
			vb_release(v);
		break;
	}
}

void verify_free(struct verify *vf)
{
	int i;

	for (i = 0; i < VERIFY_BITMAPS; i++)
		vb_release(&vf->vb[i]);
}
