/* SPDX-License-Identifier: GPL-2.0 */
/*
 * le.h - little-endian fields, byte by byte: the trace file's header and
 * end block, the user bitmaps --verify reads back and --dump-bitmaps
 * writes (the kernel lays a bitmap out as u64 words, little-endian on
 * every architecture it runs vfio dirty tracking on). Whole and correct on
 * any host, whatever its byte order or alignment.
 */
#ifndef IOVATOP_LE_H
#define IOVATOP_LE_H

#include <stdint.h>

static inline void le_put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void le_put64(unsigned char *p, uint64_t v)
{
	le_put32(p, (uint32_t)v);
	le_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t le_get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le_get64(const unsigned char *p)
{
	return le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

#endif /* IOVATOP_LE_H */
