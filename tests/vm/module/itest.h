/* SPDX-License-Identifier: GPL-2.0 */
/*
 * itest.h - what the parts of the iovatop test driver share: the device.
 *
 * itest_core.c  devices, DMA logging, the debugfs programming interface
 * itest_pci.c   what makes each device a vfio-pci device to a VMM: device,
 *               region and irq info, a config space, reset
 * itest_mig.c   the vfio migration v2 state machine and its data files
 */
#ifndef ITEST_H
#define ITEST_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/version.h>
#include <linux/vfio.h>

#include "itp.h"

#define ITEST_MAX_RANGES	64
#define ITEST_PROGRAM_MAX	1024
#define ITEST_CONFIG_SIZE	256
/* Reports kept for the 'reports' file between reads. */
#define ITEST_REPORT_LOG	4096
/* The device state a migration carries: a blob and a trailer. */
#define ITEST_STATE_MAX		128

/*
 * PRE_COPY and VFIO_MIG_GET_PRECOPY_INFO came in 6.3, the data size
 * query in 6.2: below that the devices migrate with STOP_COPY only.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define ITEST_HAVE_PRECOPY	1
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define ITEST_HAVE_DATA_SIZE	1
#endif

struct itest_call {
	u64 iova;
	u64 length;
};

/* One log_read_and_clear: what was asked and what the device set. */
struct itest_report {
	u64 iova;
	u64 length;
	u64 page_size;
	u64 calls;
	u64 pages;	/* pages the calls covered (streams do not overlap) */
};

struct itest_mig_file;

struct itest_dev {
	struct vfio_device vdev;
	struct device *parent;
	struct dentry *dir;
	/* Serialises log ops, program writes and log reads. */
	struct mutex lock;
	bool logging;
	u64 page_size;
	u32 nranges;
	struct itest_call ranges[ITEST_MAX_RANGES];
	unsigned int nstreams;
	struct itp_stream streams[ITP_MAX_STREAMS];
	char program[ITEST_PROGRAM_MAX];
	struct itest_call *log;
	unsigned int nlog;
	u64 dropped;
	u64 reports;	/* log_read_and_clear calls */
	u64 calls;	/* iova_bitmap_set calls */
	/*
	 * 'hop' in debugfs: move the reporting task to the next online CPU
	 * after every hop calls of a report (0: never), so that one report's
	 * calls land on several CPUs; hops counts the moves made.
	 */
	u32 hop;
	u64 hops;
	struct itest_report *rlog;
	unsigned int nrlog;
	u64 rdropped;

	/* PCI: the config space a VMM reads and writes (under lock). */
	u8 config[ITEST_CONFIG_SIZE];
	u64 resets;

	/* Migration, under mig_lock (never taken inside lock). */
	struct mutex mig_lock;
	enum vfio_device_mig_state mig_state;
	struct itest_mig_file *saving;
	struct itest_mig_file *resuming;
	u64 token;		/* what this device's state carries */
	u64 saves;		/* save streams opened */
	u64 saved_bytes;	/* bytes the VMM read from them */
	u64 loads;		/* states loaded and accepted */
	u64 load_errors;	/* states refused */
	char loaded_from[48];
	u64 loaded_token;
	u64 loaded_reports;
};

static inline struct itest_dev *to_itest(struct vfio_device *vdev)
{
	return container_of(vdev, struct itest_dev, vdev);
}

/* itest_pci.c */
void itest_pci_init(struct itest_dev *d);
void itest_pci_reset(struct itest_dev *d);
long itest_pci_ioctl(struct vfio_device *vdev, unsigned int cmd,
		     unsigned long arg);
#ifdef ITEST_REGION_INFO_CAPS
int itest_pci_region_info_caps(struct vfio_device *vdev,
			       struct vfio_region_info *info,
			       struct vfio_info_cap *caps);
#endif
ssize_t itest_pci_read(struct vfio_device *vdev, char __user *buf,
		       size_t count, loff_t *ppos);
ssize_t itest_pci_write(struct vfio_device *vdev, const char __user *buf,
			size_t count, loff_t *ppos);

/* itest_mig.c */
void itest_mig_init(struct itest_dev *d);
#ifndef ITEST_HAVE_DATA_SIZE
int itest_device_feature(struct vfio_device *vdev, u32 flags,
			 void __user *arg, size_t argsz);
#endif
void itest_mig_reset(struct itest_dev *d);
void itest_mig_open(struct itest_dev *d);
int itest_mig_show(struct seq_file *m, void *v);

#endif
