/* Binding a phone record to its template: slots and [general] values. */
#include "ptc/phone.h"
#include "ptc/cfg.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MASK(k) (1u << PTC_KEY_##k)

void ptc_phone_init(ptc_phone *ph)
{
    memset(ph, 0, sizeof *ph);
}

void ptc_phone_free(ptc_phone *ph)
{
    if (!ph) return;
    ptc_vm_keys_free(&ph->keys);
    ptc_buf_free(&ph->mac);
    ptc_buf_free(&ph->prefix);
    ptc_buf_free(&ph->suffix);
    ptc_buf_free(&ph->path);
    for (int i = 0; i < PTC_MAX_LINES; i++) {
        ptc_buf_free(&ph->cid_name[i]);
        ptc_buf_free(&ph->cid_num[i]);
        ptc_buf_free(&ph->account[i]);
    }
}

/* Slots carry their length: no NUL needed. */
static void set_buf(ptc_vm_rec *rec, int slot, ptc_buf *b)
{
    ptc_vm_set(rec, slot, b->data ? b->data : "", b->len);
}

/* The key's value when a definition was taken, else NULL ("" counts as
 * unset: the original's defaults apply to empty values too). */
static const ptc_buf *key_val(const ptc_phone *ph, int key)
{
    const ptc_buf *b = &ph->keys.val[key];
    return (ph->keys.set & (1u << key)) && b->len ? b : NULL;
}

static int key_is(const ptc_phone *ph, int key, const char *word)
{
    const ptc_buf *b = key_val(ph, key);
    return b && b->len == strlen(word) && memcmp(b->data, word, b->len) == 0;
}

static void change_case(ptc_buf *b, int upper)
{
    for (size_t i = 0; i < b->len; i++)
        b->data[i] = (char)(upper ? toupper((unsigned char)b->data[i]) : tolower((unsigned char)b->data[i]));
}

/* CallerID of one line, as the original's gen_cid_name_num: `_` is a space;
 * a `<nnn>` (digits, * and #, blanks allowed inside) sets the number; the
 * name is what stands before the first `<`, less one trailing space, or the
 * extension when nothing does. */
static void bind_cid(ptc_phone *ph, int i, const char *raw, uint32_t rawlen, const char *ext, uint32_t extlen)
{
    ptc_buf *name = &ph->cid_name[i], *num = &ph->cid_num[i];
    name->len = num->len = 0;
    ptc_buf_put(name, raw, rawlen);
    for (size_t k = 0; k < name->len; k++)
        if (name->data[k] == '_') name->data[k] = ' ';
    const char *s = name->data;
    size_t n = name->len;
    for (size_t p = 0; p < n && num->len == 0; p++) {
        if (s[p] != '<') continue;
        size_t q = p + 1;
        while (q < n && isspace((unsigned char)s[q])) q++;
        size_t d = q;
        while (q < n && (isdigit((unsigned char)s[q]) || s[q] == '#' || s[q] == '*')) q++;
        size_t dend = q;
        while (q < n && isspace((unsigned char)s[q])) q++;
        if (dend > d && q < n && s[q] == '>') ptc_buf_put(num, s + d, dend - d);
    }
    if (num->len == 0) ptc_buf_put(num, ext, extlen);
    if (n > 0 && s[0] != '<') {
        const char *lt = memchr(s, '<', n);
        name->len = lt ? (size_t)(lt - s) : n;
        if (name->len && name->data[name->len - 1] == ' ') name->len--;
    } else {
        name->len = 0;
        ptc_buf_put(name, ext, extlen);
    }
}

static void bind_lines(ptc_phone *ph, const ptc_src *list, const ptc_rec *r)
{
    const char *t = list->text;
    for (int i = 0; i < PTC_MAX_LINES; i++) {
        int given = i == 0 || (r->multi && (unsigned)i < r->nexts);
        ptc_span ext = given && r->ext[i].len ? r->ext[i] : r->ext[0];
        ptc_vm_set(&ph->rec, PTC_SLOT_EXT1 + i, t + ext.off, ext.len);
        if (given && r->has_cid[i])
            bind_cid(ph, i, t + r->cid[i].off, r->cid[i].len, t + ext.off, ext.len);
        else
            bind_cid(ph, i, "", 0, t + ext.off, ext.len);
        set_buf(&ph->rec, PTC_SLOT_CID_NAME1 + i, &ph->cid_name[i]);
        set_buf(&ph->rec, PTC_SLOT_CID_NUM1 + i, &ph->cid_num[i]);
        int pgiven = i == 0 || r->pass_multi;
        ptc_span pw = pgiven && r->pass[i].len ? r->pass[i] : r->pass[0];
        ptc_vm_set(&ph->rec, PTC_SLOT_PASSWORD1 + i, t + pw.off, pw.len);
        ptc_vm_set(&ph->rec, PTC_SLOT_ACCOUNT1 + i, "", 0);
    }
}

static void bind_mac(ptc_phone *ph, const char *mac)
{
    ph->mac.len = 0;
    ptc_buf_puts(&ph->mac, mac);
    if (key_is(ph, PTC_KEY_MACADDRESS_CASE, "upper")) change_case(&ph->mac, 1);
    else if (key_is(ph, PTC_KEY_MACADDRESS_CASE, "lower")) change_case(&ph->mac, 0);
    const char *m = ptc_buf_cstr(&ph->mac);
    ptc_vm_set(&ph->rec, PTC_SLOT_MAC, m, 12);
    ptc_vm_set(&ph->rec, PTC_SLOT_MAC4, m + 8, 4);
    ptc_vm_set(&ph->rec, PTC_SLOT_MAC6, m + 6, 6);
}

static void bind_accounts(ptc_phone *ph, const ptc_src *list, const ptc_rec *r)
{
    ph->prefix.len = ph->suffix.len = 0;
    const ptc_buf *v;
    if ((v = key_val(ph, PTC_KEY_AUTO_ACCOUNT_PREFIX))) ptc_buf_put(&ph->prefix, v->data, v->len);
    if ((v = key_val(ph, PTC_KEY_AUTO_ACCOUNT_SUFFIX))) ptc_buf_put(&ph->suffix, v->data, v->len);
    int upper = key_is(ph, PTC_KEY_AUTO_ACCOUNT_CASE, "upper");
    if (upper || key_is(ph, PTC_KEY_AUTO_ACCOUNT_CASE, "lower")) {
        change_case(&ph->prefix, upper);
        change_case(&ph->suffix, upper);
    }
    for (int i = 0; i < PTC_MAX_LINES; i++) {
        ptc_buf *a = &ph->account[i];
        a->len = 0;
        int given = i == 0 || r->acct_multi;
        if (given && r->acctf.len && r->acct[i].len) {
            ptc_buf_put(a, list->text + r->acct[i].off, r->acct[i].len);
        } else {
            ptc_buf_put(a, ph->prefix.data, ph->prefix.len);
            ptc_buf_put(a, ph->rec.v[PTC_SLOT_EXT1 + i], ph->rec.n[PTC_SLOT_EXT1 + i]);
            ptc_buf_put(a, ph->suffix.data, ph->suffix.len);
        }
        set_buf(&ph->rec, PTC_SLOT_ACCOUNT1 + i, a);
    }
}

static void lower_word(const ptc_buf *v, char *out, size_t cap, const char *dflt)
{
    if (!v) {
        size_t d = strlen(dflt) < cap - 1 ? strlen(dflt) : cap - 1;
        memcpy(out, dflt, d);
        out[d] = '\0';
        return;
    }
    size_t n = v->len < cap - 1 ? v->len : cap - 1;
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)v->data[i]);
    out[n] = '\0';
}

void ptc_phone_bind(ptc_phone *ph, const ptc_prog *p, const ptc_src *list,
                    const ptc_rec *r, const ptc_phone_env *env)
{
    const char *t = list->text;
    ptc_vm_rec *rec = &ph->rec;
    ph->r = r;
    ph->prog = p;
    ph->keys.set = ph->keys.tainted = 0;
    ptc_vm_set(rec, PTC_SLOT_TEMPLATE, t + r->tmpl.off, r->tmpl.len);
    ptc_vm_set(rec, PTC_SLOT_MAC_ADDR, r->mac_addr, 17);
    ptc_vm_set(rec, PTC_SLOT_SIP_SERVER_IPV4, env->sip_server_ipv4, strlen(env->sip_server_ipv4));
    ptc_vm_set(rec, PTC_SLOT_MODEL, "", 0);
    ptc_vm_set(rec, PTC_SLOT_VENDOR, "", 0);
    bind_lines(ph, list, r);
    bind_mac(ph, r->mac);

    uint32_t early = MASK(MACADDRESS_CASE) | MASK(MODEL) | MASK(VENDOR);
    if (!(p->keys_phone & early)) {
        /* Plain text in every definition: nothing to order, one pass. */
        ptc_vm_general(p, rec, early, &ph->keys);
        bind_mac(ph, r->mac);
    } else {
        ptc_vm_general(p, rec, MASK(MACADDRESS_CASE), &ph->keys);
        bind_mac(ph, r->mac);
        ptc_vm_general(p, rec, MASK(MODEL), &ph->keys);  /* sees @MAC@ in its case */
    }
    const ptc_buf *v = key_val(ph, PTC_KEY_MODEL);
    if (v) ptc_vm_set(rec, PTC_SLOT_MODEL, v->data, v->len);
    else ptc_vm_set(rec, PTC_SLOT_MODEL, t + r->tmpl.off, r->tmpl.len);
    if (p->keys_phone & early) ptc_vm_general(p, rec, MASK(VENDOR), &ph->keys);
    v = key_val(ph, PTC_KEY_VENDOR);
    if (v) ptc_vm_set(rec, PTC_SLOT_VENDOR, v->data, v->len);
    else ptc_vm_set(rec, PTC_SLOT_VENDOR, rec->v[PTC_SLOT_MODEL], rec->n[PTC_SLOT_MODEL]);
    ptc_vm_general(p, rec, ~early, &ph->keys);
    bind_accounts(ph, list, r);

    const ptc_buf *sql = key_val(ph, PTC_KEY_SQL_ENABLE);
    char word[16];
    lower_word(sql, word, sizeof word, "yes");
    ph->sql_enable = strcmp(word, "yes") == 0;
    lower_word(key_val(ph, PTC_KEY_SIP_DRIVER), ph->sip_driver, sizeof ph->sip_driver, "sip");
}

static const char *const default_dialplan_file[] = {
    "astlinux-phoneprov-exten.conf", "astlinux-phoneprov-exten2.conf",
    "astlinux-phoneprov-exten3.conf", "astlinux-phoneprov-exten4.conf",
    "astlinux-phoneprov-exten5.conf", "astlinux-phoneprov-exten6.conf",
};

#define INCLUDES_DIR PTC_DEFAULT_INCLUDES

const char *ptc_phone_key(ptc_phone *ph, int key, const ptc_phone_env *env)
{
    const ptc_buf *v = key_val(ph, key);
    if (v) return ptc_buf_cstr(&ph->keys.val[key]);
    switch (key) {
    case PTC_KEY_PROV_FILE: {
        ptc_buf *b = &ph->keys.val[key];
        b->len = 0;
        ptc_buf_put(b, ph->rec.v[PTC_SLOT_MAC], 12);
        ptc_buf_puts(b, ".cfg");
        return ptc_buf_cstr(b);
    }
    case PTC_KEY_PROV_PATH: {
        ptc_buf *b = &ph->keys.val[key];
        b->len = 0;
        ptc_buf_puts(b, env->base_dir);
        ptc_buf_putc(b, '/');
        ptc_buf_put(b, ph->rec.v[PTC_SLOT_VENDOR], ph->rec.n[PTC_SLOT_VENDOR]);
        return ptc_buf_cstr(b);
    }
    case PTC_KEY_DIALPLAN_PATH: case PTC_KEY_SIP_PATH: case PTC_KEY_PJSIP_PATH:
        return INCLUDES_DIR;
    case PTC_KEY_SIP_FILE:   return "astlinux-phoneprov-sip.conf";
    case PTC_KEY_PJSIP_FILE: return "astlinux-phoneprov-pjsip.conf";
    default:
        if (key >= PTC_KEY_DIALPLAN1_FILE && key <= PTC_KEY_DIALPLAN6_FILE)
            return default_dialplan_file[key - PTC_KEY_DIALPLAN1_FILE];
        return "";
    }
}

static int has_dotdot(const char *p)
{
    for (const char *s = p; *s; ) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') return 1;
        if (!e) break;
        s = e + 1;
    }
    return 0;
}

const char *ptc_phone_output_path(ptc_phone *ph, int ctx, const ptc_phone_env *env, const char **why)
{
    int dir_key, file_key;
    if (ctx == PTC_CTX_PHONEPROV) { dir_key = PTC_KEY_PROV_PATH; file_key = PTC_KEY_PROV_FILE; }
    else if (ctx == PTC_CTX_SIP) { dir_key = PTC_KEY_SIP_PATH; file_key = PTC_KEY_SIP_FILE; }
    else if (ctx == PTC_CTX_PJSIP) { dir_key = PTC_KEY_PJSIP_PATH; file_key = PTC_KEY_PJSIP_FILE; }
    else { dir_key = PTC_KEY_DIALPLAN_PATH; file_key = PTC_KEY_DIALPLAN1_FILE + (ctx - PTC_CTX_DIALPLAN1); }
    *why = NULL;
    uint32_t taint = ph->keys.tainted & ((1u << dir_key) | (1u << file_key));
    ph->path.len = 0;
    ptc_buf_puts(&ph->path, ptc_phone_key(ph, dir_key, env));
    ptc_buf_putc(&ph->path, '/');
    ptc_buf_puts(&ph->path, ptc_phone_key(ph, file_key, env));
    const char *path = ptc_buf_cstr(&ph->path);
    const char *base = strrchr(path, '/') + 1;
    for (const char *c = path; *c && !*why; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *why = "a control character (a tab?) in the path";
    if (*why)
        ;
    else if (taint)
        *why = "a `/` from phone data would choose the directory";
    else if (has_dotdot(path))
        *why = "a `..` in the path";
    else if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        *why = "an empty file name";
    /* The default prov_path is BASE/@VENDOR@: a vendor that took a `/` from
     * phone data would choose the directory just the same. */
    int vendor_key = key_val(ph, PTC_KEY_VENDOR) ? PTC_KEY_VENDOR : PTC_KEY_MODEL;
    if (ctx == PTC_CTX_PHONEPROV && !key_val(ph, PTC_KEY_PROV_PATH) &&
        key_val(ph, vendor_key) && (ph->keys.tainted & (1u << vendor_key)))
        *why = "a `/` from phone data in the vendor would choose the directory";
    return *why ? NULL : path;
}

const char *ptc_phone_dialplan_context(ptc_phone *ph, int ctx, const ptc_phone_env *env)
{
    return ptc_phone_key(ph, PTC_KEY_DIALPLAN1_CONTEXT + (ctx - PTC_CTX_DIALPLAN1), env);
}

int ptc_phone_line_is_distinct(const ptc_phone *ph, int i)
{
    const ptc_vm_rec *r = &ph->rec;
    return i == 0 || r->n[PTC_SLOT_EXT1 + i] != r->n[PTC_SLOT_EXT1] ||
           memcmp(r->v[PTC_SLOT_EXT1 + i], r->v[PTC_SLOT_EXT1], r->n[PTC_SLOT_EXT1]) != 0;
}
