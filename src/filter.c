// SPDX-License-Identifier: GPL-2.0
/*
 * filter.c - what a filter string selects (include/filter.h). A bare
 * substring made "/3b" find a UUID with "83b8" in it; a bare word now
 * matches at the start of a word of the name, and dev= keeps the
 * substring for whoever wants it. No allocation: snapshots call this for
 * every device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "model.h"

#define TERM_MAX	64

enum key { K_WORD, K_DEV, K_PID, K_COMM, K_PATH, K_BAD };

static const struct {
	const char *name;
	enum key key;
} keys[] = {
	{ "dev=", K_DEV }, { "pid=", K_PID }, { "comm=", K_COMM },
	{ "path=", K_PATH },
};

static bool word_sep(char c)
{
	return c == ' ' || c == ':' || c == '-' || c == '.' || c == '/';
}

/* The next blank-separated term of *p into term; its key and value. */
static bool next_term(const char **p, char *term, enum key *key,
		      const char **val)
{
	const char *s = *p, *e;
	size_t n, i;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return false;
	for (e = s; *e && *e != ' ' && *e != '\t'; e++)
		;
	n = (size_t)(e - s) < TERM_MAX - 1 ? (size_t)(e - s) : TERM_MAX - 1;
	memcpy(term, s, n);
	term[n] = '\0';
	*p = e;
	*key = K_WORD;
	*val = term;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t l = strlen(keys[i].name);

		if (!strncmp(term, keys[i].name, l)) {
			*key = keys[i].key;
			*val = term + l;
			return true;
		}
	}
	if (strchr(term, '='))
		*key = K_BAD;
	return true;
}

static bool word_prefix(const char *name, const char *text)
{
	size_t n = strlen(text);
	const char *p;

	for (p = name; (p = strstr(p, text)); p++)
		if (p == name || word_sep(p[-1]))
			return true;
	return n == 0;
}

static bool parse_pid(const char *v, unsigned long *pid)
{
	char *end;

	errno = 0;
	*pid = strtoul(v, &end, 10);
	return *v && !*end && !errno && *pid <= 0xffffffffu;
}

static bool term_match(enum key key, const char *v, const struct model_row *r)
{
	unsigned long pid;
	size_t n;

	switch (key) {
	case K_WORD:
		return word_prefix(r->name, v);
	case K_DEV:
		return strstr(r->name, v) != NULL;
	case K_PID:
		return parse_pid(v, &pid) && pid == r->pid;
	case K_COMM:
		n = strlen(v);
		if (n && v[n - 1] == '*')
			return !strncmp(r->comm, v, n - 1);
		return !strncmp(r->comm, v, IOVA_COMM_LEN) && n < IOVA_COMM_LEN;
	case K_PATH:
		return (!strcmp(v, "vfio") && r->path == IOVA_PATH_VFIO) ||
		       (!strcmp(v, "iommufd") && r->path == IOVA_PATH_IOMMUFD);
	default:
		return false;	/* a term that means nothing matches nothing */
	}
}

bool filter_match(const char *filter, const struct model_row *row)
{
	char term[TERM_MAX];
	const char *p = filter, *v;
	enum key key;

	if (!p)
		return true;
	while (next_term(&p, term, &key, &v))
		if (!term_match(key, v, row))
			return false;
	return true;
}

int filter_check(const char *filter, char *err, size_t errlen)
{
	char term[TERM_MAX];
	const char *p = filter, *v;
	unsigned long pid;
	enum key key;

	while (p && next_term(&p, term, &key, &v)) {
		if (key == K_BAD) {
			snprintf(err, errlen, "the filter term '%s' has an unknown key; use dev=, pid=, comm= or path=, or a word of the device name.",
				 term);
			return -1;
		}
		if (key == K_PID && !parse_pid(v, &pid)) {
			snprintf(err, errlen, "the filter term '%s' needs a process id (pid=1234).",
				 term);
			return -1;
		}
		if (key == K_PATH && strcmp(v, "vfio") && strcmp(v, "iommufd")) {
			snprintf(err, errlen, "the filter term '%s' names no path; use path=vfio or path=iommufd.",
				 term);
			return -1;
		}
	}
	return 0;
}
