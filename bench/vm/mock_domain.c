// SPDX-License-Identifier: GPL-2.0
/*
 * mock_domain.c - the iommufd mock domains the VM benchmarks read dirty
 * bitmaps from (IOMMUFD_TEST's selftest ioctls, tests/vm/vm_uapi.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm_uapi.h"
#include "mock_domain.h"

#define CHUNK_BYTES	(2ull << 20)	/* one buffer mapped again and again */

static int fail(struct mock_domain *d, const char *what)
{
	snprintf(d->err, sizeof(d->err), "%s failed: %s", what, strerror(errno));
	return -1;
}

int mock_domain_open(struct mock_domain *d, uint64_t bytes)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_ioas_alloc ioas2 = { .size = sizeof(ioas2) };
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_hwpt_set_dirty_tracking track = { .size = sizeof(track) };
	uint64_t off;
	void *mem;

	memset(d, 0, sizeof(*d));
	d->mem = MAP_FAILED;
	d->bytes = bytes;
	d->npages = bytes / MOCK_PAGE;
	d->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return fail(d, "opening /dev/iommu");
	if (ioctl(d->fd, IOMMU_IOAS_ALLOC, &ioas))
		return fail(d, "IOMMU_IOAS_ALLOC");
	mock.id = ioas.out_ioas_id;
	if (ioctl(d->fd, IOMMU_TEST_CMD, &mock))
		return fail(d, "IOMMU_TEST_OP_MOCK_DOMAIN (CONFIG_IOMMUFD_TEST?)");
	if (ioctl(d->fd, IOMMU_IOAS_ALLOC, &ioas2))
		return fail(d, "IOMMU_IOAS_ALLOC");
	mem = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return fail(d, "mapping the domain's memory");
	d->mem = mem;
	/*
	 * The domain's IOVA from 2 MiB of memory, the same pages again and
	 * again: what is read is the mock's dirty bits, not the memory.
	 */
	for (off = 0; off < bytes; off += CHUNK_BYTES) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas2.out_ioas_id,
			.user_va = (uintptr_t)mem, .length = CHUNK_BYTES,
			.iova = MOCK_APERTURE_START + off,
		};

		if (ioctl(d->fd, IOMMU_IOAS_MAP, &map))
			return fail(d, "IOMMU_IOAS_MAP");
	}
	alloc.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	alloc.dev_id = mock.mock_domain.out_idev_id;
	alloc.pt_id = ioas2.out_ioas_id;
	if (ioctl(d->fd, IOMMU_HWPT_ALLOC, &alloc))
		return fail(d, "IOMMU_HWPT_ALLOC");
	d->hwpt = alloc.out_hwpt_id;
	track.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	track.hwpt_id = d->hwpt;
	if (ioctl(d->fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &track))
		return fail(d, "IOMMU_HWPT_SET_DIRTY_TRACKING");
	d->bitmap = calloc(1, d->npages / 8);
	if (!d->bitmap)
		return fail(d, "allocating the bitmap");
	return 0;
}

int64_t mock_domain_dirty(struct mock_domain *d, const uint8_t *marks)
{
	struct iommu_test_cmd cmd = { .size = sizeof(cmd), .op = IOMMU_TEST_OP_DIRTY,
				      .id = d->hwpt };

	cmd.dirty.iova = MOCK_APERTURE_START;
	cmd.dirty.length = d->bytes;
	cmd.dirty.page_size = MOCK_PAGE;
	cmd.dirty.uptr = (uintptr_t)marks;
	if (ioctl(d->fd, IOMMU_TEST_CMD, &cmd))
		return fail(d, "IOMMU_TEST_OP_DIRTY");
	return (int64_t)cmd.dirty.out_nr_dirty;
}

int mock_domain_report(struct mock_domain *d)
{
	struct iommu_hwpt_get_dirty_bitmap get = {
		.size = sizeof(get), .hwpt_id = d->hwpt,
		.iova = MOCK_APERTURE_START, .length = d->bytes,
		.page_size = MOCK_PAGE, .data = (uintptr_t)d->bitmap,
	};

	memset(d->bitmap, 0, d->npages / 8);
	if (ioctl(d->fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &get))
		return fail(d, "IOMMU_HWPT_GET_DIRTY_BITMAP");
	return 0;
}

void mock_domain_close(struct mock_domain *d)
{
	if (d->fd >= 0)
		close(d->fd);	/* the domain and its mappings go with it */
	if (d->mem != MAP_FAILED)
		munmap(d->mem, CHUNK_BYTES);
	free(d->bitmap);
	d->mem = MAP_FAILED;
	d->fd = -1;
	d->bitmap = NULL;
}
