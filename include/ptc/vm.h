/* ptc_vm: runs a context's bytecode against one phone.
 *
 * A phone is a fixed array of slot values (ptc_vm_rec), filled once per phone
 * by the record reader and the [general] evaluation.  The VM neither parses
 * nor allocates on its hot path: it copies constants and slot values into the
 * sink.  Values are inserted as they are and never scanned again.
 *
 * The program must have passed ptc_bc_validate (or come from the compiler).
 *
 * Ownership: the VM owns nothing; program, phone and sink are borrowed.
 * A ptc_vm_keys owns its buffers (ptc_vm_keys_free, NULL accepted), which a
 * phone's MODEL and VENDOR slots may point into.
 */
#ifndef PTC_VM_H
#define PTC_VM_H

#include <stdint.h>
#include "ptc/prog.h"
#include "ptc/sink.h"

typedef struct ptc_vm_rec {
    const char *v[PTC_SLOT_COUNT];
    uint32_t    n[PTC_SLOT_COUNT];
} ptc_vm_rec;

static inline void ptc_vm_set(ptc_vm_rec *r, int slot, const char *v, size_t n)
{
    r->v[slot] = v;
    r->n[slot] = (uint32_t)n;
}

/* The [general] values of one phone: val[k] is the last definition of key k
 * whose guard matched, cut at its first space; bit k of set says one did. */
typedef struct ptc_vm_keys {
    ptc_buf  val[PTC_KEY_COUNT];
    uint32_t set;
    uint32_t tainted;           /* bit k: a variable put a `/` into key k */
    ptc_buf  scratch;           /* the value being built, reused */
} ptc_vm_keys;

void ptc_vm_keys_free(ptc_vm_keys *k);

/* Emits context ctx for phone r into out (nothing if the context is absent). */
void ptc_vm_run(const ptc_prog *p, int ctx, const ptc_vm_rec *r, ptc_sink *out);

/* Evaluates [general] for phone r, assigning only the keys in want (a bit
 * mask of ptc_key); keys not in want keep their previous values.  A key
 * whose value got a `/` from a variable is marked in tainted, so a path can
 * refuse to let phone data choose its directory. */
void ptc_vm_general(const ptc_prog *p, const ptc_vm_rec *r, uint32_t want, ptc_vm_keys *keys);

#endif
