/* The generation index's record format, shared by its writer and replay
 * (gen.c) and its phone-by-phone reader (gen_prev.c); private to src/run/. */
#ifndef PTC_RUN_GEN_REC_H
#define PTC_RUN_GEN_REC_H

#include <stdint.h>
#include <sys/stat.h>
#include "ptc/cfg.h"

typedef struct gen_end {        /* the E line */
    int sql;
    long rows;
    uint64_t hash, db[3], wal[2];
    uint64_t at;                /* when the record was finished (ns) */
} gen_end;

/* A stat is trusted only when the file's mtime is older than the record by
 * more than a clock tick (git's "racy" entries): a file rewritten in the
 * same tick as it was recorded keeps its mtime.  Sub-second stamps come
 * from the kernel's coarse clock: a tick is twice its resolution
 * (CLOCK_REALTIME_COARSE, 4 ms at HZ=250), 1 to 20 ms; whole-second stamps
 * (ext2, FAT) need two seconds. */
#define PTC_GEN_COARSE_NS 2000000000u
uint64_t ptc_gen_tick_ns(void);
int ptc_gen_settled(uint64_t mtime_ns, uint64_t at);

uint64_t ptc_gen_mtime_ns(const struct stat *st);
/* The number in base (8, 10 or 16, lower case) at s into *v: the byte after
 * it, or NULL when there is none or it overflows. */
const char *ptc_gen_num(const char *s, int base, uint64_t *v);
/* "F SIZE MTIME INO MODE PATH": the numbers into v; the path, or NULL. */
const char *ptc_gen_parse_file(const char *line, uint64_t v[4]);
/* One lstat: the file at display (under cfg's root) is the one v
 * describes, settled before at, and nobody but its group may read it. */
int ptc_gen_file_as_recorded(const ptc_cfg *cfg, const char *display, const uint64_t v[4], uint64_t at);
int ptc_gen_parse_end(const char *line, gen_end *e);
/* The table as the E line recorded it: a file by its stat, PostgreSQL by its rows. */
int ptc_gen_table_as_recorded(const gen_end *e, const char *db);

#endif
