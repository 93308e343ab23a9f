// SPDX-License-Identifier: GPL-2.0
/*
 * view_note.c - the --note-file line (include/view_note.h). Read by the
 * view's loop at an interval boundary, never while drawing. A writer
 * should replace the file with rename() so that a read never sees half a
 * line.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "view_note.h"

#define TAIL_BYTES	4096	/* the last line is in the file's last 4 KiB */

int view_note_read(const char *path, char *buf, size_t len)
{
	char tail[TAIL_BYTES + 1];
	ssize_t n;
	off_t end;
	size_t i, a, z;
	int fd;

	if (!len)
		return 0;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		end = 0;	/* a pipe or a device: read what comes */
	n = pread(fd, tail, TAIL_BYTES, end > TAIL_BYTES ? end - TAIL_BYTES : 0);
	if (n < 0 && (errno == ESPIPE || errno == EINVAL))
		n = read(fd, tail, TAIL_BYTES);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err == -EAGAIN ? 0 : err;
	}
	close(fd);
	/* the last non-blank line: from its end back to the newline before */
	z = (size_t)n;
	while (z && (tail[z - 1] == '\n' || tail[z - 1] == ' ' ||
		     tail[z - 1] == '\t' || tail[z - 1] == '\r'))
		z--;
	a = z;
	while (a && tail[a - 1] != '\n')
		a--;
	while (a < z && (tail[a] == ' ' || tail[a] == '\t'))
		a++;
	for (i = 0; a + i < z && i + 1 < len; i++) {
		unsigned char c = (unsigned char)tail[a + i];

		buf[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	/* never end inside a UTF-8 character that was cut */
	if (i) {
		size_t p = i;

		while (p && ((unsigned char)buf[p - 1] & 0xc0) == 0x80)
			p--;
		if (p) {
			unsigned char c = (unsigned char)buf[p - 1];
			size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

			if (p - 1 + need > i)
				i = p - 1;
		}
	}
	buf[i] = '\0';
	return 0;
}
