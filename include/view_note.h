/* SPDX-License-Identifier: GPL-2.0 */
/*
 * view_note.h - a line of text the view shows under its header, read
 * from a file at every interval (--note-file): what a workload, a test
 * harness or an operator says is going on ("round 3: a migration that
 * does not converge, sync 4 of 5"). The view does not interpret it.
 */
#ifndef IOVATOP_VIEW_NOTE_H
#define IOVATOP_VIEW_NOTE_H

#include <stddef.h>

#define VIEW_NOTE_LEN	256

/*
 * The last line of path that is not blank, into buf (at most len - 1
 * bytes of it), with control characters (escape sequences, tabs) made
 * blanks so that nothing in the file can steer the terminal. "" when the
 * file is missing or empty: a writer may not have started yet. 0, or
 * -errno when path exists and cannot be read.
 */
int view_note_read(const char *path, char *buf, size_t len);

#endif /* IOVATOP_VIEW_NOTE_H */
