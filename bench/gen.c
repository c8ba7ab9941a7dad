/* bench/gen: a deterministic phone list for benchmarks.
 *
 *   gen N [SEED] > massdeployment.conf
 *
 * N phones over the stock templates in templates/, in the phone list format
 * `template mac ext[/CID][;ext2[/cid2]] password [account]`.  The same N and
 * SEED always give the same bytes (splitmix64, no libc rand, no clock).
 *
 * What the list exercises:
 *   - every stock template, in a realistic mix (Yealink most common);
 *   - unique MACs under each vendor's real OUIs (low 24 bits = phone index,
 *     so no two phones share a MAC, whatever the OUI), written mostly as
 *     aa:bb:cc:dd:ee:ff, some upper case, some aa-bb-.., some bare hex;
 *   - unique first extensions (10000 + index), feature-code extensions
 *     with `*` and `#` (the literal `*72` and `70#` once each, then `*NNNNN`
 *     and `NNNNN#`): the stock templates have no guards, so any extension
 *     that the phone list grammar accepts is fine for them;
 *   - CallerID names like Alice_Smith, some with a `<nnn>` number, some
 *     with only `<nnn>`, some phones without a CID;
 *   - multi-line phones `201/Name;301/Name2` on yealink-t4x-2line, with one
 *     shared password or one per line (`pw1;pw2`);
 *   - explicit SIP accounts on some phones (`acct10042`, `a;b` on 2-line);
 *   - a password on every phone (16 characters, letters and digits);
 *   - a comment line every 500 phones and a blank line every 1,000.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned pick(unsigned n) { return (unsigned)(next() % n); }

typedef struct {
    const char *name;
    unsigned weight;            /* per 100 */
    int lines;                  /* 2: multi-line template */
    const char *oui[2];
} tmpl;

static const tmpl templates[] = {
    {"yealink-t4x",       25, 1, {"80:5e:c0", "00:15:65"}},
    {"yealink-t4x-2line", 10, 2, {"00:15:65", "80:5e:c0"}},
    {"yealink-t4x-pjsip", 10, 1, {"80:5e:c0", "24:9a:d8"}},
    {"snom-d7xx",         10, 1, {"00:04:13", "00:04:13"}},
    {"grandstream-gxp",   10, 1, {"00:0b:82", "c0:74:ad"}},
    {"poly-vvx",          10, 1, {"00:04:f2", "64:16:7f"}},
    {"cisco-spa5xx",       8, 1, {"00:0e:08", "00:0e:08"}},
    {"cisco-mpp",          9, 1, {"00:56:2b", "70:1f:53"}},
    {"fanvil-x",           8, 1, {"0c:38:3e", "0c:38:3e"}},
};
#define NT (sizeof templates / sizeof templates[0])

static const char *const first[] = {
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoe",
};
static const char *const last[] = {
    "Smith", "Baker", "Carter", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones",
    "Kowalski", "Lopez", "Muller", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Svensson", "Tanaka",
};
static const char *const places[] = {
    "Front_Desk", "Lobby", "Warehouse", "Loading_Dock", "Reception", "Break_Room",
    "Conference_Room", "Help_Line", "Shipping", "Payroll",
};

static const tmpl *pick_template(void)
{
    unsigned r = pick(100), acc = 0;
    for (size_t i = 0; i < NT; i++) {
        acc += templates[i].weight;
        if (r < acc) return &templates[i];
    }
    return &templates[0];
}

static void put_mac(const char *oui, unsigned long idx)
{
    unsigned a, b, c;
    sscanf(oui, "%x:%x:%x", &a, &b, &c);
    unsigned d = (unsigned)(idx >> 16) & 0xff, e = (unsigned)(idx >> 8) & 0xff, f = (unsigned)idx & 0xff;
    unsigned style = pick(20);
    if (style == 0)      printf("%02X:%02X:%02X:%02X:%02X:%02X", a, b, c, d, e, f);
    else if (style == 1) printf("%02x-%02x-%02x-%02x-%02x-%02x", a, b, c, d, e, f);
    else if (style == 2) printf("%02x%02x%02x%02x%02x%02x", a, b, c, d, e, f);
    else                 printf("%02x:%02x:%02x:%02x:%02x:%02x", a, b, c, d, e, f);
}

static void put_cid(void)
{
    unsigned r = pick(100);
    if (r < 20) return;                                 /* no CID: the extension */
    putchar('/');
    if (r < 22) { printf("<%u>", 5000 + pick(5000)); return; }  /* number only */
    if (r < 35) fputs(places[pick(sizeof places / sizeof places[0])], stdout);
    else printf("%s_%s", first[pick(sizeof first / sizeof first[0])], last[pick(sizeof last / sizeof last[0])]);
    if (r >= 90) printf("<%u>", 5000 + pick(5000));      /* a separate CallerID number */
}

static void put_password(void)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 16; i++) putchar(al[pick(sizeof al - 1)]);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: gen N [SEED] > massdeployment.conf\n");
        return 64;
    }
    unsigned long n = strtoul(argv[1], NULL, 10);
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x70746362656e6368ull;  /* "ptcbench" */
    if (n == 0 || n > 0xffffff) { fprintf(stderr, "gen: N must be 1..16777215\n"); return 64; }
    int star_done = 0, hash_done = 0;
    printf("## ptc bench phone list: %lu phones (bench/gen %s)\n", n, argc > 2 ? argv[2] : "default seed");
    printf("## template mac_addr extension[/CID_Name][;ext2[/cid2]] password [account]\n");
    for (unsigned long i = 0; i < n; i++) {
        if (i && i % 1000 == 0) putchar('\n');
        if (i % 500 == 0) printf("# phones %lu-%lu\n", i + 1, i + 500 < n ? i + 500 : n);
        const tmpl *t = pick_template();
        unsigned long ext = 10000 + i;
        printf("%s ", t->name);
        put_mac(t->oui[pick(2)], i + 1);
        putchar(' ');
        /* extension: feature codes on single-line phones now and then */
        unsigned r = pick(100);
        if (t->lines == 1 && r < 2) {
            if (!star_done) { fputs("*72", stdout); star_done = 1; }
            else printf("*%lu", ext);
        } else if (t->lines == 1 && r < 4) {
            if (!hash_done) { fputs("70#", stdout); hash_done = 1; }
            else printf("%lu#", ext);
        } else {
            printf("%lu", ext);
        }
        put_cid();
        if (t->lines == 2) {
            printf(";%lu", 400000 + i);
            put_cid();
        }
        putchar(' ');
        put_password();
        if (t->lines == 2 && pick(100) < 30) { putchar(';'); put_password(); }
        if (pick(100) < 8) {
            printf(" acct%lu", ext);
            if (t->lines == 2) printf(";acct%lu", 400000 + i);
        }
        putchar('\n');
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
