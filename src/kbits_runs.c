// SPDX-License-Identifier: GPL-2.0
/*
 * kbits_runs.c - the user-space half of the kernel-side bitmap: an area
 * the BPF programs set bits in becomes runs of pages, which the live
 * source hands on as RANGE records. A run may cross words; the scan
 * skips zero words with one load each, so a sparse area costs its size
 * in reads and its set words in writes.
 */
#include <stdbool.h>

#include "kbits_runs.h"

int kbits_runs(uint64_t *words, uint64_t nwords, kbits_run_fn fn, void *ctx)
{
	uint64_t w, start = 0, i;
	bool open = false;
	int ret;

	for (i = 0; i < nwords; i++) {
		unsigned int pos = 0;

		w = words[i];
		if (!w) {
			if (open) {
				open = false;
				ret = fn(ctx, start, i * 64 - 1);
				if (ret)
					return ret;
			}
			continue;
		}
		/* the words are the kernel's to reuse as soon as we are done */
		words[i] = 0;
		while (pos < 64) {
			uint64_t rest = w >> pos;

			if (!open) {
				if (!rest)
					break;
				pos += (unsigned int)__builtin_ctzll(rest);
				start = i * 64 + pos;
				open = true;
			} else {
				uint64_t zeros = ~rest;

				if (!zeros || (pos && !(zeros & (~0ull >> pos))))
					break;	/* ones up to bit 63: run goes on */
				pos += (unsigned int)__builtin_ctzll(zeros);
				open = false;
				ret = fn(ctx, start, i * 64 + pos - 1);
				if (ret)
					return ret;
			}
		}
	}
	if (open)
		return fn(ctx, start, nwords * 64 - 1);
	return 0;
}
