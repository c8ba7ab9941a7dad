/* ptc dhcp: DHCP option 66 configuration that points each phone of a phone
 * list at its own provisioning directory, for dnsmasq, ISC dhcpd or Kea
 * (docs/dhcp.md).
 *
 *   phone list -> per phone: its template's prov_path (below the base
 *   directory) and vendor -> one class per directory, matching the OUIs of
 *   the phones in it (or, with --all-ouis, every OUI the vendor is known to
 *   use) -> option 66 = URL/DIR/, and option 150 for Cisco when the
 *   server's IPv4 address is known. */
#include "ptc/buf.h"
#include "ptc/cache.h"
#include "ptc/cfg.h"
#include "ptc/cmd.h"
#include "ptc/phone.h"
#include "ptc/rec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { FMT_DNSMASQ, FMT_ISC, FMT_KEA };

/* OUIs the vendors are known to use (docs/dhcp.md); --all-ouis adds them. */
static const struct { const char *vendor, *ouis; } known_ouis[] = {
    {"yealink", "001565 805ec0 249ad8 44dbd2"},
    {"snom", "000413"},
    {"grandstream", "000b82 c074ad ec74d7"},
    {"polycom", "0004f2 64167f 482567"},
    {"fanvil", "00a859 0c383e"},
    {"cisco", "00562b 0018b9 000e08"},
    {"linksys", "000e08 0018b9"},
    {"sipura", "000e08"},
};

typedef struct dclass {
    char *dir;                  /* prov_path below the base: "yealink" */
    char *vendor;
    char *ouis;                 /* "001565 805ec0 " (6 hex digits each) */
} dclass;

typedef struct dhcp {
    int format, all_ouis;
    const char *url;            /* https://pbx/phoneprov, no final / */
    const char *server_ip;      /* for Cisco's option 150, or NULL */
    dclass *c;
    size_t nc;
} dhcp;

static dclass *class_for(dhcp *D, const char *dir, const char *vendor)
{
    for (size_t i = 0; i < D->nc; i++)
        if (strcmp(D->c[i].dir, dir) == 0) return &D->c[i];
    D->c = ptc_xrealloc(D->c, (D->nc + 1) * sizeof *D->c);
    dclass *c = &D->c[D->nc++];
    c->dir = ptc_xstrdup(dir);
    c->vendor = ptc_xstrdup(vendor);
    c->ouis = ptc_xstrdup("");
    return c;
}

static void add_oui(dclass *c, const char *oui6)
{
    if (strstr(c->ouis, oui6)) return;
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s%s ", c->ouis, oui6);
    free(c->ouis);
    c->ouis = (char *)ptc_buf_cstr(&b);
}

/* A tag or class name: the directory with every other byte as `-`. */
static void tag_of(const char *dir, char *out, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(out, n, "ptc-");
    for (const char *p = dir; *p && k + 1 < n; p++)
        out[k++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
    out[k < n ? k : n - 1] = '\0';
}

/* ---- reading the list --------------------------------------------------------- */

typedef struct tmpl { char *name; ptc_prog *prog; } tmpl;

static ptc_prog *template_of(const ptc_cfg *cfg, ptc_cache *cache, tmpl **t, size_t *nt, const char *name,
                             ptc_diag *diag)
{
    for (size_t i = 0; i < *nt; i++)
        if (strcmp((*t)[i].name, name) == 0) return (*t)[i].prog;
    ptc_buf real = PTC_BUF_INIT;
    ptc_buf_printf(&real, "%s/templates/%s.conf", ptc_cfg_base_dir(cfg), name);
    char *open_path = ptc_cfg_path(cfg, ptc_buf_cstr(&real));
    ptc_src *src = ptc_src_load(open_path, NULL);
    ptc_prog *p = NULL;
    if (!src) ptc_diag_plain(diag, PTC_ERROR, "unknown-template", "template \"%s\" not found: %s: %s",
                             name, open_path, strerror(errno));
    else p = ptc_cache_get(cache, src, diag);
    ptc_src_free(src);
    free(open_path);
    ptc_buf_free(&real);
    *t = ptc_xrealloc(*t, (*nt + 1) * sizeof **t);
    (*t)[*nt].name = ptc_xstrdup(name);
    (*t)[(*nt)++].prog = p;
    return p;
}

/* The directory below the base that prov_path names, or NULL (outside it). */
static const char *below_base(const char *prov_path, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(prov_path, base, n) != 0 || (prov_path[n] != '/' && prov_path[n] != '\0')) return NULL;
    const char *rel = prov_path + n;
    while (*rel == '/') rel++;
    return rel;
}

static int read_list(dhcp *D, const ptc_cfg *cfg, ptc_src *list, ptc_diag *diag)
{
    ptc_cache cache;
    ptc_cache_init(&cache, NULL);
    ptc_phone ph;
    ptc_phone_init(&ph);
    ptc_phone_env env = {ptc_cfg_base_dir(cfg), "0.0.0.0"};
    tmpl *t = NULL;
    size_t nt = 0;
    uint32_t pos = 0, off, len;
    unsigned line = 0;
    ptc_rec r;
    while (ptc_rec_next_line(list, &pos, &off, &len, &line)) {
        if (ptc_rec_parse(list, off, len, line, &r, diag) != 0) continue;
        char *name = ptc_xstrndup(ptc_rec_str(list, r.tmpl), r.tmpl.len);
        ptc_prog *p = template_of(cfg, &cache, &t, &nt, name, diag);
        free(name);
        if (!p) continue;
        ptc_phone_bind(&ph, p, list, &r, &env);
        const char *dir = below_base(ptc_phone_key(&ph, PTC_KEY_PROV_PATH, &env), env.base_dir);
        if (!dir || !*dir) {
            ptc_diag_at(diag, list, r.tmpl.off, PTC_WARNING, "dhcp-outside",
                        "this phone's prov_path is not a directory below %s: no class for it", env.base_dir);
            continue;
        }
        char oui[7];
        for (int i = 0; i < 6; i++) oui[i] = (char)tolower((unsigned char)r.mac[i]);
        oui[6] = '\0';
        add_oui(class_for(D, dir, ptc_phone_key(&ph, PTC_KEY_VENDOR, &env)), oui);
    }
    for (size_t i = 0; i < nt; i++) { free(t[i].name); ptc_prog_free(t[i].prog); }
    free(t);
    ptc_phone_free(&ph);
    ptc_cache_free(&cache);
    return diag->errors ? -1 : 0;
}

/* ---- writing ------------------------------------------------------------------ */

static void all_ouis(dhcp *D)
{
    for (size_t i = 0; i < D->nc; i++)
        for (size_t k = 0; k < sizeof known_ouis / sizeof known_ouis[0]; k++) {
            if (strcasecmp(known_ouis[k].vendor, D->c[i].vendor) != 0) continue;
            char o[7];
            for (const char *s = known_ouis[k].ouis; sscanf(s, "%6s", o) == 1; s += 7) {
                add_oui(&D->c[i], o);
                if (!s[6]) break;
            }
        }
}

static int is_cisco(const dclass *c)
{
    return strcasecmp(c->vendor, "cisco") == 0 || strcasecmp(c->vendor, "linksys") == 0;
}

static void write_dnsmasq(const dhcp *D, FILE *f)
{
    fputs("# DHCP option 66 for the phones, by ptc dhcp: include it from dnsmasq.conf\n"
          "# (conf-file=/etc/dnsmasq.d/ptc-phones.conf, or AstLinux's dnsmasq.static).\n", f);
    for (size_t i = 0; i < D->nc; i++) {
        char tag[128];
        tag_of(D->c[i].dir, tag, sizeof tag);
        fprintf(f, "\n# %s (%s)\n", D->c[i].dir, D->c[i].vendor);
        for (const char *o = D->c[i].ouis; *o; o += 7)
            fprintf(f, "dhcp-mac=set:%s,%.2s:%.2s:%.2s:*:*:*\n", tag, o, o + 2, o + 4);
        fprintf(f, "dhcp-option=tag:%s,option:tftp-server,\"%s/%s/\"\n", tag, D->url, D->c[i].dir);
        if (is_cisco(&D->c[i]) && D->server_ip) fprintf(f, "dhcp-option=tag:%s,150,%s\n", tag, D->server_ip);
    }
}

static void write_isc(const dhcp *D, FILE *f)
{
    fputs("# DHCP option 66 for the phones, by ptc dhcp: include it from dhcpd.conf\n"
          "# (include \"/etc/dhcp/ptc-phones.conf\";).\n", f);
    if (D->server_ip) fputs("option ptc-cisco-tftp code 150 = array of ip-address;\n", f);
    for (size_t i = 0; i < D->nc; i++) {
        char tag[128];
        tag_of(D->c[i].dir, tag, sizeof tag);
        fprintf(f, "\n# %s (%s)\nclass \"%s\" {\n  match if", D->c[i].dir, D->c[i].vendor, tag);
        for (const char *o = D->c[i].ouis; *o; o += 7)
            fprintf(f, "%s substring (hardware, 1, 3) = %.2s:%.2s:%.2s", o == D->c[i].ouis ? "" : "\n        or",
                    o, o + 2, o + 4);
        fprintf(f, ";\n  option tftp-server-name \"%s/%s/\";\n", D->url, D->c[i].dir);
        if (is_cisco(&D->c[i]) && D->server_ip) fprintf(f, "  option ptc-cisco-tftp %s;\n", D->server_ip);
        fputs("}\n", f);
    }
}

static void write_kea(const dhcp *D, FILE *f)
{
    fputs("// DHCP option 66 for the phones, by ptc dhcp: include it in kea-dhcp4.conf as\n"
          "// \"client-classes\": <?include \"/etc/kea/ptc-phones.json\"?>,\n[", f);
    for (size_t i = 0; i < D->nc; i++) {
        char tag[128];
        tag_of(D->c[i].dir, tag, sizeof tag);
        fprintf(f, "%s\n  {\n    \"name\": \"%s\",\n    \"test\": \"", i ? "," : "", tag);
        for (const char *o = D->c[i].ouis; *o; o += 7)
            fprintf(f, "%ssubstring(pkt4.mac, 0, 3) == 0x%.6s", o == D->c[i].ouis ? "" : " or ", o);
        fprintf(f, "\",\n    \"option-data\": [\n      { \"name\": \"tftp-server-name\", \"data\": \"%s/%s/\" }",
                D->url, D->c[i].dir);
        struct in_addr a;
        if (is_cisco(&D->c[i]) && D->server_ip && inet_pton(AF_INET, D->server_ip, &a) == 1) {
            const unsigned char *b = (const unsigned char *)&a;
            fprintf(f, ",\n      { \"code\": 150, \"csv-format\": false, \"data\": \"%02X%02X%02X%02X\" }",
                    b[0], b[1], b[2], b[3]);
        }
        fputs("\n    ]\n  }", f);
    }
    fputs("\n]\n", f);
}

/* ---- the command ---------------------------------------------------------------- */

static const char dhcp_usage[] =
    "Usage: ptc dhcp [--format dnsmasq|isc|kea] [--url URL] [--server-ip ADDR] [--all-ouis]\n"
    "                [--root DIR] [--rc FILE] LIST\n"
    "Writes DHCP option 66 configuration that points each phone of LIST at its\n"
    "provisioning directory: one class per directory, matching the OUIs of its\n"
    "phones (docs/dhcp.md).\n"
    "\n"
    "  --format F      dnsmasq (default), isc (dhcpd) or kea (client-classes JSON)\n"
    "  --url URL       the server's /phoneprov/ URL (default http://pbx/phoneprov)\n"
    "  --server-ip A   the server's IPv4 address, for Cisco's option 150\n"
    "                  (default: the URL's host when it is an IPv4 address)\n"
    "  --all-ouis      match every OUI the vendor is known to use, not only the listed\n"
    "  --root DIR, --rc FILE   as for ptc run\n"
    "\n"
    "Exit status: 0, 1 on errors (the list's, or a template missing), 64 for usage.\n";

static const char *host_ipv4(const char *url, char *out, size_t n)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t k = strcspn(h, ":/");
    if (k >= n) return NULL;
    memcpy(out, h, k);
    out[k] = '\0';
    struct in_addr a;
    return inet_pton(AF_INET, out, &a) == 1 ? out : NULL;
}

int ptc_cmd_dhcp(int argc, char **argv)
{
    static const struct option longs[] = {
        {"format", required_argument, NULL, 'f'}, {"url", required_argument, NULL, 'u'},
        {"server-ip", required_argument, NULL, 's'}, {"all-ouis", no_argument, NULL, 'a'},
        {"root", required_argument, NULL, 'r'}, {"rc", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    dhcp D;
    memset(&D, 0, sizeof D);
    D.url = "http://pbx/phoneprov";
    const char *root = NULL, *rc_file = NULL;
    char ipbuf[64];
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "dnsmasq")) D.format = FMT_DNSMASQ;
            else if (!strcmp(optarg, "isc")) D.format = FMT_ISC;
            else if (!strcmp(optarg, "kea")) D.format = FMT_KEA;
            else goto usage;
            break;
        case 'u': D.url = optarg; break;
        case 's': D.server_ip = optarg; break;
        case 'a': D.all_ouis = 1; break;
        case 'r': root = optarg; break;
        case 'c': rc_file = optarg; break;
        case 'h': fputs(dhcp_usage, stdout); return PTC_EXIT_OK;
        default: goto usage;
        }
    }
    if (optind + 1 != argc) goto usage;
    struct in_addr a;
    if (D.server_ip && inet_pton(AF_INET, D.server_ip, &a) != 1) {
        fprintf(stderr, "ptc dhcp: --server-ip wants an IPv4 address, got '%s'\n", D.server_ip);
        return PTC_EXIT_USAGE;
    }
    if (!D.server_ip) D.server_ip = host_ipv4(D.url, ipbuf, sizeof ipbuf);
    char *url = ptc_xstrdup(D.url);
    size_t ul = strlen(url);
    while (ul && url[ul - 1] == '/') url[--ul] = '\0';
    D.url = url;
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_cfg cfg;
    int rc = PTC_EXIT_ERROR;
    ptc_src *list = NULL;
    if (ptc_cfg_load(&cfg, root, rc_file, &diag) != 0) goto out;
    if (!(list = ptc_src_load(argv[optind], NULL))) {
        ptc_diag_plain(&diag, PTC_ERROR, "io", "cannot read %s: %s", argv[optind], strerror(errno));
        goto out;
    }
    list->redact = ptc_rec_redact;
    if (read_list(&D, &cfg, list, &diag) != 0) goto out;
    if (D.all_ouis) all_ouis(&D);
    if (D.format == FMT_DNSMASQ) write_dnsmasq(&D, stdout);
    else if (D.format == FMT_ISC) write_isc(&D, stdout);
    else write_kea(&D, stdout);
    rc = fflush(stdout) == 0 ? PTC_EXIT_OK : PTC_EXIT_ERROR;
out:
    for (size_t i = 0; i < D.nc; i++) { free(D.c[i].dir); free(D.c[i].vendor); free(D.c[i].ouis); }
    free(D.c);
    free(url);
    ptc_src_free(list);
    ptc_cfg_free(&cfg);
    return rc;
usage:
    fputs(dhcp_usage, stderr);
    return PTC_EXIT_USAGE;
}
