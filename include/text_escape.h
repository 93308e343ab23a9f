/* SPDX-License-Identifier: GPL-2.0 */
/*
 * text_escape.h - the one escaping of untrusted strings on their way out
 * (src/text_escape.c).
 *
 * Device names, process names (comm), the hostname and the kernel release
 * come from a trace file or from whatever a traced process calls itself:
 * bytes, not text. Written raw to a terminal, an ESC or CSI in them moves
 * the cursor, clears the screen or sets the window title. Every text
 * output (the text report, CSV, the batch view, heatmap titles and their
 * TSV, the bitmap index) passes them through here: printable ASCII stays
 * as it is, a backslash becomes "\\" and every other byte "\xNN", so the
 * output is plain ASCII and the original bytes can be read back from it.
 * JSON has its own escaping (\u00NN) and does not need this.
 */
#ifndef IOVATOP_TEXT_ESCAPE_H
#define IOVATOP_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* The longest escape of one byte ("\xNN"). */
#define TEXT_ESCAPE_MAX		4
/* A buffer that holds the escape of n bytes of input and its NUL. */
#define TEXT_ESCAPED_SIZE(n)	((n) * TEXT_ESCAPE_MAX + 1)

/* Whether byte c leaves as it is. */
static inline int text_escape_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/*
 * Escape s (up to its NUL or max bytes) into buf of len bytes, always
 * NUL-terminated; an escape that does not fit whole is left out. Returns
 * the length written.
 */
size_t text_escape(char *buf, size_t len, const char *s, size_t max);

/* The length text_escape() would write given room enough. */
size_t text_escape_len(const char *s, size_t max);

/* Write the escape of s (up to its NUL or max bytes) to f. */
void text_escape_fputs(FILE *f, const char *s, size_t max);

/*
 * s as one CSV field: escaped as above, then quoted, with its quotes
 * doubled (RFC 4180).
 */
void text_escape_csv(FILE *f, const char *s, size_t max);

#endif /* IOVATOP_TEXT_ESCAPE_H */
