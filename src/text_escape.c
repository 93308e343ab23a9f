// SPDX-License-Identifier: GPL-2.0
/*
 * text_escape.c - untrusted strings made safe for a terminal, a CSV or a
 * TSV file (include/text_escape.h).
 */
#include <stdio.h>

#include "text_escape.h"

/* The escape of one byte into out (room for TEXT_ESCAPE_MAX); its length. */
static size_t escape_byte(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (text_escape_plain(c)) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	if (c == '\\') {
		out[1] = '\\';
		return 2;
	}
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

size_t text_escape(char *buf, size_t len, const char *s, size_t max)
{
	char e[TEXT_ESCAPE_MAX];
	size_t i, n = 0, k;

	if (!len)
		return 0;
	for (i = 0; i < max && s[i]; i++) {
		k = escape_byte(e, (unsigned char)s[i]);
		if (n + k + 1 > len)
			break;
		for (size_t j = 0; j < k; j++)
			buf[n++] = e[j];
	}
	buf[n] = '\0';
	return n;
}

size_t text_escape_len(const char *s, size_t max)
{
	char e[TEXT_ESCAPE_MAX];
	size_t i, n = 0;

	for (i = 0; i < max && s[i]; i++)
		n += escape_byte(e, (unsigned char)s[i]);
	return n;
}

void text_escape_fputs(FILE *f, const char *s, size_t max)
{
	char e[TEXT_ESCAPE_MAX];
	size_t i;

	for (i = 0; i < max && s[i]; i++)
		fwrite(e, 1, escape_byte(e, (unsigned char)s[i]), f);
}

void text_escape_csv(FILE *f, const char *s, size_t max)
{
	char e[TEXT_ESCAPE_MAX];
	size_t i, k;

	fputc('"', f);
	for (i = 0; i < max && s[i]; i++) {
		k = escape_byte(e, (unsigned char)s[i]);
		if (k == 1 && e[0] == '"')
			fputc('"', f);
		fwrite(e, 1, k, f);
	}
	fputc('"', f);
}
