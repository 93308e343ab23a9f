// SPDX-License-Identifier: GPL-2.0
/*
 * itest_pci.c - the test devices as vfio-pci devices.
 *
 * QEMU's vfio-pci realizes a device whose VFIO_DEVICE_GET_INFO says
 * VFIO_DEVICE_FLAGS_PCI, with at least the config region's index + 1
 * regions and the MSI-X irq index + 1 irqs, every BAR region describable
 * (size 0 is a BAR that is not there), and a config space it can pread()
 * at the config region's offset. Nothing else is needed to be assigned
 * and migrated: no BARs, no interrupt pin, no capabilities. The regions
 * live at index << 40 in the device fd, as vfio-pci places them.
 */
#include <linux/pci_regs.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "itest.h"

#define ITEST_REGION_SHIFT	40
#define ITEST_OFFSET_MASK	((1ULL << ITEST_REGION_SHIFT) - 1)
#define ITEST_NUM_IRQS		(VFIO_PCI_MSIX_IRQ_INDEX + 1)

/*
 * Red Hat's vendor ID and a device ID from the range QEMU keeps for its
 * own emulated devices that none uses, class "unassigned": firmware and
 * guest drivers leave such a function alone.
 */
#define ITEST_VENDOR_ID		0x1b36
#define ITEST_DEVICE_ID		0x00f0

void itest_pci_init(struct itest_dev *d)
{
	u8 *c = d->config;

	memset(c, 0, ITEST_CONFIG_SIZE);
	c[PCI_VENDOR_ID] = ITEST_VENDOR_ID & 0xff;
	c[PCI_VENDOR_ID + 1] = ITEST_VENDOR_ID >> 8;
	c[PCI_DEVICE_ID] = ITEST_DEVICE_ID & 0xff;
	c[PCI_DEVICE_ID + 1] = ITEST_DEVICE_ID >> 8;
	c[PCI_REVISION_ID] = 1;
	c[PCI_CLASS_PROG] = 0;
	c[PCI_CLASS_DEVICE] = 0x00;	/* subclass */
	c[PCI_CLASS_DEVICE + 1] = 0xff;	/* base class: unassigned */
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	c[PCI_SUBSYSTEM_VENDOR_ID] = ITEST_VENDOR_ID & 0xff;
	c[PCI_SUBSYSTEM_VENDOR_ID + 1] = ITEST_VENDOR_ID >> 8;
	c[PCI_SUBSYSTEM_ID] = ITEST_DEVICE_ID & 0xff;
	c[PCI_SUBSYSTEM_ID + 1] = ITEST_DEVICE_ID >> 8;
	/* status: no capability list; interrupt pin 0: no INTx */
}

/* A function level reset: the command register back to 0. */
void itest_pci_reset(struct itest_dev *d)
{
	mutex_lock(&d->lock);
	d->config[PCI_COMMAND] = 0;
	d->config[PCI_COMMAND + 1] = 0;
	d->resets++;
	mutex_unlock(&d->lock);
}

static long itest_get_info(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = ITEST_NUM_IRQS;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static int itest_fill_region_info(struct vfio_region_info *info)
{
	if (info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info->offset = (u64)info->index << ITEST_REGION_SHIFT;
	info->cap_offset = 0;
	if (info->index == VFIO_PCI_CONFIG_REGION_INDEX) {
		info->size = ITEST_CONFIG_SIZE;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
	} else {
		/* BARs, ROM and VGA: absent */
		info->size = 0;
		info->flags = 0;
	}
	return 0;
}

#ifdef ITEST_REGION_INFO_CAPS
/* Newer cores answer VFIO_DEVICE_GET_REGION_INFO and ask the driver. */
int itest_pci_region_info_caps(struct vfio_device *vdev,
			       struct vfio_region_info *info,
			       struct vfio_info_cap *caps)
{
	return itest_fill_region_info(info);
}
#endif

static long itest_get_region_info(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	ret = itest_fill_region_info(&info);
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long itest_get_irq_info(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= ITEST_NUM_IRQS)
		return -EINVAL;
	info.flags = 0;
	info.count = 0;	/* no INTx pin, no MSI or MSI-X capability */
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long itest_set_irqs(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;

	if (copy_from_user(&hdr, (void __user *)arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.index >= ITEST_NUM_IRQS)
		return -EINVAL;
	/* Only "disable all": there is no vector to enable. */
	if ((hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) == VFIO_IRQ_SET_DATA_NONE &&
	    hdr.count == 0)
		return 0;
	return -EINVAL;
}

long itest_pci_ioctl(struct vfio_device *vdev, unsigned int cmd,
		     unsigned long arg)
{
	struct itest_dev *d = to_itest(vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return itest_get_info(arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return itest_get_region_info(arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return itest_get_irq_info(arg);
	case VFIO_DEVICE_SET_IRQS:
		return itest_set_irqs(arg);
	case VFIO_DEVICE_RESET:
		itest_pci_reset(d);
		itest_mig_reset(d);
		return 0;
	}
	return -ENOTTY;
}

/* The config region's byte range for an access, or -EINVAL. */
static int itest_config_range(loff_t pos, size_t count, u64 *off)
{
	u64 index = (u64)pos >> ITEST_REGION_SHIFT;

	*off = (u64)pos & ITEST_OFFSET_MASK;
	if (index != VFIO_PCI_CONFIG_REGION_INDEX ||
	    *off >= ITEST_CONFIG_SIZE || count > ITEST_CONFIG_SIZE - *off)
		return -EINVAL;
	return 0;
}

ssize_t itest_pci_read(struct vfio_device *vdev, char __user *buf,
		       size_t count, loff_t *ppos)
{
	struct itest_dev *d = to_itest(vdev);
	u8 tmp[ITEST_CONFIG_SIZE];
	u64 off;
	int ret;

	ret = itest_config_range(*ppos, count, &off);
	if (ret)
		return ret;
	mutex_lock(&d->lock);
	memcpy(tmp, d->config + off, count);
	mutex_unlock(&d->lock);
	if (copy_to_user(buf, tmp, count))
		return -EFAULT;
	*ppos += count;
	return count;
}

ssize_t itest_pci_write(struct vfio_device *vdev, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct itest_dev *d = to_itest(vdev);
	u8 tmp[ITEST_CONFIG_SIZE];
	u64 off, i;
	int ret;

	ret = itest_config_range(*ppos, count, &off);
	if (ret)
		return ret;
	if (copy_from_user(tmp, buf, count))
		return -EFAULT;
	/* Only the command register is writable; the rest reads as built. */
	mutex_lock(&d->lock);
	for (i = 0; i < count; i++)
		if (off + i == PCI_COMMAND || off + i == PCI_COMMAND + 1)
			d->config[off + i] = tmp[i];
	mutex_unlock(&d->lock);
	*ppos += count;
	return count;
}
