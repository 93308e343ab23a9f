/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vm_uapi.h - the vfio and iommufd ioctl ABI the test workload uses.
 *
 * Declared here rather than taken from <linux/vfio.h> and <linux/iommufd.h>
 * because the build host's headers (Debian's 6.1) lack the vfio cdev and
 * iommufd dirty-tracking ioctls, and iommufd_test.h (the mock domain) is not
 * uapi at all. Layouts are from Linux 6.12; each size is asserted so a typo
 * cannot silently shift a field.
 */
#ifndef VM_UAPI_H
#define VM_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* ---- vfio (include/uapi/linux/vfio.h) ---- */
#define VFIO_TYPE			(';')
#define VFIO_BASE			100
#define VFIO_API_VERSION		0
#define VFIO_TYPE1v2_IOMMU		3

#define VFIO_GET_API_VERSION		_IO(VFIO_TYPE, VFIO_BASE + 0)
#define VFIO_CHECK_EXTENSION		_IO(VFIO_TYPE, VFIO_BASE + 1)
#define VFIO_SET_IOMMU			_IO(VFIO_TYPE, VFIO_BASE + 2)
#define VFIO_GROUP_GET_STATUS		_IO(VFIO_TYPE, VFIO_BASE + 3)
#define VFIO_GROUP_SET_CONTAINER	_IO(VFIO_TYPE, VFIO_BASE + 4)
#define VFIO_GROUP_GET_DEVICE_FD	_IO(VFIO_TYPE, VFIO_BASE + 6)
#define VFIO_DEVICE_FEATURE		_IO(VFIO_TYPE, VFIO_BASE + 17)
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_group_status {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_GROUP_FLAGS_VIABLE		(1 << 0)

struct vfio_device_feature {
	__u32 argsz;
	__u32 flags;
	/* __u8 data[] follows */
};
#define VFIO_DEVICE_FEATURE_MASK	0xffff
#define VFIO_DEVICE_FEATURE_GET		(1 << 16)
#define VFIO_DEVICE_FEATURE_SET		(1 << 17)
#define VFIO_DEVICE_FEATURE_PROBE	(1 << 18)
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_START	6
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP	7
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT	8

struct vfio_device_feature_dma_logging_control {
	__aligned_u64 page_size;
	__u32 num_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
};

struct vfio_device_feature_dma_logging_range {
	__aligned_u64 iova;
	__aligned_u64 length;
};

struct vfio_device_feature_dma_logging_report {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 bitmap;
};

struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};

/* ---- iommufd (include/uapi/linux/iommufd.h) ---- */
#define IOMMUFD_TYPE			(';')
#define IOMMU_DESTROY			_IO(IOMMUFD_TYPE, 0x80)
#define IOMMU_IOAS_ALLOC		_IO(IOMMUFD_TYPE, 0x81)
#define IOMMU_IOAS_MAP			_IO(IOMMUFD_TYPE, 0x85)
#define IOMMU_OPTION			_IO(IOMMUFD_TYPE, 0x87)
#define IOMMU_HWPT_ALLOC		_IO(IOMMUFD_TYPE, 0x89)
#define IOMMU_HWPT_SET_DIRTY_TRACKING	_IO(IOMMUFD_TYPE, 0x8b)
#define IOMMU_HWPT_GET_DIRTY_BITMAP	_IO(IOMMUFD_TYPE, 0x8c)
/* iommufd_test.h: IOMMUFD_CMD_BASE + 32 */
#define IOMMU_TEST_CMD			_IO(IOMMUFD_TYPE, 0x80 + 32)

struct iommu_destroy {
	__u32 size;
	__u32 id;
};

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FIXED_IOVA	(1 << 0)
#define IOMMU_IOAS_MAP_WRITEABLE	(1 << 1)
#define IOMMU_IOAS_MAP_READABLE		(1 << 2)

struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC_DIRTY_TRACKING	(1 << 1)

struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_DIRTY_TRACKING_ENABLE	1

struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR	1

/* IOMMU_OPTION: HUGE_PAGES 0 makes an IOAS map one CPU page at a time. */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};
#define IOMMU_OPTION_HUGE_PAGES		1
#define IOMMU_OPTION_OP_SET		0

/* ---- iommufd selftest mock (drivers/iommu/iommufd/iommufd_test.h) ---- */
#define IOMMU_TEST_OP_MOCK_DOMAIN	2
#define IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS	12
#define IOMMU_TEST_OP_DIRTY		13
/*
 * 6.12's mock device flag for 1 MiB (512 mock pages) IO pages. 7.2 no
 * longer has it (its mock_dev_create() takes NO_DIRTY and PASID only):
 * the mock there is on the generic page table, which maps any power of
 * two, so a huge mapping is one entry without asking.
 */
#define MOCK_FLAGS_DEVICE_HUGE_IOVA	(1 << 1)
#define MOCK_APERTURE_START		(1ull << 24)
#define MOCK_APERTURE_LAST		((1ull << 31) - 1)

struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		/* The largest member in 6.12; keeps the union's size. */
		__aligned_u64 __union_size[6];
	};
	__u32 last;
};

_Static_assert(sizeof(struct vfio_group_status) == 8, "vfio_group_status");
_Static_assert(sizeof(struct vfio_device_feature) == 8, "vfio_device_feature");
_Static_assert(sizeof(struct vfio_device_feature_dma_logging_control) == 24,
	       "dma_logging_control");
_Static_assert(sizeof(struct vfio_device_feature_dma_logging_range) == 16,
	       "dma_logging_range");
_Static_assert(sizeof(struct vfio_device_feature_dma_logging_report) == 32,
	       "dma_logging_report");
_Static_assert(sizeof(struct vfio_device_bind_iommufd) == 16, "bind_iommufd");
_Static_assert(sizeof(struct vfio_device_attach_iommufd_pt) == 12,
	       "attach_iommufd_pt");
_Static_assert(sizeof(struct iommu_destroy) == 8, "iommu_destroy");
_Static_assert(sizeof(struct iommu_ioas_alloc) == 12, "iommu_ioas_alloc");
_Static_assert(sizeof(struct iommu_ioas_map) == 40, "iommu_ioas_map");
_Static_assert(sizeof(struct iommu_hwpt_alloc) == 48, "iommu_hwpt_alloc");
_Static_assert(sizeof(struct iommu_hwpt_set_dirty_tracking) == 16,
	       "iommu_hwpt_set_dirty_tracking");
_Static_assert(sizeof(struct iommu_hwpt_get_dirty_bitmap) == 48,
	       "iommu_hwpt_get_dirty_bitmap");
_Static_assert(sizeof(struct iommu_option) == 24, "iommu_option");
_Static_assert(sizeof(struct iommu_test_cmd) == 72, "iommu_test_cmd");
_Static_assert(__builtin_offsetof(struct iommu_test_cmd, mock_domain_flags.dev_flags) == 28,
	       "iommu_test_cmd.mock_domain_flags.dev_flags");
_Static_assert(__builtin_offsetof(struct iommu_test_cmd, dirty.out_nr_dirty) == 56,
	       "iommu_test_cmd.dirty.out_nr_dirty");
_Static_assert(__builtin_offsetof(struct iommu_test_cmd, last) == 64,
	       "iommu_test_cmd.last");

#endif /* VM_UAPI_H */
