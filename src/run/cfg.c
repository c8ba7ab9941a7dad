/* rc.conf, environment, --root. */
#include "ptc/cfg.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void set_var(ptc_cfg *c, const char *name, size_t nlen, const char *val, size_t vlen)
{
    for (size_t i = 0; i < c->nvars; i++) {
        if (strlen(c->vars[i].name) == nlen && memcmp(c->vars[i].name, name, nlen) == 0) {
            free(c->vars[i].value);
            c->vars[i].value = ptc_xstrndup(val, vlen);
            return;
        }
    }
    c->vars = ptc_xrealloc(c->vars, (c->nvars + 1) * sizeof *c->vars);
    c->vars[c->nvars].name = ptc_xstrndup(name, nlen);
    c->vars[c->nvars].value = ptc_xstrndup(val, vlen);
    c->nvars++;
}

/* One line: [export] NAME=value with value "..", '..' or bare up to a blank
 * or `#`.  Anything else is skipped, as the shell would mostly do. */
static void parse_line(ptc_cfg *c, const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    if (e - s > 7 && memcmp(s, "export", 6) == 0 && (s[6] == ' ' || s[6] == '\t')) {
        s += 7;
        while (s < e && (*s == ' ' || *s == '\t')) s++;
    }
    const char *name = s;
    while (s < e && (isalnum((unsigned char)*s) || *s == '_')) s++;
    if (s == name || s >= e || *s != '=' || isdigit((unsigned char)*name)) return;
    size_t nlen = (size_t)(s - name);
    s++;
    ptc_buf v = PTC_BUF_INIT;
    while (s < e && *s != ' ' && *s != '\t' && *s != '#') {
        if (*s == '"' || *s == '\'') {
            char q = *s++;
            while (s < e && *s != q) {
                if (q == '"' && *s == '\\' && s + 1 < e && strchr("\"\\$`", s[1])) s++;
                ptc_buf_putc(&v, *s++);
            }
            if (s < e) s++;
        } else {
            ptc_buf_putc(&v, *s++);
        }
    }
    set_var(c, name, nlen, v.data ? v.data : "", v.len);
    ptc_buf_free(&v);
}

void ptc_cfg_parse(ptc_cfg *c, const char *text, size_t len)
{
    const char *s = text, *end = text + len;
    while (s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        if (!e) e = end;
        const char *le = e;
        if (le > s && le[-1] == '\r') le--;
        parse_line(c, s, le);
        s = e + 1;
    }
}

int ptc_cfg_load(ptc_cfg *c, const char *root, const char *rc_file, ptc_diag *diag)
{
    memset(c, 0, sizeof *c);
    c->root = ptc_xstrdup(root ? root : "");
    size_t rl = strlen(c->root);
    while (rl > 1 && c->root[rl - 1] == '/') c->root[--rl] = '\0';
    c->rc_path = ptc_xstrdup(rc_file ? rc_file : "/etc/rc.conf");
    char *open_path = rc_file ? ptc_xstrdup(rc_file) : ptc_cfg_path(c, "/etc/rc.conf");
    ptc_buf text = PTC_BUF_INIT;
    int rc = 0;
    if (ptc_read_file(open_path, &text) == 0) {
        ptc_cfg_parse(c, text.data ? text.data : "", text.len);
    } else if (rc_file || errno != ENOENT) {
        ptc_diag_plain(diag, PTC_ERROR, "config", "cannot read %s: %s", open_path, strerror(errno));
        rc = -1;
    }
    ptc_buf_free(&text);
    free(open_path);
    return rc;
}

void ptc_cfg_free(ptc_cfg *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nvars; i++) {
        free(c->vars[i].name);
        free(c->vars[i].value);
    }
    free(c->vars);
    free(c->root);
    free(c->rc_path);
    memset(c, 0, sizeof *c);
}

const char *ptc_cfg_get(const ptc_cfg *c, const char *name)
{
    const char *e = getenv(name);
    if (e) return e;
    for (size_t i = 0; i < c->nvars; i++)
        if (strcmp(c->vars[i].name, name) == 0) return c->vars[i].value;
    return NULL;
}

const char *ptc_cfg_get_or(const ptc_cfg *c, const char *name, const char *dflt)
{
    const char *v = ptc_cfg_get(c, name);
    return v && *v ? v : dflt;
}

char *ptc_cfg_path(const ptc_cfg *c, const char *p)
{
    if (p[0] != '/' || !c->root || !c->root[0]) return ptc_xstrdup(p);
    ptc_buf b = PTC_BUF_INIT;
    if (strcmp(c->root, "/") != 0) ptc_buf_puts(&b, c->root);
    ptc_buf_puts(&b, p);
    return (char *)ptc_buf_cstr(&b);
}

const char *ptc_cfg_base_dir(const ptc_cfg *c)
{
    return ptc_cfg_get_or(c, "PHONEPROV_BASE_DIR", PTC_DEFAULT_BASE_DIR);
}

char *ptc_cfg_phone_db(const ptc_cfg *c, const char *opt)
{
    return opt ? ptc_xstrdup(opt) : ptc_cfg_path(c, PTC_DEFAULT_PHONE_DB);
}

char *ptc_cfg_audit_db(const ptc_cfg *c, const char *opt)
{
    return opt ? ptc_xstrdup(opt) : ptc_cfg_path(c, ptc_cfg_get_or(c, "PHONEPROV_AUDIT_DB", PTC_DEFAULT_AUDIT_DB));
}
