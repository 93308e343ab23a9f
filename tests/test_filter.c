// SPDX-License-Identifier: GPL-2.0
/*
 * test_filter.c - what a filter string selects (src/filter.c): words, not
 * substrings, unless dev= asks for one; pid, comm and path; every term
 * must match; malformed terms are named.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "model.h"

static struct model_row row(const char *name, uint32_t path, uint32_t pid,
			    const char *comm)
{
	struct model_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.path = path;
	r.pid = pid;
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	return r;
}

static void test_words_not_substrings(void **unused)
{
	struct model_row bdf = row("vfio 0000:3b:00.2", IOVA_PATH_VFIO, 83, "qemu-vm1");
	struct model_row uuid = row("vfio 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
				    IOVA_PATH_VFIO, 86, "qemu-vm4");
	struct model_row hwpt = row("iommufd hwpt 18", IOVA_PATH_IOMMUFD, 0, "");

	(void)unused;
	/* the seen failure: /3b also found 83b8f4f2 */
	assert_true(filter_match("3b", &bdf));
	assert_false(filter_match("3b", &uuid));
	assert_true(filter_match("83b8", &uuid));
	assert_true(filter_match("e6bfe0fa1001", &uuid));	/* a group starts a word */
	assert_true(filter_match("0000:3b:00.2", &bdf));
	assert_false(filter_match("b:00", &bdf));
	/* dev= is the substring, for whoever wants it */
	assert_true(filter_match("dev=3b", &uuid));
	assert_true(filter_match("dev=b:00", &bdf));
	assert_true(filter_match("hwpt", &hwpt));
	assert_true(filter_match("vfio", &bdf));
	assert_false(filter_match("vfio", &hwpt));
	assert_true(filter_match("1", &hwpt));		/* "18" starts with 1 */
	assert_false(filter_match("8", &hwpt));
	assert_true(filter_match(NULL, &hwpt));
	assert_true(filter_match("", &hwpt));
	assert_true(filter_match("   ", &hwpt));
}

static void test_keys(void **unused)
{
	struct model_row bdf = row("vfio 0000:3b:00.2", IOVA_PATH_VFIO, 83, "qemu-vm1");
	struct model_row hwpt = row("iommufd hwpt 18", IOVA_PATH_IOMMUFD, 87, "qemu-vm6");

	(void)unused;
	assert_true(filter_match("pid=83", &bdf));
	assert_false(filter_match("pid=8", &bdf));
	assert_false(filter_match("pid=83x", &bdf));
	assert_true(filter_match("comm=qemu-vm1", &bdf));
	assert_false(filter_match("comm=qemu", &bdf));
	assert_true(filter_match("comm=qemu*", &bdf));
	assert_true(filter_match("comm=qemu*", &hwpt));
	assert_false(filter_match("comm=qemu-vm1", &hwpt));
	assert_true(filter_match("path=iommufd", &hwpt));
	assert_false(filter_match("path=iommufd", &bdf));
	assert_true(filter_match("path=vfio", &bdf));
	/* every term must match */
	assert_true(filter_match("pid=83 3b", &bdf));
	assert_false(filter_match("pid=83 3c", &bdf));
	assert_false(filter_match("pid=87 path=vfio", &hwpt));
	/* a key that means nothing matches nothing */
	assert_false(filter_match("foo=1", &bdf));
}

static void test_check(void **unused)
{
	char err[256];

	(void)unused;
	assert_int_equal(filter_check("3b pid=83 comm=qemu* path=vfio dev=00.2",
				      err, sizeof(err)), 0);
	assert_int_equal(filter_check(NULL, err, sizeof(err)), 0);
	assert_int_equal(filter_check("foo=1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'foo=1'"));
	assert_non_null(strstr(err, "dev=, pid=, comm= or path="));
	assert_int_equal(filter_check("pid=qemu", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pid=1234"));
	assert_int_equal(filter_check("path=pci", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "path=vfio"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_not_substrings),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
