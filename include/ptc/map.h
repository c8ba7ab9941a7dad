/* ptc_map: a hash map from 64-bit keys (hashes of names) to 32-bit values,
 * for the run's duplicate checks (MACs, accounts, output files).  Keeping
 * hashes, not names, keeps memory small for 100,000 phones; a 64-bit
 * collision is astronomically unlikely and would only raise a false
 * "duplicate" error, never a wrong output.
 *
 * Ownership: a map owns its table (ptc_map_free, NULL accepted); a value
 * pointer it returns is valid until the next put. */
#ifndef PTC_MAP_H
#define PTC_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ptc_map {
    uint64_t *keys;             /* 0 marks an empty slot (key 0 is remapped) */
    uint32_t *vals;
    size_t cap, n;
} ptc_map;

/* Returns a pointer to key's value, inserting it with *inserted = 1 and
 * value 0 when absent. */
uint32_t *ptc_map_put(ptc_map *m, uint64_t key, int *inserted);
uint32_t *ptc_map_get(const ptc_map *m, uint64_t key);
void ptc_map_free(ptc_map *m);

#endif
