/* SPDX-License-Identifier: GPL-2.0 */
/*
 * icount_mark.h - the marker instructions the overhead bench puts around
 * a report ioctl for the QEMU instruction-counting plugin
 * (bench/vm/icount_plugin.c). Each is a 7-byte x86 NOP, "nopl
 * disp32(%rax)", whose displacement says which mark it is: harmless on
 * any x86 CPU, and unlike anything a compiler emits.
 */
#ifndef ICOUNT_MARK_H
#define ICOUNT_MARK_H

/* the bytes before the displacement: 0f 1f /0 with mod 10, rm rax */
#define ICOUNT_MARK_OP0		0x0f
#define ICOUNT_MARK_OP1		0x1f
#define ICOUNT_MARK_MODRM	0x80
#define ICOUNT_MARK_LEN		7

/* the displacements: "iova" with the mark's kind in the low byte */
#define ICOUNT_MARK_BEGIN	0x69760001
#define ICOUNT_MARK_END		0x69760002

#define ICOUNT_STR_(x)		#x
#define ICOUNT_STR(x)		ICOUNT_STR_(x)

#if defined(__x86_64__)
/* a compiler barrier too: the ioctl may not move across a mark */
#define icount_mark(disp) \
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80\n\t.long " ICOUNT_STR(disp) ::: "memory")
#else
#define icount_mark(disp) do { } while (0)
#endif

#endif /* ICOUNT_MARK_H */
