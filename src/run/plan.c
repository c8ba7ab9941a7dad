/* The plan checks shared by run and lint (include/ptc/plan.h). */
#include "ptc/plan.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PROV_BIT 0x80000000u    /* an output: line of a provisioning file */

/* One map holds all three kinds of name; a tag keeps them apart. */
#define TAG_MAC     0x6d61630000000000ULL
#define TAG_ACCOUNT 0x6163630000000000ULL
#define TAG_OUTPUT  0x6f75740000000000ULL
#define TAG_EXT     0x6578740000000000ULL

/* Outputs are told apart by ptc_path_key: a//b and a/b are one file. */
static uint64_t path_hash(ptc_plan *p, const char *path)
{
    /* Most paths are already in their key's form: hash them as they are. */
    size_t n = strlen(path);
    int plain = !strstr(path, "//") && !strstr(path, "/./") && strncmp(path, "./", 2) != 0 &&
                !(n >= 2 && path[n - 2] == '/' && path[n - 1] == '.') && !(n && path[n - 1] == '/');
    if (plain) return ptc_hash64(path, n) ^ TAG_OUTPUT;
    ptc_path_key(path, &p->key);
    return ptc_hash64(p->key.data, p->key.len) ^ TAG_OUTPUT;
}

void ptc_plan_init(ptc_plan *p, ptc_src *list, ptc_diag *diag)
{
    memset(p, 0, sizeof *p);
    p->list = list;
    p->diag = diag;
}

void ptc_plan_free(ptc_plan *p)
{
    if (!p) return;
    ptc_map_free(&p->seen);
    ptc_buf_free(&p->key);
    free(p->files);
    p->files = NULL;
    p->nfiles = 0;
}

void ptc_plan_password(ptc_plan *p, const ptc_rec *r)
{
    if (!r->missing_password) return;
    p->missing++;
    ptc_diag_at(p->diag, p->list, r->passf.len ? r->passf.off : r->extf.off + r->extf.len,
                PTC_ERROR, "no-password", "no password for %s (extension %.*s)", r->mac_addr,
                (int)r->ext[0].len, ptc_rec_str(p->list, r->ext[0]));
    if (p->notes)
        ptc_diag_line(p->diag, p->list, r->line, PTC_NOTE, "no-password",
                      "`ptc run -a` generates missing passwords and writes them into the phone list");
}

int ptc_plan_mac(ptc_plan *p, const ptc_rec *r)
{
    char mac[13];
    for (int i = 0; i < 13; i++) mac[i] = (char)tolower((unsigned char)r->mac[i]);
    int ins;
    uint32_t *v = ptc_map_put(&p->seen, ptc_hash64(mac, 12) ^ TAG_MAC, &ins);
    if (ins) { *v = r->line; return 0; }
    ptc_diag_at(p->diag, p->list, r->macf.off, PTC_ERROR, "duplicate-mac",
                "MAC address %s is also on line %u", r->mac_addr, *v);
    if (p->notes)
        ptc_diag_line(p->diag, p->list, *v, PTC_NOTE, "duplicate-mac",
                      "line %u has MAC address %s too", *v, r->mac_addr);
    return -1;
}

void ptc_plan_account(ptc_plan *p, const ptc_rec *r, const ptc_phone *ph)
{
    const char *a = ph->rec.v[PTC_SLOT_ACCOUNT1];
    int n = (int)ph->rec.n[PTC_SLOT_ACCOUNT1];
    int ins;
    uint32_t *v = ptc_map_put(&p->seen, ptc_plan_account_of(ph) ^ TAG_ACCOUNT, &ins);
    if (ins) { *v = r->line; return; }
    uint32_t at = r->acctf.len && r->acct[0].len ? r->acct[0].off : r->extf.off;
    ptc_diag_at(p->diag, p->list, at, PTC_ERROR, "duplicate-account",
                "SIP account \"%.*s\" is also the account of line %u", n, a, *v);
    if (p->notes)
        ptc_diag_line(p->diag, p->list, *v, PTC_NOTE, "duplicate-account",
                      "line %u has SIP account \"%.*s\" too", *v, n, a);
}

/* Each extension that context ctx emits, once per dialplan include file:
 * two `exten => 204,1` in one file, and Asterisk keeps one.  Keyed by the
 * file, so tenants with files of their own may reuse numbers. */
static uint64_t ext_key(const char *e, size_t n, uint64_t file_hash)
{
    return (ptc_hash64(e, n) * 31 + file_hash) ^ TAG_EXT;
}

static void plan_exts(ptc_plan *p, const ptc_rec *r, const ptc_prog *prog, int ctx, uint64_t file_hash)
{
    unsigned mask = prog->ctx_exts[ctx];
    for (unsigned i = 0; i < r->nexts && i < PTC_MAX_LINES; i++) {
        if (!(mask >> i & 1) || r->ext[i].len == 0) continue;
        const char *e = ptc_rec_str(p->list, r->ext[i]);
        int n = (int)r->ext[i].len, ins;
        uint32_t *v = ptc_map_put(&p->seen, ext_key(e, (size_t)n, file_hash), &ins);
        if (ins) { *v = r->line; continue; }
        /* Reported once per extension, not again for the next dialplan file. */
        if (p->dup_line != r->line) { p->dup_line = r->line; p->dup_mask = 0; }
        if (p->dup_mask >> i & 1) continue;
        p->dup_mask |= 1u << i;
        if (*v == r->line) {
            ptc_diag_at(p->diag, p->list, r->ext[i].off, PTC_ERROR, "duplicate-ext",
                        "extension %.*s is on this line twice: its dialplan would have two `exten => %.*s`",
                        n, e, n, e);
            continue;
        }
        ptc_diag_at(p->diag, p->list, r->ext[i].off, PTC_ERROR, "duplicate-ext",
                    "extension %.*s is also on line %u: the dialplan would have two `exten => %.*s`",
                    n, e, *v, n, e);
        if (p->notes)
            ptc_diag_line(p->diag, p->list, *v, PTC_NOTE, "duplicate-ext", "line %u has extension %.*s too",
                          *v, n, e);
    }
}

ptc_plan_kind ptc_plan_output(ptc_plan *p, const ptc_rec *r, ptc_phone *ph,
                              const ptc_phone_env *env, int ctx,
                              const char **pathp, size_t *file)
{
    const char *why;
    const char *path = ptc_phone_output_path(ph, ctx, env, &why);
    *pathp = path;
    if (!path) {
        ptc_diag_at(p->diag, p->list, r->tmpl.off, PTC_ERROR, "unsafe-path",
                    "refusing the [%s] output path of this phone: %s", ptc_ctx_names[ctx], why);
        return PTC_PLAN_REFUSED;
    }
    return ptc_plan_output_path(p, r, ph->prog, ctx, path, path_hash(p, path), file);
}

uint64_t ptc_plan_path_key(ptc_plan *p, const char *path)
{
    return path_hash(p, path);
}

ptc_plan_kind ptc_plan_output_path(ptc_plan *p, const ptc_rec *r, const ptc_prog *prog, int ctx,
                                   const char *path, uint64_t h, size_t *file)
{
    int ins, prov = ctx == PTC_CTX_PHONEPROV;
    uint32_t *v = ptc_map_put(&p->seen, h, &ins);
    if (ins) {
        if (ptc_ctx_is_dialplan(ctx)) plan_exts(p, r, prog, ctx, h);
        if (prov) { *v = PROV_BIT | r->line; return PTC_PLAN_PROV; }
        p->files = ptc_xrealloc(p->files, (p->nfiles + 1) * sizeof *p->files);
        p->files[p->nfiles].ctx = ctx;
        p->files[p->nfiles].line = r->line;
        *file = p->nfiles;
        *v = (uint32_t)++p->nfiles;
        return PTC_PLAN_INCLUDE_NEW;
    }
    if (*v & PROV_BIT) {
        ptc_diag_at(p->diag, p->list, r->tmpl.off, PTC_ERROR, "duplicate-file",
                    prov ? "provisioning file %s is also written for line %u"
                         : "include file %s is also the provisioning file of line %u",
                    path, *v & ~PROV_BIT);
        return PTC_PLAN_REFUSED;
    }
    const ptc_plan_file *f = &p->files[*v - 1];
    if (prov) {
        ptc_diag_at(p->diag, p->list, r->tmpl.off, PTC_ERROR, "duplicate-file",
                    "provisioning file %s is also the include file of line %u", path, f->line);
        return PTC_PLAN_REFUSED;
    }
    if (f->ctx != ctx && !(ptc_ctx_is_dialplan(ctx) && ptc_ctx_is_dialplan(f->ctx))) {
        ptc_diag_at(p->diag, p->list, r->tmpl.off, PTC_ERROR, "duplicate-file",
                    "%s gets both [%s] and [%s] (line %u)", path, ptc_ctx_names[ctx],
                    ptc_ctx_names[f->ctx], f->line);
        return PTC_PLAN_REFUSED;
    }
    *file = *v - 1;
    if (ptc_ctx_is_dialplan(ctx)) plan_exts(p, r, prog, ctx, h);
    return PTC_PLAN_INCLUDE_SAME;
}

/* What ptc_plan_output_path would find without reporting: 0 when the
 * output can be planned without a diagnostic. */
static int output_would_pass(ptc_plan *p, const ptc_rec *r, const ptc_prog *prog, int ctx, uint64_t h)
{
    uint32_t *v = ptc_map_get(&p->seen, h);
    if (v) {
        if (ctx == PTC_CTX_PHONEPROV || (*v & PROV_BIT)) return -1;
        int other = p->files[*v - 1].ctx;
        if (other != ctx && !(ptc_ctx_is_dialplan(ctx) && ptc_ctx_is_dialplan(other))) return -1;
    }
    if (!ptc_ctx_is_dialplan(ctx)) return 0;
    for (unsigned i = 0; i < r->nexts && i < PTC_MAX_LINES; i++)
        if ((prog->ctx_exts[ctx] >> i & 1) && r->ext[i].len &&
            ptc_map_get(&p->seen, ext_key(ptc_rec_str(p->list, r->ext[i]), r->ext[i].len, h)))
            return -1;
    return 0;
}

int ptc_plan_would_pass(ptc_plan *p, const ptc_rec *r, const ptc_prog *prog, const int *ctx,
                        const uint64_t *key, int n, uint64_t account_hash)
{
    if (ptc_map_get(&p->seen, account_hash ^ TAG_ACCOUNT)) return 0;
    for (int i = 0; i < n; i++)
        if (output_would_pass(p, r, prog, ctx[i], key[i]) != 0) return 0;
    for (int i = 0; i < n; i++)             /* two outputs of this phone in one file */
        for (int j = 0; j < i; j++)
            if (key[i] == key[j] && (ctx[i] == PTC_CTX_PHONEPROV || ptc_ctx_is_dialplan(ctx[i]))) return 0;
    return 1;
}

void ptc_plan_account_hash(ptc_plan *p, const ptc_rec *r, uint64_t account_hash)
{
    int ins;
    uint32_t *v = ptc_map_put(&p->seen, account_hash ^ TAG_ACCOUNT, &ins);
    if (ins) *v = r->line;
}

uint64_t ptc_plan_account_of(const ptc_phone *ph)
{
    return ptc_hash64(ph->rec.v[PTC_SLOT_ACCOUNT1], ph->rec.n[PTC_SLOT_ACCOUNT1]);
}

long ptc_plan_include_of(ptc_plan *p, const char *path)
{
    uint32_t *v = ptc_map_get(&p->seen, path_hash(p, path));
    return v && !(*v & PROV_BIT) ? (long)*v - 1 : -1;
}
