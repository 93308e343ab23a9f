/* SPDX-License-Identifier: GPL-2.0 */
/* stands in for <linux/slab.h> when iova_bitmap.c is built in user space */
#include "../../shim.h"
