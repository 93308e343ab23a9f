/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mock_domain.h - an iommufd mock domain with dirty tracking on, for the
 * VM benchmarks: the selftest driver calls iova_bitmap_set() once per
 * dirty mock page when its dirty bitmap is read, as mlx5 and pds do per
 * dirty page.
 */
#ifndef MOCK_DOMAIN_H
#define MOCK_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#define MOCK_PAGE	2048ull		/* the mock's page, one bit of a report */

struct mock_domain {
	int fd;			/* its own /dev/iommu: its own iommufd context */
	uint32_t hwpt;
	uint64_t bytes;		/* IOVA span from MOCK_APERTURE_START */
	uint64_t npages;	/* bytes / MOCK_PAGE: one bit each */
	uint8_t *bitmap;	/* the last report, npages / 8 bytes */
	void *mem;		/* the 2 MiB every mapping of the IOVA shares */
	char err[160];		/* why the last call failed */
};

/* Open a domain of BYTES (a multiple of 2 MiB); 0, or -1 with d->err. */
int mock_domain_open(struct mock_domain *d, uint64_t bytes);

/*
 * Mark the pages of MARKS (npages / 8 bytes, bit i = page i) dirty in
 * the mock; the number it marked, or -1 with d->err.
 */
int64_t mock_domain_dirty(struct mock_domain *d, const uint8_t *marks);

/* Read the whole domain's dirty bitmap into d->bitmap; 0 or -1 with d->err. */
int mock_domain_report(struct mock_domain *d);

void mock_domain_close(struct mock_domain *d);

#endif
