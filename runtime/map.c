/* Open-addressing hash map, u64 -> u32. */
#include "ptc/map.h"
#include "ptc/buf.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

static void grow(ptc_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *keys = ptc_xcalloc(cap, sizeof *keys);
    uint32_t *vals = ptc_xcalloc(cap, sizeof *vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot_of(m->keys[i], cap);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
}

uint32_t *ptc_map_get(const ptc_map *m, uint64_t key)
{
    if (!m->cap) return NULL;
    if (!key) key = 1;
    for (size_t j = slot_of(key, m->cap);; j = (j + 1) & (m->cap - 1)) {
        if (m->keys[j] == key) return &m->vals[j];
        if (!m->keys[j]) return NULL;
    }
}

uint32_t *ptc_map_put(ptc_map *m, uint64_t key, int *inserted)
{
    if (!key) key = 1;
    /* at most 7/8 full: 100,000 phones make 430,000 keys, which at 3/4
     * took 1M slots (12 MiB) where 512K do; probes grow by a few per cent */
    if ((m->n + 1) * 8 > m->cap * 7) grow(m);
    size_t j = slot_of(key, m->cap);
    while (m->keys[j] && m->keys[j] != key) j = (j + 1) & (m->cap - 1);
    *inserted = !m->keys[j];
    if (*inserted) {
        m->keys[j] = key;
        m->vals[j] = 0;
        m->n++;
    }
    return &m->vals[j];
}

void ptc_map_free(ptc_map *m)
{
    if (!m) return;
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}
