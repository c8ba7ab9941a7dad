/* ptc_bc: the on-disk bytecode format (docs/bytecode.md).
 *
 * All integers little-endian, whatever the host.
 *
 *   header   magic "PTCB\r\n\x1a\n", format version, ptc version,
 *            source hash, source size, section count, header CRC
 *   table    (id, offset, length) per section
 *   sections CODE, LINES, KTAB, KDATA, ENTRY, META
 *   trailer  CRC-32 of every byte before it
 *
 * ptc_bc_decode validates everything (lengths, CRCs, opcodes, operands,
 * constant indexes, forward jump targets, entry points, that the code ends
 * in RET) before it returns a program, so the VM never sees bad code.  Any
 * failure is a reason string, never a crash: the cache treats it as a miss.
 */
#ifndef PTC_BC_H
#define PTC_BC_H

#include <stddef.h>
#include <stdint.h>
#include "ptc/prog.h"
#include "ptc/buf.h"

#define PTC_BC_MAGIC          "PTCB\r\n\x1a\n"
#define PTC_BC_FORMAT_VERSION 2u   /* 2: FVAR, filters */
#define PTC_VERSION_STRING    "0.1.0"
#define PTC_VERSION_CODE      0x000100u   /* major<<16 | minor<<8 | patch */

enum {
    PTC_BC_SEC_CODE = 1, PTC_BC_SEC_LINES, PTC_BC_SEC_KTAB, PTC_BC_SEC_KDATA,
    PTC_BC_SEC_ENTRY, PTC_BC_SEC_META, PTC_BC_SEC_COUNT_ = PTC_BC_SEC_META
};

#define PTC_BC_HEADER_SIZE 40u

void ptc_bc_encode(const ptc_prog *p, ptc_buf *out);

/* Decodes and validates.  On success returns a program the caller owns; on
 * failure NULL, with a one-line reason in why (size whylen). */
ptc_prog *ptc_bc_decode(const void *data, size_t len, char *why, size_t whylen);

/* Checks a program's code for the invariants the VM relies on (also applied
 * to compiler output in the tests).  0 on success, else -1 with why. */
int ptc_bc_validate(const ptc_prog *p, char *why, size_t whylen);

#endif
