// SPDX-License-Identifier: GPL-2.0
/*
 * iovatop_test - vfio devices whose DMA logging dirties what the test
 * workload programs, reported through the kernel's real iova_bitmap_set().
 *
 * The in-tree mtty sample has log ops that dirty nothing, and these test
 * machines have no device that does DMA logging, so this driver plays the
 * part mlx5 or pds play on real hardware: each device registered here
 * answers VFIO_DEVICE_FEATURE_DMA_LOGGING_{START,STOP,REPORT}, and on a
 * report calls iova_bitmap_set() for the pages its current program says
 * the device wrote.
 *
 * Per device, under /sys/kernel/debug/iovatop_test/<name>/:
 *   program  write: up to ITP_MAX_STREAMS streams separated by ';', each
 *            "kind=sweep|random|scatter|oor base=0x.. size=0x.. page=N count=N
 *            run=N seed=N mask=N"; "none" dirties nothing. Read: current.
 *   sets     read: the iova_bitmap_set() calls made since the last read,
 *            one "0xIOVA 0xLENGTH" a line; reading drains the log.
 *   state    read: logging on/off, page size, ranges, counters.
 *   hop      read/write: N moves the reporting task to the next online CPU
 *            after every N iova_bitmap_set() calls of a report, in the
 *            middle of it (0, the default: never); its affinity is put
 *            back when the report ends. For the tracer's per-CPU state.
 *   reports  read: one line per DMA logging report since the last read,
 *            "0xIOVA 0xLENGTH PAGE_SIZE CALLS PAGES"; reading drains it.
 *   migration read: migration state, this device's token, what it saved
 *            and what it loaded (itest_mig.c).
 * /sys/kernel/debug/iovatop_test/devices lists "name group cdev" per device.
 *
 * Each device is also a vfio-pci device with migration v2 (itest_pci.c,
 * itest_mig.c), so QEMU's vfio-pci can assign it with
 * -device vfio-pci,sysfsdev=/sys/bus/platform/devices/NAME and migrate it.
 *
 * The device names look like what users see on real hosts: PCI VFs by
 * bus/device/function, and an mdev-style UUID. They are platform devices
 * under /sys/devices/platform/.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/iova_bitmap.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vfio.h>
#include <linux/vmalloc.h>

#include "itest.h"

#define ITEST_MAX_DEVS		8

static const char *const default_names[ITEST_MAX_DEVS] = {
	"0000:3b:00.2", "0000:3b:00.3", "0000:af:00.1",
	"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", "0000:af:00.2",
	"0000:d8:00.4", "0000:d8:00.5", "0000:5e:00.1",
};

static unsigned int ndevs = 5;
module_param(ndevs, uint, 0444);
MODULE_PARM_DESC(ndevs, "number of test vfio devices (1-8, default 5)");

static unsigned int log_max = 1u << 16;
module_param(log_max, uint, 0444);
MODULE_PARM_DESC(log_max, "iova_bitmap_set calls each device logs between reads of 'sets'");

static struct dentry *itest_debugfs;
static struct itest_dev *itest_devs[ITEST_MAX_DEVS];

static int itest_log_start(struct vfio_device *vdev,
			   struct rb_root_cached *ranges, u32 nnodes,
			   u64 *page_size)
{
	struct itest_dev *d = to_itest(vdev);
	struct interval_tree_node *node;
	int ret = 0;

	mutex_lock(&d->lock);
	/* The core leaves it to drivers to refuse a second start. */
	if (d->logging) {
		ret = -EBUSY;
		goto out;
	}
	if (nnodes > ITEST_MAX_RANGES) {
		ret = -E2BIG;
		goto out;
	}
	d->nranges = 0;
	for (node = interval_tree_iter_first(ranges, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		d->ranges[d->nranges].iova = node->start;
		d->ranges[d->nranges].length = node->last - node->start + 1;
		d->nranges++;
	}
	d->page_size = *page_size;
	d->logging = true;
out:
	mutex_unlock(&d->lock);
	return ret;
}

static int itest_log_stop(struct vfio_device *vdev)
{
	struct itest_dev *d = to_itest(vdev);

	mutex_lock(&d->lock);
	d->logging = false;
	mutex_unlock(&d->lock);
	return 0;
}

struct itest_emit {
	struct itest_dev *d;
	struct iova_bitmap *dirty;
	unsigned long iova;	/* the window for_each handed us */
	unsigned long length;
	bool clip;
	u64 calls;		/* this report's calls and pages */
	u64 pages;
};

static void itest_record(struct itest_dev *d, u64 iova, u64 length)
{
	if (d->nlog < log_max) {
		d->log[d->nlog].iova = iova;
		d->log[d->nlog].length = length;
		d->nlog++;
	} else {
		d->dropped++;
	}
	d->calls++;
}

/*
 * Move the calling task to the next online CPU now, in the middle of
 * iova_bitmap_for_each(): what the scheduler may do to any VMM thread,
 * made certain. set_cpus_allowed_ptr() returns once the task runs there.
 */
static void itest_hop(struct itest_dev *d)
{
	unsigned int cpu = cpumask_next(raw_smp_processor_id(), cpu_online_mask);

	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	if (!set_cpus_allowed_ptr(current, cpumask_of(cpu)))
		d->hops++;
}

static int itest_emit(u64 iova, u64 length, void *ctx)
{
	struct itest_emit *e = ctx;
	u64 wend = (u64)e->iova + e->length;

	/*
	 * A device only reports what lies in the range it was asked about;
	 * on 6.1 that is one window of a larger report, and the same list is
	 * replayed, clipped, for each window.
	 */
	if (e->clip) {
		u64 end = iova + length;

		if (end <= e->iova || iova >= wend)
			return 0;
		if (iova < e->iova)
			iova = e->iova;
		if (end > wend)
			end = wend;
		length = end - iova;
	}
	iova_bitmap_set(e->dirty, iova, length);
	itest_record(e->d, iova, length);
	e->calls++;
	if (e->d->hop && e->calls % e->d->hop == 0)
		itest_hop(e->d);
	if (length && e->d->page_size)
		e->pages += (ALIGN(iova + length, e->d->page_size) -
			     ALIGN_DOWN(iova, e->d->page_size)) / e->d->page_size;
	return 0;
}

static int itest_log_read_and_clear(struct vfio_device *vdev,
				    unsigned long iova, unsigned long length,
				    struct iova_bitmap *dirty)
{
	struct itest_dev *d = to_itest(vdev);
	struct itest_emit e = {
		.d = d, .dirty = dirty, .iova = iova, .length = length,
	};
	cpumask_var_t allowed;
	bool hopping = false;
	unsigned int i;
	int ret = 0;

	mutex_lock(&d->lock);
	if (!d->logging) {
		ret = -EINVAL;
		goto out;
	}
	if (d->hop) {
		if (!alloc_cpumask_var(&allowed, GFP_KERNEL)) {
			ret = -ENOMEM;
			goto out;
		}
		cpumask_copy(allowed, current->cpus_ptr);
		hopping = true;
	}
	d->reports++;
	for (i = 0; i < d->nstreams && !ret; i++) {
		const struct itp_stream *s = &d->streams[i];

		/*
		 * Out-of-range calls are made unclipped, once per report: in
		 * the window that starts at the range they are placed around.
		 */
		e.clip = s->kind != ITP_OOR;
		if (!e.clip && s->base != iova)
			continue;
		ret = itp_generate(s, itest_emit, &e);
	}
	if (d->nrlog < ITEST_REPORT_LOG) {
		d->rlog[d->nrlog++] = (struct itest_report){
			.iova = iova, .length = length,
			.page_size = d->page_size, .calls = e.calls,
			.pages = e.pages,
		};
	} else {
		d->rdropped++;
	}
	if (hopping) {
		set_cpus_allowed_ptr(current, allowed);
		free_cpumask_var(allowed);
	}
out:
	mutex_unlock(&d->lock);
	return ret;
}

static const struct vfio_log_ops itest_log_ops = {
	.log_start = itest_log_start,
	.log_stop = itest_log_stop,
	.log_read_and_clear = itest_log_read_and_clear,
};

static int itest_init_dev(struct vfio_device *vdev)
{
	struct itest_dev *d = to_itest(vdev);

	mutex_init(&d->lock);
	d->log = vmalloc_array(log_max, sizeof(*d->log));
	if (!d->log)
		return -ENOMEM;
	d->rlog = vmalloc_array(ITEST_REPORT_LOG, sizeof(*d->rlog));
	if (!d->rlog) {
		vfree(d->log);
		return -ENOMEM;
	}
	strscpy(d->program, "none", sizeof(d->program));
	vdev->log_ops = &itest_log_ops;
	itest_pci_init(d);
	itest_mig_init(d);
	return 0;
}

static void itest_release_dev(struct vfio_device *vdev)
{
	struct itest_dev *d = to_itest(vdev);

	vfree(d->rlog);
	vfree(d->log);
	mutex_destroy(&d->mig_lock);
	mutex_destroy(&d->lock);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	/* 6.1 leaves the final free to the driver's release. */
	vfio_free_device(vdev);
#endif
}

static int itest_open_device(struct vfio_device *vdev)
{
	/* What a destination loaded belongs to the session that loaded it. */
	itest_mig_open(to_itest(vdev));
	return 0;
}

static void itest_close_device(struct vfio_device *vdev)
{
	/*
	 * A process that dies mid-session must not leave logging on, nor a
	 * migration half done for the next one to open the device.
	 */
	itest_log_stop(vdev);
	itest_mig_reset(to_itest(vdev));
}

static const struct vfio_device_ops itest_dev_ops = {
	.name = "iovatop-test",
	.init = itest_init_dev,
	.release = itest_release_dev,
	.open_device = itest_open_device,
	.close_device = itest_close_device,
	.ioctl = itest_pci_ioctl,
#ifndef ITEST_HAVE_DATA_SIZE
	.device_feature = itest_device_feature,
#endif
#ifdef ITEST_REGION_INFO_CAPS
	.get_region_info_caps = itest_pci_region_info_caps,
#endif
	.read = itest_pci_read,
	.write = itest_pci_write,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
#endif
};

/* ---- debugfs: the workload's programming interface ---- */

static int itest_parse_stream(char *text, struct itp_stream *s)
{
	char *tok;

	memset(s, 0, sizeof(*s));
	s->run = 1;
	while ((tok = strsep(&text, " \t\n"))) {
		char *val;
		u64 v;

		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "kind")) {
			if (!strcmp(val, "sweep"))
				s->kind = ITP_SWEEP;
			else if (!strcmp(val, "random"))
				s->kind = ITP_RANDOM;
			else if (!strcmp(val, "oor"))
				s->kind = ITP_OOR;
			else if (!strcmp(val, "scatter"))
				s->kind = ITP_SCATTER;
			else
				return -EINVAL;
			continue;
		}
		if (kstrtoull(val, 0, &v))
			return -EINVAL;
		if (!strcmp(tok, "base"))
			s->base = v;
		else if (!strcmp(tok, "size"))
			s->size = v;
		else if (!strcmp(tok, "page"))
			s->page = v;
		else if (!strcmp(tok, "count"))
			s->count = v;
		else if (!strcmp(tok, "run"))
			s->run = v;
		else if (!strcmp(tok, "seed"))
			s->seed = v;
		else if (!strcmp(tok, "mask"))
			s->mask = v;
		else
			return -EINVAL;
	}
	return s->kind == ITP_NONE ? -EINVAL : 0;
}

static ssize_t program_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct itest_dev *d = file->private_data;
	struct itp_stream streams[ITP_MAX_STREAMS];
	char *buf, *cur, *part;
	unsigned int n = 0;
	const char *why;
	int ret;

	if (len >= ITEST_PROGRAM_MAX)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	strim(buf);
	cur = buf;
	if (strcmp(buf, "none")) {
		while ((part = strsep(&cur, ";"))) {
			if (!*strim(part))
				continue;
			if (n == ITP_MAX_STREAMS) {
				ret = -E2BIG;
				goto out;
			}
			ret = itest_parse_stream(part, &streams[n]);
			if (ret)
				goto out;
			why = itp_invalid(&streams[n]);
			if (why) {
				dev_warn(d->parent, "iovatop_test: bad program: %s\n", why);
				ret = -EINVAL;
				goto out;
			}
			n++;
		}
	}
	mutex_lock(&d->lock);
	memcpy(d->streams, streams, n * sizeof(streams[0]));
	d->nstreams = n;
	if (copy_from_user(d->program, ubuf, len)) {
		mutex_unlock(&d->lock);
		ret = -EFAULT;
		goto out;
	}
	d->program[len] = '\0';
	strim(d->program);
	mutex_unlock(&d->lock);
	ret = len;
out:
	kfree(buf);
	return ret;
}

static ssize_t program_read(struct file *file, char __user *ubuf, size_t len,
			    loff_t *ppos)
{
	struct itest_dev *d = file->private_data;
	ssize_t ret;
	char *buf;

	mutex_lock(&d->lock);
	buf = kasprintf(GFP_KERNEL, "%s\n", d->program);
	mutex_unlock(&d->lock);
	if (!buf)
		return -ENOMEM;
	ret = simple_read_from_buffer(ubuf, len, ppos, buf, strlen(buf));
	kfree(buf);
	return ret;
}

static const struct file_operations program_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = program_read,
	.write = program_write,
	.llseek = default_llseek,
};

/* Longest line: "0x" + 16 + " 0x" + 16 + "\n". */
#define ITEST_LINE_MAX	40

static int sets_open(struct inode *inode, struct file *file)
{
	struct itest_dev *d = inode->i_private;
	size_t cap, n = 0;
	unsigned int i;
	char *text;

	mutex_lock(&d->lock);
	cap = (size_t)(d->nlog + 1) * ITEST_LINE_MAX + 1;
	text = kvmalloc(cap, GFP_KERNEL);
	if (!text) {
		mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	text[0] = '\0';
	/* A truncated log must be noticed, never read as the whole truth. */
	if (d->dropped)
		n += scnprintf(text + n, cap - n, "# dropped %llu\n", d->dropped);
	for (i = 0; i < d->nlog; i++)
		n += scnprintf(text + n, cap - n, "0x%llx 0x%llx\n",
			       d->log[i].iova, d->log[i].length);
	d->nlog = 0;
	d->dropped = 0;
	mutex_unlock(&d->lock);
	file->private_data = text;
	return 0;
}

static ssize_t sets_read(struct file *file, char __user *ubuf, size_t len,
			 loff_t *ppos)
{
	const char *text = file->private_data;

	return simple_read_from_buffer(ubuf, len, ppos, text, strlen(text));
}

static int sets_release(struct inode *inode, struct file *file)
{
	kvfree(file->private_data);
	return 0;
}

static const struct file_operations sets_fops = {
	.owner = THIS_MODULE,
	.open = sets_open,
	.read = sets_read,
	.release = sets_release,
	.llseek = default_llseek,
};

static int state_show(struct seq_file *m, void *v)
{
	struct itest_dev *d = m->private;
	unsigned int i;

	mutex_lock(&d->lock);
	seq_printf(m, "logging %d\npage_size %llu\nreports %llu\ncalls %llu\n",
		   d->logging, d->page_size, d->reports, d->calls);
	seq_printf(m, "hop %u\nhops %llu\n", d->hop, d->hops);
	seq_printf(m, "ranges %u\n", d->nranges);
	for (i = 0; i < d->nranges; i++)
		seq_printf(m, "range 0x%llx 0x%llx\n", d->ranges[i].iova,
			   d->ranges[i].length);
	mutex_unlock(&d->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(state);

/* Longest line: five hex or decimal u64 fields. */
#define ITEST_RLINE_MAX	112

static int reports_open(struct inode *inode, struct file *file)
{
	struct itest_dev *d = inode->i_private;
	size_t cap, n = 0;
	unsigned int i;
	char *text;

	mutex_lock(&d->lock);
	cap = (size_t)(d->nrlog + 1) * ITEST_RLINE_MAX + 1;
	text = kvmalloc(cap, GFP_KERNEL);
	if (!text) {
		mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	text[0] = '\0';
	if (d->rdropped)
		n += scnprintf(text + n, cap - n, "# dropped %llu\n", d->rdropped);
	for (i = 0; i < d->nrlog; i++) {
		const struct itest_report *r = &d->rlog[i];

		n += scnprintf(text + n, cap - n, "0x%llx 0x%llx %llu %llu %llu\n",
			       r->iova, r->length, r->page_size, r->calls,
			       r->pages);
	}
	d->nrlog = 0;
	d->rdropped = 0;
	mutex_unlock(&d->lock);
	file->private_data = text;
	return 0;
}

static const struct file_operations reports_fops = {
	.owner = THIS_MODULE,
	.open = reports_open,
	.read = sets_read,
	.release = sets_release,
	.llseek = default_llseek,
};

static int migration_open(struct inode *inode, struct file *file)
{
	return single_open(file, itest_mig_show, inode->i_private);
}

static const struct file_operations migration_fops = {
	.owner = THIS_MODULE,
	.open = migration_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static int devices_show(struct seq_file *m, void *v)
{
	unsigned int i;

	for (i = 0; i < ndevs; i++) {
		struct itest_dev *d = itest_devs[i];
		struct iommu_group *group;
		int id = -1;

		if (!d)
			continue;
		group = iommu_group_get(d->parent);
		if (group) {
			id = iommu_group_id(group);
			iommu_group_put(group);
		}
		seq_printf(m, "%s\t%d\t%s\n", dev_name(d->parent), id,
			   dev_name(&d->vdev.device));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(devices);

/* ---- devices ---- */

/*
 * Platform devices bound to our platform driver: vfio pins the owner of
 * the parent's driver when a device is opened, so the parent must be
 * bound, as a PCI VF is to mlx5_vfio_pci. driver_override binds them by
 * driver name, which leaves the device names free to look like real ones.
 */
static struct platform_device *itest_pdevs[ITEST_MAX_DEVS];

static int itest_probe(struct platform_device *pdev)
{
	struct itest_dev *d;
	unsigned int i;
	int ret;

	for (i = 0; i < ndevs; i++)
		if (!strcmp(dev_name(&pdev->dev), default_names[i]))
			break;
	if (i == ndevs)
		return -ENODEV;
	d = vfio_alloc_device(itest_dev, vdev, &pdev->dev, &itest_dev_ops);
	if (IS_ERR(d))
		return PTR_ERR(d);
	d->parent = &pdev->dev;
	ret = vfio_register_emulated_iommu_dev(&d->vdev);
	if (ret) {
		vfio_put_device(&d->vdev);
		return ret;
	}
	d->dir = debugfs_create_dir(dev_name(&pdev->dev), itest_debugfs);
	debugfs_create_file("program", 0600, d->dir, d, &program_fops);
	debugfs_create_file("sets", 0400, d->dir, d, &sets_fops);
	debugfs_create_file("state", 0400, d->dir, d, &state_fops);
	debugfs_create_file("reports", 0400, d->dir, d, &reports_fops);
	debugfs_create_file("migration", 0400, d->dir, d, &migration_fops);
	debugfs_create_u32("hop", 0600, d->dir, &d->hop);
	platform_set_drvdata(pdev, d);
	itest_devs[i] = d;
	return 0;
}

static void itest_platform_remove(struct platform_device *pdev)
{
	struct itest_dev *d = platform_get_drvdata(pdev);
	unsigned int i;

	for (i = 0; i < ndevs; i++)
		if (itest_devs[i] == d)
			itest_devs[i] = NULL;
	debugfs_remove_recursive(d->dir);
	vfio_unregister_group_dev(&d->vdev);
	vfio_put_device(&d->vdev);
}

static struct platform_driver itest_driver = {
	.probe = itest_probe,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	/* .remove returns void since 0edb555a65d1; 6.13 dropped .remove_new */
	.remove = itest_platform_remove,
#else
	.remove_new = itest_platform_remove,
#endif
	.driver = {
		.name = "iovatop_test",
	},
};

static void itest_remove_pdevs(void)
{
	unsigned int i;

	for (i = 0; i < ITEST_MAX_DEVS; i++) {
		if (itest_pdevs[i])
			platform_device_unregister(itest_pdevs[i]);
		itest_pdevs[i] = NULL;
	}
}

static int __init itest_init(void)
{
	unsigned int i;
	int ret;

	if (!ndevs || ndevs > ITEST_MAX_DEVS || !log_max)
		return -EINVAL;
	itest_debugfs = debugfs_create_dir("iovatop_test", NULL);
	debugfs_create_file("devices", 0444, itest_debugfs, NULL, &devices_fops);
	ret = platform_driver_register(&itest_driver);
	if (ret)
		goto err_debugfs;
	for (i = 0; i < ndevs; i++) {
		struct platform_device *pdev;

		pdev = platform_device_alloc(default_names[i], PLATFORM_DEVID_NONE);
		if (!pdev) {
			ret = -ENOMEM;
			goto err;
		}
#ifdef ITEST_DEVICE_DRIVER_OVERRIDE
		ret = device_set_driver_override(&pdev->dev, "iovatop_test");
#else
		pdev->driver_override = kstrdup("iovatop_test", GFP_KERNEL);
		ret = pdev->driver_override ? 0 : -ENOMEM;
#endif
		if (ret) {
			platform_device_put(pdev);
			goto err;
		}
		ret = platform_device_add(pdev);
		if (ret) {
			platform_device_put(pdev);
			goto err;
		}
		itest_pdevs[i] = pdev;
		if (!itest_devs[i]) {
			pr_err("iovatop_test: %s did not bind; see the messages above\n",
			       default_names[i]);
			ret = -ENODEV;
			goto err;
		}
	}
	pr_info("iovatop_test: %u vfio devices with DMA logging\n", ndevs);
	return 0;
err:
	itest_remove_pdevs();
	platform_driver_unregister(&itest_driver);
err_debugfs:
	debugfs_remove_recursive(itest_debugfs);
	return ret;
}

static void __exit itest_exit(void)
{
	itest_remove_pdevs();
	platform_driver_unregister(&itest_driver);
	debugfs_remove_recursive(itest_debugfs);
}

module_init(itest_init);
module_exit(itest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio test devices whose DMA logging dirties programmed IOVA");
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
/* namespaces are string literals since cdd30ebb1b9f */
MODULE_IMPORT_NS("IOMMUFD");
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
MODULE_IMPORT_NS(IOMMUFD);
#endif
