// SPDX-License-Identifier: GPL-2.0
/*
 * itest_mig.c - vfio migration v2 for the test devices.
 *
 * Each device's state is small and checkable: a 64-byte blob (magic, the
 * device's name, a random token drawn at load time) that pre-copy carries
 * as its initial bytes, and a 16-byte trailer (magic, the count of DMA
 * logging reports so far) that STOP_COPY adds. The destination device
 * accepts a state only when both magics and the length are right, and
 * keeps what it loaded for the 'migration' debugfs file, so a test can
 * check that the state arrived intact: the destination's loaded_token is
 * the source's token.
 *
 * The arcs are those the core's vfio_mig_get_next_state() asks of a driver
 * with STOP_COPY, P2P and PRE_COPY (see the comment above its table): this
 * file steps through them one at a time, as the in-tree drivers do.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "itest.h"

#define ITEST_BLOB_MAGIC	"ITSTATE1"
#define ITEST_TRAILER_MAGIC	"ITFINAL1"

struct itest_blob {
	char magic[8];
	char name[48];
	__le64 token;
};

struct itest_trailer {
	char magic[8];
	__le64 reports;
};

#define ITEST_BLOB_SIZE		sizeof(struct itest_blob)
#define ITEST_STATE_SIZE	(sizeof(struct itest_blob) + sizeof(struct itest_trailer))

struct itest_mig_file {
	struct itest_dev *d;
	struct file *filp;
	/* Serialises read/write/ioctl against the state machine. */
	struct mutex lock;
	u8 buf[ITEST_STATE_MAX];
	size_t len;		/* valid bytes: what can be read, or was written */
	size_t pos;		/* read position (saving) */
	bool precopy;		/* a temporary end of stream: ENOMSG */
	bool disabled;		/* the state machine left this stream */
};

static void itest_file_disable(struct itest_mig_file *f)
{
	mutex_lock(&f->lock);
	f->disabled = true;
	mutex_unlock(&f->lock);
}

static ssize_t itest_save_read(struct file *filp, char __user *buf,
			       size_t len, loff_t *pos)
{
	struct itest_mig_file *f = filp->private_data;
	ssize_t ret;
	size_t n;

	if (pos)
		return -ESPIPE;
	mutex_lock(&f->lock);
	if (f->disabled) {
		ret = -ENODEV;
		goto out;
	}
	if (f->pos == f->len) {
		/* pre-copy data exhausted for now; STOP_COPY: end of stream */
		ret = f->precopy ? -ENOMSG : 0;
		goto out;
	}
	n = min(len, f->len - f->pos);
	if (copy_to_user(buf, f->buf + f->pos, n)) {
		ret = -EFAULT;
		goto out;
	}
	f->pos += n;
	ret = n;
	mutex_lock(&f->d->mig_lock);
	f->d->saved_bytes += n;
	mutex_unlock(&f->d->mig_lock);
out:
	mutex_unlock(&f->lock);
	return ret;
}

#ifdef ITEST_HAVE_PRECOPY
static long itest_save_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct itest_mig_file *f = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	long ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	mutex_lock(&f->lock);
	/* Valid only in the PRE_COPY states. */
	if (f->disabled || !f->precopy) {
		ret = -EINVAL;
		goto out;
	}
	info.initial_bytes = f->pos < ITEST_BLOB_SIZE ? ITEST_BLOB_SIZE - f->pos : 0;
	info.dirty_bytes = 0;
	info.flags = 0;
out:
	mutex_unlock(&f->lock);
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}
#endif

static ssize_t itest_resume_write(struct file *filp, const char __user *buf,
				  size_t len, loff_t *pos)
{
	struct itest_mig_file *f = filp->private_data;
	ssize_t ret;

	if (pos)
		return -ESPIPE;
	mutex_lock(&f->lock);
	if (f->disabled) {
		ret = -ENODEV;
	} else if (len > sizeof(f->buf) - f->len) {
		/* more than any state of ours: not our device's stream */
		ret = -EINVAL;
	} else if (copy_from_user(f->buf + f->len, buf, len)) {
		ret = -EFAULT;
	} else {
		f->len += len;
		ret = len;
	}
	mutex_unlock(&f->lock);
	return ret;
}

static int itest_mig_release(struct inode *inode, struct file *filp)
{
	struct itest_mig_file *f = filp->private_data;
	struct itest_dev *d = f->d;

	mutex_lock(&d->mig_lock);
	if (d->saving == f)
		d->saving = NULL;
	if (d->resuming == f)
		d->resuming = NULL;
	mutex_unlock(&d->mig_lock);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations itest_save_fops = {
	.owner = THIS_MODULE,
	.read = itest_save_read,
#ifdef ITEST_HAVE_PRECOPY
	.unlocked_ioctl = itest_save_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
#endif
	.release = itest_mig_release,
};

static const struct file_operations itest_resume_fops = {
	.owner = THIS_MODULE,
	.write = itest_resume_write,
	.release = itest_mig_release,
};

static struct itest_mig_file *itest_file_new(struct itest_dev *d, bool save)
{
	struct itest_mig_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return ERR_PTR(-ENOMEM);
	mutex_init(&f->lock);
	f->d = d;
	f->filp = anon_inode_getfile(save ? "itest_mig_save" : "itest_mig_resume",
				     save ? &itest_save_fops : &itest_resume_fops,
				     f, save ? O_RDONLY : O_WRONLY);
	if (IS_ERR(f->filp)) {
		int ret = PTR_ERR(f->filp);

		mutex_destroy(&f->lock);
		kfree(f);
		return ERR_PTR(ret);
	}
	stream_open(f->filp->f_inode, f->filp);
	return f;
}

/* Called with d->mig_lock held; the report count needs d->lock. */
static void itest_put_trailer(struct itest_dev *d, struct itest_mig_file *f)
{
	struct itest_trailer t = { .magic = ITEST_TRAILER_MAGIC };
	u64 reports;

	mutex_lock(&d->lock);
	reports = d->reports;
	mutex_unlock(&d->lock);
	t.reports = cpu_to_le64(reports);
	mutex_lock(&f->lock);
	memcpy(f->buf + f->len, &t, sizeof(t));
	f->len += sizeof(t);
	f->precopy = false;
	mutex_unlock(&f->lock);
}

static struct file *itest_save_open(struct itest_dev *d, bool precopy)
{
	struct itest_blob b = { .magic = ITEST_BLOB_MAGIC };
	struct itest_mig_file *f;

	f = itest_file_new(d, true);
	if (IS_ERR(f))
		return ERR_CAST(f);
	strscpy(b.name, dev_name(d->parent), sizeof(b.name));
	b.token = cpu_to_le64(d->token);
	memcpy(f->buf, &b, sizeof(b));
	f->len = sizeof(b);
	f->precopy = precopy;
	if (!precopy)
		itest_put_trailer(d, f);
	d->saving = f;
	d->saves++;
	return f->filp;
}

/* RESUMING -> STOP: accept the state written, or refuse it. */
static int itest_load(struct itest_dev *d)
{
	struct itest_mig_file *f = d->resuming;
	struct itest_trailer t;
	struct itest_blob b;
	int ret = 0;

	if (!f)
		return -EINVAL;
	mutex_lock(&f->lock);
	if (f->len != ITEST_STATE_SIZE) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(&b, f->buf, sizeof(b));
	memcpy(&t, f->buf + sizeof(b), sizeof(t));
	if (memcmp(b.magic, ITEST_BLOB_MAGIC, sizeof(b.magic)) ||
	    memcmp(t.magic, ITEST_TRAILER_MAGIC, sizeof(t.magic)) ||
	    !memchr(b.name, '\0', sizeof(b.name))) {
		ret = -EINVAL;
		goto out;
	}
	strscpy(d->loaded_from, b.name, sizeof(d->loaded_from));
	d->loaded_token = le64_to_cpu(b.token);
	d->loaded_reports = le64_to_cpu(t.reports);
out:
	f->disabled = true;
	mutex_unlock(&f->lock);
	d->resuming = NULL;
	if (ret)
		d->load_errors++;
	else
		d->loads++;
	return ret;
}

static void itest_save_close(struct itest_dev *d)
{
	if (d->saving) {
		itest_file_disable(d->saving);
		d->saving = NULL;
	}
}

/* One arc of the state machine; a new data file, NULL, or an error. */
static struct file *itest_step(struct itest_dev *d,
			       enum vfio_device_mig_state cur,
			       enum vfio_device_mig_state next)
{
	int ret;

	/* Arcs that change nothing a VMM can see of this device. */
	if ((cur == VFIO_DEVICE_STATE_RUNNING && next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && next == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RUNNING_P2P))
		return NULL;

	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_STOP_COPY)
		return itest_save_open(d, false);
	if (cur == VFIO_DEVICE_STATE_STOP_COPY && next == VFIO_DEVICE_STATE_STOP) {
		itest_save_close(d);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RESUMING) {
		struct itest_mig_file *f = itest_file_new(d, false);

		if (IS_ERR(f))
			return ERR_CAST(f);
		d->resuming = f;
		return f->filp;
	}
	if (cur == VFIO_DEVICE_STATE_RESUMING && next == VFIO_DEVICE_STATE_STOP) {
		ret = itest_load(d);
		return ret ? ERR_PTR(ret) : NULL;
	}
#ifdef ITEST_HAVE_PRECOPY
	if ((cur == VFIO_DEVICE_STATE_PRE_COPY && next == VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P && next == VFIO_DEVICE_STATE_PRE_COPY))
		return NULL;
	if ((cur == VFIO_DEVICE_STATE_RUNNING && next == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P && next == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return itest_save_open(d, true);
	if ((cur == VFIO_DEVICE_STATE_PRE_COPY && next == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P && next == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		itest_save_close(d);
		return NULL;
	}
	if ((cur == VFIO_DEVICE_STATE_PRE_COPY || cur == VFIO_DEVICE_STATE_PRE_COPY_P2P) &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		/* the pre-copy stream goes on: the same fd, now with an end */
		if (!d->saving)
			return ERR_PTR(-EINVAL);
		itest_put_trailer(d, d->saving);
		return NULL;
	}
#endif
	return ERR_PTR(-EINVAL);
}

static struct file *itest_set_state(struct vfio_device *vdev,
				    enum vfio_device_mig_state new_state)
{
	struct itest_dev *d = to_itest(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&d->mig_lock);
	while (d->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, d->mig_state, new_state, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = itest_step(d, d->mig_state, next);
		if (IS_ERR(res))
			break;
		d->mig_state = next;
		/* only the last arc of a combination may hand out a file */
		if (WARN_ON(res && next != new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&d->mig_lock);
	return res;
}

static int itest_get_state(struct vfio_device *vdev,
			   enum vfio_device_mig_state *state)
{
	struct itest_dev *d = to_itest(vdev);

	mutex_lock(&d->mig_lock);
	*state = d->mig_state;
	mutex_unlock(&d->mig_lock);
	return 0;
}

#ifdef ITEST_HAVE_DATA_SIZE
static int itest_get_data_size(struct vfio_device *vdev,
			       unsigned long *stop_copy_length)
{
	*stop_copy_length = ITEST_STATE_SIZE;
	return 0;
}
#endif

#ifndef ITEST_HAVE_DATA_SIZE
/*
 * 6.1 has no VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: the core learnt it in 6.2
 * (vfio_ioctl_device_feature_migration_data_size() in vfio_main.c).
 * Without an answer QEMU takes the device's stop-copy size to be
 * VFIO_MIG_STOP_COPY_SIZE, 100 GiB (hw/vfio/migration.c), and no
 * migration of it ever fits a downtime limit. 6.1's core hands a feature
 * it does not know to the driver's device_feature op, so the stand-in
 * device answers the query itself, with the uapi of 6.2, as a backport of
 * the feature to a driver would. The migrations QEMU then runs on 6.1
 * read the same bitmaps through 6.1's own iova_bitmap code.
 */
#define ITEST_FEATURE_MIG_DATA_SIZE	9

struct itest_mig_data_size {
	__aligned_u64 stop_copy_length;
};

int itest_device_feature(struct vfio_device *vdev, u32 flags,
			 void __user *arg, size_t argsz)
{
	struct itest_mig_data_size size = {
		.stop_copy_length = ITEST_STATE_SIZE,
	};
	int ret;

	if ((flags & VFIO_DEVICE_FEATURE_MASK) != ITEST_FEATURE_MIG_DATA_SIZE)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 sizeof(size));
	if (ret != 1)
		return ret;
	if (copy_to_user(arg, &size, sizeof(size)))
		return -EFAULT;
	return 0;
}
#endif

static const struct vfio_migration_ops itest_mig_ops = {
	.migration_set_state = itest_set_state,
	.migration_get_state = itest_get_state,
#ifdef ITEST_HAVE_DATA_SIZE
	.migration_get_data_size = itest_get_data_size,
#endif
};

void itest_mig_init(struct itest_dev *d)
{
	mutex_init(&d->mig_lock);
	d->mig_state = VFIO_DEVICE_STATE_RUNNING;
	d->token = get_random_u64();
	d->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
#ifdef ITEST_HAVE_PRECOPY
	d->vdev.migration_flags |= VFIO_MIGRATION_PRE_COPY;
#endif
	d->vdev.mig_ops = &itest_mig_ops;
}

/* Reset and close: back to RUNNING, every data stream ended. */
void itest_mig_reset(struct itest_dev *d)
{
	mutex_lock(&d->mig_lock);
	itest_save_close(d);
	if (d->resuming) {
		itest_file_disable(d->resuming);
		d->resuming = NULL;
	}
	d->mig_state = VFIO_DEVICE_STATE_RUNNING;
	mutex_unlock(&d->mig_lock);
}

/* A new open: nothing loaded yet in this session. */
void itest_mig_open(struct itest_dev *d)
{
	mutex_lock(&d->mig_lock);
	d->loaded_from[0] = '\0';
	d->loaded_token = 0;
	d->loaded_reports = 0;
	mutex_unlock(&d->mig_lock);
}

static const char *itest_state_name(enum vfio_device_mig_state s)
{
	switch (s) {
	case VFIO_DEVICE_STATE_ERROR: return "error";
	case VFIO_DEVICE_STATE_STOP: return "stop";
	case VFIO_DEVICE_STATE_RUNNING: return "running";
	case VFIO_DEVICE_STATE_STOP_COPY: return "stop_copy";
	case VFIO_DEVICE_STATE_RESUMING: return "resuming";
	case VFIO_DEVICE_STATE_RUNNING_P2P: return "running_p2p";
#ifdef ITEST_HAVE_PRECOPY
	case VFIO_DEVICE_STATE_PRE_COPY: return "pre_copy";
	case VFIO_DEVICE_STATE_PRE_COPY_P2P: return "pre_copy_p2p";
#endif
	default: break;
	}
	return "?";
}

/* debugfs 'migration': key value lines, for the tests. */
int itest_mig_show(struct seq_file *m, void *v)
{
	struct itest_dev *d = m->private;

	mutex_lock(&d->mig_lock);
	seq_printf(m, "state %s\ntoken 0x%016llx\nsaves %llu\nsaved_bytes %llu\n",
		   itest_state_name(d->mig_state), d->token, d->saves,
		   d->saved_bytes);
	seq_printf(m, "loads %llu\nload_errors %llu\nloaded_from %s\n",
		   d->loads, d->load_errors,
		   d->loaded_from[0] ? d->loaded_from : "-");
	seq_printf(m, "loaded_token 0x%016llx\nloaded_reports %llu\nresets %llu\n",
		   d->loaded_token, d->loaded_reports, d->resets);
	mutex_unlock(&d->mig_lock);
	return 0;
}
