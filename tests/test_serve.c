/* ptc serve: a real server on 127.0.0.1 / ::1 and a real client.
 *
 * The client is a plain socket (plus gnutls for HTTPS) rather than libcurl:
 * the refusal tests must send bytes curl would clean up (`..`, a NUL in the
 * request line), and the allowlist tests bind the client to 127.0.0.2,
 * 127.0.0.3 ... to come from several addresses.  Each test builds its own
 * --root: rc.conf, a phone table and a provisioning tree like a real one. */
#include "testutil.h"
#include "ptc/buf.h"
#include "ptc/cmd.h"
#include "ptc/fsutil.h"
#include "ptc/serve.h"
#include "ptc/sink.h"
#include "../src/serve/serve_cache.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Real phones' User-Agents (MACs and versions changed to our test phones). */
#define UA_YEALINK     "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:a9:37"
#define UA_YEALINK2    "Yealink SIP-T46S 66.86.0.15 00:15:65:11:22:33"
#define UA_POLYCOM     "FileTransport PolycomVVX-VVX_411-UA/6.3.1.8427 Type/Application"
#define UA_SNOM        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.46.16 2010.12-00004-gd311851 " \
                       "(Sep 13 2019 - 14:03:33); snomD785 jffs2 v3.36; 000413ABCDEF)"
#define UA_GRANDSTREAM "Grandstream Model HW GXP2170 SW 1.0.9.135 DevId 000b828aa872"
#define UA_CISCO       "Cisco-CP-7841-3PCC/11.3.7 (00562b043615)"
#define UA_CISCO_SPA   "Cisco/SPA504G-7.5.5 (0018B9123456)(CCQ16020ABC)"
#define UA_FANVIL      "Fanvil X4U 2.12.18 0c383e1e2c8a"
#define UA_AASTRA      "Aastra6757i MAC:00-08-5D-23-74-29 V:3.3.1.4305-SIP"

/* A client off the allowlist gets no answer at all: the accept policy
 * closes its connection before a byte is read. */
#define DENIED 0

static char root[256], base[320];
static ptc_serve *srv;
static int port4 = -1, port6 = -1, porttls = -1;
static int have_v6;
static const char *listen_v[2], *tls_v[1], *allow_v[4];
static char cert_path[320], key_path[320], log_path[320], audit_path[320];

/* ---- the fixture ---------------------------------------------------------- */

static void wfile(const char *rel, const char *content)
{
    char path[512], *dir;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    dir = ptc_dirname(path);
    ck_assert_int_eq(ptc_mkdirs(dir, 0755), 0);
    free(dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

static void wlink(const char *target, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    ck_assert_int_eq(symlink(target, path), 0);
}

static void sql(const char *db_rel, const char *text)
{
    char path[512];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/%s", root, db_rel);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, text, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "sql: %s", err ? err : "?");
    sqlite3_close(db);
}

static int v6_available(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/ptc-serve-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(base, sizeof base, "%s/mnt/kd/phoneprov", root);
    snprintf(log_path, sizeof log_path, "%s/access.log", root);
    snprintf(audit_path, sizeof audit_path, "%s/mnt/kd/phoneprov-audit.sqlite3", root);
    unsetenv("PHONEPROV_ALLOW");
    unsetenv("PHONEPROV_BASE_DIR");
    /* The bytecode cache, put (unwisely) under the served tree. */
    char cache[400];
    snprintf(cache, sizeof cache, "%s/ptc-cache", base);
    setenv("PTC_CACHE_DIR", cache, 1);

    wfile("etc/rc.conf", "PHONEPROV_BASE_DIR=/mnt/kd/phoneprov\n");
    wfile("mnt/kd/phoneprov/yealink/y000000000028.cfg", "#!version:1.0.0.1\nauto_provision.mode = 6\n");
    wfile("mnt/kd/phoneprov/yealink/001565aaa937.cfg",
          "#!version:1.0.0.1\naccount.1.user_name = 201\naccount.1.password = SECRETPASS201\n");
    wfile("mnt/kd/phoneprov/polycom/000000000000.cfg", "<APPLICATION CONFIG_FILES=\"[PHONE_MAC_ADDRESS]-phone.cfg\"/>\n");
    wfile("mnt/kd/phoneprov/polycom/0004f2abcdef-phone.cfg", "<reg reg.1.auth.password=\"SECRETPASS202\"/>\n");
    wfile("mnt/kd/phoneprov/snom/snomD785.htm", "<html>setting_server</html>\n");
    wfile("mnt/kd/phoneprov/snom/snomD785-000413ABCDEF.htm", "<html>user_pass1: SECRETPASS203</html>\n");
    wfile("mnt/kd/phoneprov/grandstream/cfg000b828aa872", "binary-ish config\n");
    wfile("mnt/kd/phoneprov/grandstream/cfg000b828aa872.xml", "<P34>SECRETPASS204</P34>\n");
    wfile("mnt/kd/phoneprov/cisco/00562b043615.xml", "<Password_1_>SECRETPASS205</Password_1_>\n");
    /* What is never served. */
    wfile("mnt/kd/phoneprov/templates/yealink-t4x.conf", "[general]\nprov_file=@MAC@.cfg\n");
    wfile("mnt/kd/phoneprov/massdeployment.conf", "yealink-t4x,00:15:65:aa:a9:37,201,SECRET,Alice\n");
    wfile("mnt/kd/phoneprov/webgui-massdeployment.conf", "yealink-t4x,00:15:65:aa:a9:37,201,SECRET,Alice\n");
    wfile("mnt/kd/phoneprov/massdeployment.conf.bak", "yealink-t4x,00:15:65:aa:a9:37,201,SECRET,Alice\n");
    wfile("mnt/kd/phoneprov/yealink/.001565aaa937.cfg.ptc-Ab12Cd", "half written SECRET\n");
    wfile("mnt/kd/phoneprov/.ptc-manifest", "SECRET\n");
    wfile("mnt/kd/phoneprov/.ptc-lock", "");
    wfile("mnt/kd/phoneprov/ptc-cache/0123456789abcdef-42.ptcb", "PTCB");
    wfile("mnt/kd/phoneprov/ptc-cache/readme.txt", "cache");
    wfile("mnt/kd/phoneprov/old/0123-1.ptcb", "PTCB");
    wfile("mnt/kd/secret.txt", "outside SECRET\n");
    /* Symlinks: two lead out, one stays inside, one points at a phone list. */
    wlink("/etc/passwd", "mnt/kd/phoneprov/passwd.cfg");
    wlink("../secret.txt", "mnt/kd/phoneprov/up.cfg");
    wlink("/etc", "mnt/kd/phoneprov/etcdir");
    wlink("y000000000028.cfg", "mnt/kd/phoneprov/yealink/common.cfg");
    wlink("../massdeployment.conf", "mnt/kd/phoneprov/yealink/list.cfg");
    wlink("001565aaa937.cfg", "mnt/kd/phoneprov/yealink/alias.cfg");
    /* The phone table: a row per line of a phone. */
    sql("mnt/kd/asterisk-odbc.sqlite3",
        "CREATE TABLE phoneprov (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ext TEXT DEFAULT '',"
        " cid_name TEXT DEFAULT '', cid_num TEXT DEFAULT '', account TEXT DEFAULT '', line INTEGER DEFAULT 1,"
        " mac_addr TEXT DEFAULT '', template TEXT DEFAULT '', model TEXT DEFAULT '', vendor TEXT DEFAULT '',"
        " sip_driver TEXT DEFAULT '');"
        "INSERT INTO phoneprov (ext, line, mac_addr, template, model, vendor) VALUES"
        " ('201', 1, '00:15:65:aa:a9:37', 'yealink-t4x', 'T46S', 'yealink'),"
        " ('211', 2, '00:15:65:AA:A9:37', 'yealink-t4x', 'T46S', 'yealink'),"
        " ('202', 1, '00:04:f2:ab:cd:ef', 'poly-vvx', 'VVX411', 'polycom'),"
        " ('203', 1, '00:04:13:ab:cd:ef', 'snom-d7xx', 'snomD785', 'snom'),"
        " ('204', 1, '00:0b:82:8a:a8:72', 'grandstream-gxp', 'GXP2170', 'grandstream'),"
        " ('205', 1, '00:56:2b:04:36:15', 'cisco-mpp', 'CP-7841', 'cisco');");
    have_v6 = v6_available();
    srv = NULL;
    port4 = port6 = porttls = -1;
}

static void teardown(void)
{
    ptc_serve_stop(srv);
    srv = NULL;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) { /* a leftover temp dir is harmless */ }
    unsetenv("PTC_CACHE_DIR");
}

static ptc_serve_opts default_opts(void)
{
    ptc_serve_opts o;
    memset(&o, 0, sizeof o);
    listen_v[0] = "127.0.0.1:0";
    listen_v[1] = "[::1]:0";
    o.listen = listen_v;
    o.nlisten = have_v6 ? 2 : 1;
    o.root = root;
    o.mac_check = PTC_SERVE_MAC_ENFORCE;
    o.access_log = log_path;
    o.threads = 2;
    o.flush_ms = 100;
    /* The tests ask for many missing files on purpose; the budget has a
     * test of its own. */
    o.miss_budget = PTC_SERVE_MISS_OFF;
    return o;
}

static void start_opts(const ptc_serve_opts *o)
{
    ptc_diag d;
    FILE *out = tmpfile();
    ptc_diag_init(&d, out);
    int rc = ptc_serve_start(o, &srv, &d);
    if (rc != 0) {
        char msg[1024] = "";
        rewind(out);
        size_t n = fread(msg, 1, sizeof msg - 1, out);
        msg[n] = '\0';
        ck_abort_msg("server did not start: %s", msg);
    }
    fclose(out);
    port4 = ptc_serve_port(srv, 0);
    port6 = o->nlisten > 1 ? ptc_serve_port(srv, 1) : -1;
    porttls = o->ntls_listen ? ptc_serve_port(srv, o->nlisten) : -1;
    ck_assert_int_gt(port4, 0);
}

static void start_default(void)
{
    ptc_serve_opts o = default_opts();
    start_opts(&o);
}

/* ---- the client ----------------------------------------------------------- */

typedef struct resp {
    int status;                 /* 0: no HTTP answer (connection closed) */
    ptc_buf raw;
    const char *body;
    size_t body_len;
} resp;

static void resp_free(resp *r)
{
    ptc_buf_free(&r->raw);
    memset(r, 0, sizeof *r);
}

static int connect_to(const char *src, const char *dst, int port)
{
    struct sockaddr_storage ss, sb;
    memset(&ss, 0, sizeof ss);
    memset(&sb, 0, sizeof sb);
    int v6 = strchr(dst, ':') != NULL;
    socklen_t sl;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        ck_assert_int_eq(inet_pton(AF_INET6, dst, &a->sin6_addr), 1);
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        ck_assert_int_eq(inet_pton(AF_INET, dst, &a->sin_addr), 1);
        sl = sizeof *a;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    if (src) {
        /* Come from another loopback address: the allowlist's test. */
        struct sockaddr_in *b = (struct sockaddr_in *)&sb;
        b->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, src, &b->sin_addr), 1);
        ck_assert_msg(bind(fd, (struct sockaddr *)b, sizeof *b) == 0, "bind %s: %s", src, strerror(errno));
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ck_assert_msg(connect(fd, (struct sockaddr *)&ss, sl) == 0, "connect %s:%d: %s", dst, port, strerror(errno));
    return fd;
}

static void parse_resp(resp *r)
{
    const char *s = ptc_buf_cstr(&r->raw);
    r->status = 0;
    if (strncmp(s, "HTTP/1.", 7) == 0 && r->raw.len > 12) r->status = atoi(s + 9);
    const char *e = strstr(s, "\r\n\r\n");
    r->body = e ? e + 4 : s + r->raw.len;
    r->body_len = r->raw.len - (size_t)(r->body - s);
}

static gnutls_certificate_credentials_t client_cred;

/* Sends req (len bytes) and reads the answer until the server closes. */
static void exchange(const char *src, const char *dst, int port, int tls, const char *req, size_t len, resp *r)
{
    memset(r, 0, sizeof *r);
    int fd = connect_to(src, dst, port);
    gnutls_session_t sess = NULL;
    if (tls) {
        ck_assert_int_eq(gnutls_init(&sess, GNUTLS_CLIENT), 0);
        gnutls_set_default_priority(sess);
        gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, client_cred);
        /* Verify the chain against the test's own certificate. */
        gnutls_session_set_verify_cert(sess, NULL, 0);
        gnutls_transport_set_int(sess, fd);
        gnutls_handshake_set_timeout(sess, 5000);
        int hs;
        do hs = gnutls_handshake(sess); while (hs < 0 && !gnutls_error_is_fatal(hs));
        ck_assert_msg(hs == 0, "TLS handshake: %s", gnutls_strerror(hs));
        ck_assert_int_eq(gnutls_record_send(sess, req, len), (ssize_t)len);
    } else if (ptc_write_all(fd, req, len) != 0) {
        /* Closed at accept (DENIED): the reset may beat our request. */
        close(fd);
        parse_resp(r);
        return;
    }
    char buf[16384];
    for (;;) {
        ssize_t n = tls ? gnutls_record_recv(sess, buf, sizeof buf) : recv(fd, buf, sizeof buf, 0);
        if (tls && n == GNUTLS_E_AGAIN) continue;
        if (n <= 0) break;
        ptc_buf_put(&r->raw, buf, (size_t)n);
    }
    if (sess) gnutls_deinit(sess);
    close(fd);
    parse_resp(r);
}

static void request(const char *src, const char *dst, int port, const char *method, const char *path,
                    const char *ua, const char *extra, resp *r)
{
    ptc_buf q = PTC_BUF_INIT;
    ptc_buf_printf(&q, "%s %s HTTP/1.1\r\nHost: pbx\r\n", method, path);
    if (ua) ptc_buf_printf(&q, "User-Agent: %s\r\n", ua);
    ptc_buf_printf(&q, "%sConnection: close\r\n\r\n", extra ? extra : "");
    exchange(src, dst, port, 0, q.data, q.len, r);
    ptc_buf_free(&q);
}

/* GET from 127.0.0.1 (or src) to the IPv4 listener; returns the status. */
static int get_as(const char *src, const char *path, const char *ua, resp *r)
{
    request(src, "127.0.0.1", port4, "GET", path, ua, NULL, r);
    return r->status;
}

static int status_of(const char *src, const char *path, const char *ua)
{
    resp r;
    int st = get_as(src, path, ua, &r);
    resp_free(&r);
    return st;
}

/* The value of header name in r, or NULL (static buffer). */
static const char *header(resp *r, const char *name)
{
    static char val[256];
    const char *s = ptc_buf_cstr(&r->raw);
    size_t nl = strlen(name);
    for (const char *p = strstr(s, "\r\n"); p && p < r->body; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ') v++;
            size_t k = strcspn(v, "\r\n");
            if (k >= sizeof val) k = sizeof val - 1;
            memcpy(val, v, k);
            val[k] = '\0';
            return val;
        }
    }
    return NULL;
}

static char *slurp(const char *path)
{
    ptc_buf b = PTC_BUF_INIT;
    if (ptc_read_file(path, &b) != 0) ptc_buf_puts(&b, "");
    return (char *)ptc_buf_cstr(&b);
}

/* ---- unit: allowlist, User-Agent, paths ------------------------------------ */

static struct sockaddr_storage sa_of(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, text, &a->sin_addr), 1);
    }
    return ss;
}

static int allowed(const ptc_serve_allow *a, const char *addr)
{
    struct sockaddr_storage ss = sa_of(addr);
    return ptc_serve_allow_match(a, (struct sockaddr *)&ss);
}

START_TEST(allow_syntax_of_the_original_and_cidr)
{
    char why[256];
    /* The seed's example, verbatim. */
    ptc_serve_allow *a = ptc_serve_allow_parse("10.1.2.* 2001:db8:1:* 192.168.101.20", why, sizeof why);
    ck_assert_ptr_nonnull(a);
    ck_assert(allowed(a, "10.1.2.3"));
    ck_assert(allowed(a, "10.1.2.254"));
    ck_assert(!allowed(a, "10.1.20.3"));
    ck_assert(!allowed(a, "10.1.3.2"));
    ck_assert(allowed(a, "2001:db8:1::5"));
    ck_assert(allowed(a, "2001:DB8:1:0:0:0:0:9"));
    ck_assert(!allowed(a, "2001:db8:10::1"));
    ck_assert(allowed(a, "192.168.101.20"));
    ck_assert(!allowed(a, "192.168.101.21"));
    ck_assert(allowed(a, "::ffff:10.1.2.9"));        /* dual-stack socket's view */
    ck_assert(!ptc_serve_allow_is_open(a));
    ptc_serve_allow_free(a);

    a = ptc_serve_allow_parse("10.10.50.0/24, 2001:db8::/48 172.16.0.1/12", why, sizeof why);
    ck_assert_ptr_nonnull(a);
    ck_assert(allowed(a, "10.10.50.1"));
    ck_assert(allowed(a, "10.10.50.255"));
    ck_assert(!allowed(a, "10.10.51.1"));
    ck_assert(allowed(a, "2001:db8:0:ffff::1"));
    ck_assert(!allowed(a, "2001:db8:1::1"));
    ck_assert(allowed(a, "172.31.255.255"));        /* host bits in the entry are ignored */
    ck_assert(!allowed(a, "172.32.0.1"));
    ck_assert(allowed(a, "::ffff:10.10.50.7"));
    ptc_serve_allow_free(a);

    a = ptc_serve_allow_parse("  ", why, sizeof why);
    ck_assert(ptc_serve_allow_is_open(a));
    ck_assert(allowed(a, "203.0.113.9"));
    ptc_serve_allow_free(a);

    static const char *const bad[] = {"10.1.2.300", "10.0.0.0/33", "2001:db8::/129", "pbx.lan",
                                      "10.1.*.x", "10.0.0.0/", "/8", "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        ck_assert_msg(ptc_serve_allow_parse(bad[i], why, sizeof why) == NULL, "accepted %s", bad[i]);
        ck_assert_msg(strstr(why, bad[i]) != NULL, "reason does not name '%s': %s", bad[i], why);
    }
    ptc_serve_allow_free(NULL);
}
END_TEST

START_TEST(ua_mac_and_firmware_of_real_phones)
{
    static const struct { const char *ua, *mac, *fw; } cases[] = {
        {UA_YEALINK, "001565aaa937", "66.86.0.15"},
        {UA_GRANDSTREAM, "000b828aa872", "1.0.9.135"},
        {UA_CISCO, "00562b043615", "11.3.7"},
        {UA_CISCO_SPA, "0018b9123456", "7.5.5"},
        {UA_SNOM, "000413abcdef", "10.1.46.16"},
        {UA_FANVIL, "0c383e1e2c8a", "2.12.18"},
        {UA_AASTRA, "00085d237429", "3.3.1.4305"},
        {UA_POLYCOM, NULL, "6.3.1.8427"},
        {"curl/7.88.1", NULL, "7.88.1"},
        {"Mozilla/5.0", NULL, NULL},
        /* Thirteen hex digits, or a longer word, are not a MAC. */
        {"Phone 000b828aa8721 x", NULL, NULL},
        {"build deadbeef0123cafe", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char mac[13], fw[64];
        int got = ptc_mac_find(cases[i].ua, mac);
        ck_assert_msg(got == (cases[i].mac != NULL), "%s: mac found=%d", cases[i].ua, got);
        if (got) ck_assert_str_eq(mac, cases[i].mac);
        got = ptc_serve_ua_firmware(cases[i].ua, fw, sizeof fw);
        ck_assert_msg(got == (cases[i].fw != NULL), "%s: fw found=%d (%s)", cases[i].ua, got, fw);
        if (got) ck_assert_str_eq(fw, cases[i].fw);
    }
    char mac[13];
    ck_assert_int_eq(ptc_mac_find(NULL, mac), 0);
    ck_assert_int_eq(ptc_mac_norm("00:0B:82:11:22:33", mac), 1);
    ck_assert_str_eq(mac, "000b82112233");
    ck_assert_int_eq(ptc_mac_norm("00-0b-82-11-22-33", mac), 1);
    ck_assert_int_eq(ptc_mac_norm("000b821122", mac), 0);
    ck_assert_int_eq(ptc_mac_norm("000b8211223344", mac), 0);
    ck_assert_int_eq(ptc_mac_norm("00:0b:82:11:22:zz", mac), 0);
    ck_assert(ptc_mac_value("00156AAAA937") == 0x00156aaaa937ull);
}
END_TEST

START_TEST(path_rules)
{
    static const struct { const char *url; int cls; } cases[] = {
        {"/phoneprov/yealink/001565aaa937.cfg", PTC_SERVE_PATH_OK},
        {"/phoneprov//yealink/y000000000028.cfg", PTC_SERVE_PATH_OK},
        {"/phoneprov/grandstream/cfg000b828aa872", PTC_SERVE_PATH_OK},
        {"/phoneprov/yealink-templates/a.cfg", PTC_SERVE_PATH_OK},
        {"/phoneprov/../etc/passwd", PTC_SERVE_PATH_MALFORMED},
        {"/phoneprov/a/./b.cfg", PTC_SERVE_PATH_MALFORMED},
        {"/phoneprov/a\x01" "b.cfg", PTC_SERVE_PATH_MALFORMED},
        {"/phoneprov/a\\..\\b.cfg", PTC_SERVE_PATH_MALFORMED},
        {"/phoneprov/templates/x.conf", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/Templates/readme.txt", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/massdeployment.conf", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/webgui-massdeployment.conf", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/MASSDEPLOYMENT.CONF", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/massdeployment.conf~", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/massdeployment.conf.2024-01-01", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/.ptc-manifest", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/y/.a.cfg.ptc-XXXXXX", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/c/0123-4.ptcb", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/x.sqlite3", PTC_SERVE_PATH_HIDDEN},
        {"/phoneprov/", PTC_SERVE_PATH_ELSEWHERE},
        {"/phoneprov", PTC_SERVE_PATH_ELSEWHERE},
        {"/phoneprov/yealink/", PTC_SERVE_PATH_ELSEWHERE},
        {"/etc/passwd", PTC_SERVE_PATH_ELSEWHERE},
        {"/phoneprovx/a.cfg", PTC_SERVE_PATH_ELSEWHERE},
        {"/x/../phoneprov/a.cfg", PTC_SERVE_PATH_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *rel = NULL, *why = NULL;
        int got = ptc_serve_path_check(cases[i].url, &rel, &why);
        ck_assert_msg(got == cases[i].cls, "%s: class %d, want %d (%s)", cases[i].url, got, cases[i].cls,
                      why ? why : "");
        if (got == PTC_SERVE_PATH_OK) ck_assert(rel[0] != '/');
        else ck_assert_ptr_nonnull(why);
    }
    ck_assert_str_eq(ptc_serve_content_type("a/b.XML"), "application/xml");
    ck_assert_str_eq(ptc_serve_content_type("a.cfg"), "text/plain");
    ck_assert_str_eq(ptc_serve_content_type("cfg000b828aa872"), "application/octet-stream");
}
END_TEST

START_TEST(log_escape_forges_no_lines)
{
    ptc_buf b = PTC_BUF_INIT;
    ptc_serve_log_escape(&b, "a\"b\\c\nd\x01\xff");
    ck_assert_str_eq(ptc_buf_cstr(&b), "a\\x22b\\x5cc\\x0ad\\x01\\xff");
    ptc_buf_free(&b);
}
END_TEST

/* ---- the server: boot sequences of real phones ---------------------------- */

START_TEST(yealink_boot)
{
    start_default();
    resp r;
    ck_assert_int_eq(get_as(NULL, "/phoneprov/yealink/y000000000028.cfg", UA_YEALINK, &r), 200);
    ck_assert_mem_str(r.body, r.body_len, "#!version:1.0.0.1\nauto_provision.mode = 6\n");
    ck_assert_str_eq(header(&r, "Content-Type"), "text/plain");
    ck_assert_str_eq(header(&r, "Content-Length"), "42");
    ck_assert_ptr_nonnull(header(&r, "ETag"));
    ck_assert_ptr_nonnull(header(&r, "Last-Modified"));
    resp_free(&r);
    ck_assert_int_eq(get_as(NULL, "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK, &r), 200);
    ck_assert(strstr(r.body, "SECRETPASS201") != NULL);
    resp_free(&r);
    /* The same file for the phone with the upper-case MAC in its name. */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565AAA937.cfg", UA_YEALINK), 404);
}
END_TEST

START_TEST(polycom_boot_and_log_put)
{
    start_default();
    resp r;
    /* VVX: its MAC file first (absent here), then the default master file. */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/polycom/0004f2abcdef.cfg", UA_POLYCOM), 404);
    ck_assert_int_eq(get_as(NULL, "/phoneprov/polycom/000000000000.cfg", UA_POLYCOM, &r), 200);
    ck_assert(strstr(r.body, "CONFIG_FILES") != NULL);
    resp_free(&r);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/polycom/0004f2abcdef-phone.cfg", UA_POLYCOM), 200);
    /* Then it uploads its boot log: answered cleanly, stored nowhere. */
    ptc_buf q = PTC_BUF_INIT;
    const char *body = "0101000000|boot |1|00|Log file 0004f2abcdef-boot.log\n";
    ptc_buf_printf(&q, "PUT /phoneprov/polycom/0004f2abcdef-boot.log HTTP/1.1\r\nHost: pbx\r\n"
                   "User-Agent: %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n%s", UA_POLYCOM, strlen(body), body);
    exchange(NULL, "127.0.0.1", port4, 0, q.data, q.len, &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
    resp_free(&r);
    /* A chunked PUT of a contact directory, bigger than one read. */
    ptc_buf_reset(&q);
    ptc_buf_printf(&q, "PUT /phoneprov/polycom/0004f2abcdef-directory.xml HTTP/1.1\r\nHost: pbx\r\n"
                   "User-Agent: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", UA_POLYCOM);
    for (int i = 0; i < 40; i++) {
        ptc_buf_printf(&q, "400\r\n");
        for (int k = 0; k < 1024; k++) ptc_buf_putc(&q, 'x');
        ptc_buf_puts(&q, "\r\n");
    }
    ptc_buf_puts(&q, "0\r\n\r\n");
    exchange(NULL, "127.0.0.1", port4, 0, q.data, q.len, &r);
    ck_assert_int_eq(r.status, 405);
    resp_free(&r);
    ptc_buf_free(&q);
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/polycom/0004f2abcdef-boot.log", base);
    snprintf(p2, sizeof p2, "%s/polycom/0004f2abcdef-directory.xml", base);
    ck_assert(!ptc_exists(p1));
    ck_assert(!ptc_exists(p2));
    /* Other methods too. */
    request(NULL, "127.0.0.1", port4, "DELETE", "/phoneprov/polycom/000000000000.cfg", UA_POLYCOM, NULL, &r);
    ck_assert_int_eq(r.status, 405);
    resp_free(&r);
    request(NULL, "127.0.0.1", port4, "POST", "/phoneprov/polycom/000000000000.cfg", UA_POLYCOM,
            "Content-Length: 0\r\n", &r);
    ck_assert_int_eq(r.status, 405);
    resp_free(&r);
    snprintf(p1, sizeof p1, "%s/polycom/000000000000.cfg", base);
    ck_assert(ptc_exists(p1));
}
END_TEST

START_TEST(snom_boot_upper_case_mac)
{
    start_default();
    resp r;
    ck_assert_int_eq(get_as(NULL, "/phoneprov/snom/snomD785.htm", UA_SNOM, &r), 200);
    ck_assert_str_eq(header(&r, "Content-Type"), "text/html");
    resp_free(&r);
    ck_assert_int_eq(get_as(NULL, "/phoneprov/snom/snomD785-000413ABCDEF.htm", UA_SNOM, &r), 200);
    ck_assert(strstr(r.body, "SECRETPASS203") != NULL);
    resp_free(&r);
    /* The Yealink next door may not have the snom's file. */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/snom/snomD785-000413ABCDEF.htm", UA_YEALINK), 404);
}
END_TEST

START_TEST(grandstream_boot)
{
    start_default();
    resp r;
    ck_assert_int_eq(get_as(NULL, "/phoneprov/grandstream/cfg000b828aa872", UA_GRANDSTREAM, &r), 200);
    ck_assert_str_eq(header(&r, "Content-Type"), "application/octet-stream");
    resp_free(&r);
    ck_assert_int_eq(get_as(NULL, "/phoneprov/grandstream/cfg000b828aa872.xml", UA_GRANDSTREAM, &r), 200);
    ck_assert_str_eq(header(&r, "Content-Type"), "application/xml");
    ck_assert(strstr(r.body, "SECRETPASS204") != NULL);
    resp_free(&r);
}
END_TEST

/* ---- MAC binding ---------------------------------------------------------- */

START_TEST(mac_binding_enforce)
{
    start_default();
    /* Another phone's MAC in the User-Agent: refused, for every vendor. */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK2), 404);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/grandstream/cfg000b828aa872.xml", UA_YEALINK), 404);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/cisco/00562b043615.xml", UA_CISCO_SPA), 404);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/cisco/00562b043615.xml", UA_AASTRA), 404);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/cisco/00562b043615.xml", UA_CISCO), 200);
    /* A symlink does not launder the name. */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/alias.cfg", UA_YEALINK2), 404);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/alias.cfg", UA_YEALINK), 200);
    /* Files of no phone (common files, all-zero MACs) go to everybody. */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/y000000000028.cfg", UA_YEALINK2), 200);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/polycom/000000000000.cfg", UA_YEALINK2), 200);
    /* No MAC in the User-Agent: enforce lets it through (docs/serve.md). */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa937.cfg", "curl/7.88.1"), 200);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa937.cfg", NULL), 200);
    ptc_serve_flush(srv);
    char *log = slurp(log_path);
    ck_assert_msg(strstr(log, "GET /phoneprov/yealink/001565aaa937.cfg 404 14 mac=001565aaa937 "
                              "ua=\"" UA_YEALINK2 "\" refused=\"User-Agent names another phone\""), "%s", log);
    free(log);
}
END_TEST

START_TEST(mac_binding_modes)
{
    ptc_serve_opts o = default_opts();
    o.mac_check = PTC_SERVE_MAC_WARN;
    start_opts(&o);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK2), 200);
    ptc_serve_flush(srv);
    char *log = slurp(log_path);
    ck_assert(strstr(log, "200 ") && strstr(log, "warning=\"User-Agent names another phone\""));
    free(log);
    ptc_serve_stop(srv);
    srv = NULL;

    o.mac_check = PTC_SERVE_MAC_OFF;
    start_opts(&o);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK2), 200);
    ptc_serve_stop(srv);
    srv = NULL;

    o.mac_check = PTC_SERVE_MAC_STRICT;
    start_opts(&o);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa937.cfg", "curl/7.88.1"), 404);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK), 200);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/y000000000028.cfg", "curl/7.88.1"), 200);
}
END_TEST

START_TEST(phone_table_change_is_picked_up)
{
    start_default();
    wfile("mnt/kd/phoneprov/yealink/001565112233.cfg", "for the second yealink\n");
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565112233.cfg", UA_YEALINK), 200);
    /* `ptc run` adds the phone: the server notices without a SIGHUP. */
    sql("mnt/kd/asterisk-odbc.sqlite3",
        "INSERT INTO phoneprov (ext, mac_addr, model, vendor) VALUES ('206', '00:15:65:11:22:33', 'T46S', 'yealink')");
    int st = 0;
    for (int i = 0; i < 50 && st != 404; i++) {
        usleep(50000);
        st = status_of(NULL, "/phoneprov/yealink/001565112233.cfg", UA_YEALINK);
    }
    ck_assert_int_eq(st, 404);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565112233.cfg", UA_YEALINK2), 200);
}
END_TEST

/* ---- what is never served ------------------------------------------------- */

START_TEST(never_served)
{
    start_default();
    static const struct { const char *path; int status; } cases[] = {
        {"/phoneprov/templates/yealink-t4x.conf", 404},
        {"/phoneprov/templates/", 404},
        {"/phoneprov/massdeployment.conf", 404},
        {"/phoneprov/webgui-massdeployment.conf", 404},
        {"/phoneprov/massdeployment.conf.bak", 404},
        {"/phoneprov/yealink/.001565aaa937.cfg.ptc-Ab12Cd", 404},
        {"/phoneprov/.ptc-manifest", 404},
        {"/phoneprov/.ptc-lock", 404},
        {"/phoneprov/ptc-cache/0123456789abcdef-42.ptcb", 404},
        {"/phoneprov/ptc-cache/readme.txt", 404},        /* the cache directory itself */
        {"/phoneprov/old/0123-1.ptcb", 404},
        {"/phoneprov/passwd.cfg", 404},                  /* symlink to /etc/passwd */
        {"/phoneprov/up.cfg", 404},                      /* symlink to ../secret.txt */
        {"/phoneprov/etcdir/passwd", 404},               /* symlinked directory out */
        {"/phoneprov/yealink/list.cfg", 404},            /* symlink to the phone list */
        {"/phoneprov/", 404},                            /* no listings */
        {"/phoneprov/yealink", 404},
        {"/phoneprov/yealink/", 404},
        {"/phoneprov", 404},
        {"/", 404},
        {"/mnt/kd/secret.txt", 404},
        {"/phoneprov/../secret.txt", 400},
        {"/phoneprov/yealink/../../secret.txt", 400},
        {"/phoneprov/%2e%2e/secret.txt", 400},
        {"/phoneprov/%2E%2E/secret.txt", 400},
        {"/phoneprov/.%2e/secret.txt", 400},
        {"/phoneprov/%2e%2e%2fsecret.txt", 400},
        {"/phoneprov/yealink%2f001565aaa937.cfg", 400},
        {"/phoneprov/yealink%2F..%2F..%2Fsecret.txt", 400},
        {"/phoneprov/yealink%5c001565aaa937.cfg", 400},
        {"/phoneprov/yealink/001565aaa937.cfg%00.png", 400},
        {"/phoneprov/%2e%2e", 400},
        {"/phoneprov/yealink/common.cfg", 200},          /* a symlink that stays inside */
        {"/phoneprov/yealink/y000000000028.cfg?user=admin&password=hunter2", 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        int st = get_as(NULL, cases[i].path, UA_YEALINK, &r);
        ck_assert_msg(st == cases[i].status, "%s: %d, want %d", cases[i].path, st, cases[i].status);
        ck_assert_msg(!strstr(ptc_buf_cstr(&r.raw), "SECRET"), "%s leaked a secret", cases[i].path);
        ck_assert_msg(!strstr(ptc_buf_cstr(&r.raw), "root:"), "%s leaked /etc/passwd", cases[i].path);
        resp_free(&r);
    }
    /* A raw NUL in the request line ends the path there (libmicrohttpd
     * keeps it as a C string): the rules and the open see the same cut
     * path, so nothing is smuggled past them. */
    static const char nul_req[] = "GET /phoneprov/massdeployment.conf\0.cfg HTTP/1.1\r\nHost: pbx\r\n"
                                  "Connection: close\r\n\r\n";
    static const char nul_req2[] = "GET /phoneprov/yealink/001565aaa937.cfg\0.png HTTP/1.1\r\nHost: pbx\r\n"
                                   "User-Agent: " UA_YEALINK2 "\r\nConnection: close\r\n\r\n";
    static const char nul_req3[] = "GET /phoneprov/\0/../../secret.txt HTTP/1.1\r\nHost: pbx\r\n"
                                   "Connection: close\r\n\r\n";
    static const struct { const char *q; size_t n; int status; } raw[] = {
        {nul_req, sizeof nul_req - 1, 404}, {nul_req2, sizeof nul_req2 - 1, 404},
        {nul_req3, sizeof nul_req3 - 1, 404},
    };
    for (size_t i = 0; i < 3; i++) {
        resp r;
        exchange(NULL, "127.0.0.1", port4, 0, raw[i].q, raw[i].n, &r);
        ck_assert_msg(r.status == raw[i].status, "raw NUL %zu: status %d", i, r.status);
        ck_assert(!strstr(ptc_buf_cstr(&r.raw), "SECRET"));
        resp_free(&r);
    }
    /* The log says why, and never the query's values. */
    ptc_serve_flush(srv);
    char *log = slurp(log_path);
    ck_assert(strstr(log, "refused=\"dot segment\""));
    ck_assert(strstr(log, "refused=\"templates directory\""));
    ck_assert(strstr(log, "refused=\"phone list or template (*.conf)\""));
    ck_assert(strstr(log, "refused=\"symlink leads out of the base directory\""));
    ck_assert(strstr(log, "refused=\"bytecode cache\""));
    ck_assert(!strstr(log, "hunter2"));
    ck_assert(!strstr(log, "password"));
    ck_assert(!strstr(log, "SECRET"));
    free(log);
}
END_TEST

/* ---- HTTP semantics ------------------------------------------------------- */

START_TEST(head_conditional_and_etag)
{
    start_default();
    resp r;
    request(NULL, "127.0.0.1", port4, "HEAD", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)r.body_len, 0);
    char want_len[32];
    snprintf(want_len, sizeof want_len, "%d", (int)strlen("#!version:1.0.0.1\naccount.1.user_name = 201\n"
                                                        "account.1.password = SECRETPASS201\n"));
    ck_assert_str_eq(header(&r, "Content-Length"), want_len);
    resp_free(&r);

    ck_assert_int_eq(get_as(NULL, "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK, &r), 200);
    char etag[128], lastmod[128];
    snprintf(etag, sizeof etag, "%s", header(&r, "ETag"));
    snprintf(lastmod, sizeof lastmod, "%s", header(&r, "Last-Modified"));
    resp_free(&r);
    char extra[300];
    snprintf(extra, sizeof extra, "If-Modified-Since: %s\r\n", lastmod);
    request(NULL, "127.0.0.1", port4, "GET", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK, extra, &r);
    ck_assert_int_eq(r.status, 304);
    ck_assert_int_eq((int)r.body_len, 0);
    ck_assert_str_eq(header(&r, "ETag"), etag);
    resp_free(&r);
    request(NULL, "127.0.0.1", port4, "GET", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK,
            "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    snprintf(extra, sizeof extra, "If-None-Match: \"x\", %s\r\n", etag);
    request(NULL, "127.0.0.1", port4, "GET", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK, extra, &r);
    ck_assert_int_eq(r.status, 304);
    resp_free(&r);
    request(NULL, "127.0.0.1", port4, "GET", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK,
            "If-None-Match: \"nope\"\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);

    /* `ptc run` rewrites the file: new ETag, If-None-Match no longer holds. */
    char path[512];
    snprintf(path, sizeof path, "%s/yealink/001565aaa937.cfg", base);
    ck_assert_int_eq(ptc_write_file_atomic(path, "new\n", 4, 0644), 0);
    snprintf(extra, sizeof extra, "If-None-Match: %s\r\n", etag);
    request(NULL, "127.0.0.1", port4, "GET", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK, extra, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_mem_str(r.body, r.body_len, "new\n");
    ck_assert_str_ne(header(&r, "ETag"), etag);
    resp_free(&r);
}
END_TEST

START_TEST(keep_alive_pipelined)
{
    start_default();
    static const char two[] =
        "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nHost: pbx\r\nUser-Agent: " UA_YEALINK "\r\n\r\n"
        "GET /phoneprov/yealink/001565aaa937.cfg HTTP/1.1\r\nHost: pbx\r\nUser-Agent: " UA_YEALINK "\r\n"
        "Connection: close\r\n\r\n";
    resp r;
    exchange(NULL, "127.0.0.1", port4, 0, two, sizeof two - 1, &r);
    const char *s = ptc_buf_cstr(&r.raw), *second = strstr(s + 1, "HTTP/1.1 200");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(second);
    ck_assert(strstr(second, "SECRETPASS201") != NULL);
    resp_free(&r);
}
END_TEST

/* ---- the allowlist on a real server --------------------------------------- */

START_TEST(allowlist_from_several_addresses)
{
    wfile("etc/rc.conf", "PHONEPROV_ALLOW=\"127.0.0.2 127.0.1.* 127.0.2.0/24 ::1\"\n");
    start_default();
    const char *p = "/phoneprov/yealink/y000000000028.cfg";
    ck_assert_int_eq(status_of("127.0.0.2", p, UA_YEALINK), 200);
    ck_assert_int_eq(status_of("127.0.0.3", p, UA_YEALINK), DENIED);
    ck_assert_int_eq(status_of("127.0.0.1", p, UA_YEALINK), DENIED);
    ck_assert_int_eq(status_of("127.0.1.5", p, UA_YEALINK), 200);
    ck_assert_int_eq(status_of("127.0.2.77", p, UA_YEALINK), 200);
    ck_assert_int_eq(status_of("127.0.3.1", p, UA_YEALINK), DENIED);
    /* Refused before anything else: the methods and the paths too. */
    resp r;
    request("127.0.0.3", "127.0.0.1", port4, "PUT", "/phoneprov/x.log", UA_POLYCOM, "Content-Length: 0\r\n", &r);
    ck_assert_int_eq(r.status, DENIED);
    resp_free(&r);
    ck_assert_int_eq(status_of("127.0.0.3", "/phoneprov/../secret.txt", UA_YEALINK), DENIED);
    if (have_v6) {
        request(NULL, "::1", port6, "GET", p, UA_YEALINK, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        resp_free(&r);
    }
    ptc_serve_flush(srv);
    char *log = slurp(log_path);
    /* Refused at accept: no log line per connection, a counter. */
    ck_assert(!strstr(log, " 127.0.0.3 "));
    ck_assert(!strstr(log, " 127.0.3.1 "));
    free(log);
    ptc_serve_guard_stats gs;
    ptc_serve_stats(srv, &gs);
    ck_assert_uint_ge(gs.denied, 5);
}
END_TEST

START_TEST(allowlist_cli_env_and_ipv6)
{
    /* --allow wins over rc.conf; the environment wins over rc.conf. */
    wfile("etc/rc.conf", "PHONEPROV_ALLOW=\"127.0.0.2\"\n");
    ptc_serve_opts o = default_opts();
    allow_v[0] = "127.0.0.3";
    allow_v[1] = "2001:db8::/48";
    o.allow = allow_v;
    o.nallow = 2;
    start_opts(&o);
    const char *p = "/phoneprov/yealink/y000000000028.cfg";
    ck_assert_int_eq(status_of("127.0.0.2", p, NULL), DENIED);
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), 200);
    if (have_v6) {
        resp r;
        request(NULL, "::1", port6, "GET", p, NULL, NULL, &r);
        ck_assert_int_eq(r.status, DENIED);        /* ::1 is not in 2001:db8::/48 */
        resp_free(&r);
    }
    ptc_serve_stop(srv);
    srv = NULL;
    setenv("PHONEPROV_ALLOW", "127.0.0.4", 1);
    start_default();
    ck_assert_int_eq(status_of("127.0.0.2", p, NULL), DENIED);
    ck_assert_int_eq(status_of("127.0.0.4", p, NULL), 200);
    unsetenv("PHONEPROV_ALLOW");
}
END_TEST

START_TEST(reload_allowlist)
{
    wfile("etc/rc.conf", "PHONEPROV_ALLOW=\"127.0.0.2\"\n");
    start_default();
    const char *p = "/phoneprov/yealink/y000000000028.cfg";
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), DENIED);
    wfile("etc/rc.conf", "PHONEPROV_ALLOW=\"127.0.0.3\"\n");
    ck_assert_int_eq(ptc_serve_reload(srv), 0);
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), 200);
    ck_assert_int_eq(status_of("127.0.0.2", p, NULL), DENIED);
    /* A broken allowlist is refused and the old one stays. */
    wfile("etc/rc.conf", "PHONEPROV_ALLOW=\"127.0.0.300\"\n");
    ck_assert_int_eq(ptc_serve_reload(srv), -1);
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), 200);
    ck_assert_int_eq(status_of("127.0.0.2", p, NULL), DENIED);
}
END_TEST

START_TEST(open_allowlist_warns_beyond_loopback)
{
    ptc_serve_opts o = default_opts();
    listen_v[0] = "*:0";
    o.nlisten = 1;
    ptc_diag d;
    FILE *out = tmpfile();
    ptc_diag_init(&d, out);
    ck_assert_int_eq(ptc_serve_start(&o, &srv, &d), 0);
    char msg[2048];
    rewind(out);
    size_t n = fread(msg, 1, sizeof msg - 1, out);
    msg[n] = '\0';
    fclose(out);
    ck_assert_msg(strstr(msg, "PHONEPROV_ALLOW is empty"), "%s", msg);
    /* The dual-stack listener answers IPv4 clients. */
    port4 = ptc_serve_port(srv, 0);
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/y000000000028.cfg", NULL), 200);
    ptc_serve_stop(srv);
    srv = NULL;

    o = default_opts();         /* loopback only: no warning */
    out = tmpfile();
    ptc_diag_init(&d, out);
    ck_assert_int_eq(ptc_serve_start(&o, &srv, &d), 0);
    rewind(out);
    n = fread(msg, 1, sizeof msg - 1, out);
    msg[n] = '\0';
    fclose(out);
    ck_assert_msg(!strstr(msg, "PHONEPROV_ALLOW is empty"), "%s", msg);
}
END_TEST

/* ---- audit and status ----------------------------------------------------- */

static char *run_status(int *rc, int check)
{
    char out_path[400];
    snprintf(out_path, sizeof out_path, "%s/status.out", root);
    char *argv[] = {"status", "--root", root, check ? "--check" : NULL, NULL};
    fflush(stdout);
    int saved = dup(1);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 1);
    close(fd);
    *rc = ptc_cmd_status(check ? 4 : 3, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return slurp(out_path);
}

static const char *line_of(const char *text, const char *mac, char *buf, size_t n)
{
    const char *p = strstr(text, mac);
    ck_assert_msg(p != NULL, "%s not listed:\n%s", mac, text);
    size_t k = strcspn(p, "\n");
    if (k >= n) k = n - 1;
    memcpy(buf, p, k);
    buf[k] = '\0';
    return buf;
}

START_TEST(audit_and_status)
{
    start_default();
    ck_assert_int_eq(status_of("127.0.0.5", "/phoneprov/yealink/y000000000028.cfg", UA_YEALINK), 200);
    ck_assert_int_eq(status_of("127.0.0.5", "/phoneprov/yealink/001565aaa937.cfg?token=hunter2", UA_YEALINK), 200);
    ck_assert_int_eq(status_of("127.0.0.6", "/phoneprov/grandstream/cfg000b828aa872.xml", UA_GRANDSTREAM), 200);
    ck_assert_int_eq(status_of("127.0.0.7", "/phoneprov/snom/snomD785-000413ABCDEF.htm", UA_SNOM), 200);
    /* Refused and HEAD requests are not fetches. */
    ck_assert_int_eq(status_of("127.0.0.9", "/phoneprov/cisco/00562b043615.xml", UA_YEALINK), 404);
    resp r;
    request("127.0.0.9", "127.0.0.1", port4, "HEAD", "/phoneprov/cisco/00562b043615.xml", UA_CISCO, NULL, &r);
    resp_free(&r);
    ptc_serve_flush(srv);

    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open_v2(audit_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT mac_addr, path, client_addr, method, status, bytes, "
                                        "user_agent, firmware, file_mtime_ns FROM phoneprov_fetch "
                                        "ORDER BY mac_addr, path", -1, &st, NULL), SQLITE_OK);
    static const char *const want[][4] = {
        {"000413abcdef", "snom/snomD785-000413ABCDEF.htm", "127.0.0.7", "10.1.46.16"},
        {"000b828aa872", "grandstream/cfg000b828aa872.xml", "127.0.0.6", "1.0.9.135"},
        {"001565aaa937", "yealink/001565aaa937.cfg", "127.0.0.5", "66.86.0.15"},
        {"001565aaa937", "yealink/y000000000028.cfg", "127.0.0.5", "66.86.0.15"},
    };
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), want[i][0]);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), want[i][1]);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 2), want[i][2]);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 3), "GET");
        ck_assert_int_eq(sqlite3_column_int(st, 4), 200);
        ck_assert_int_gt(sqlite3_column_int(st, 5), 0);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 7), want[i][3]);
        char path[512];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", base, want[i][1]);
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert(sqlite3_column_int64(st, 8) == (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
    }
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* The access log has every request, with the phone's MAC, no query. */
    char *log = slurp(log_path);
    ck_assert(strstr(log, " 127.0.0.5 GET /phoneprov/yealink/001565aaa937.cfg 200 "));
    ck_assert(strstr(log, "mac=000b828aa872 ua=\"" UA_GRANDSTREAM "\""));
    ck_assert(strstr(log, " 127.0.0.9 HEAD /phoneprov/cisco/00562b043615.xml 200 0 mac=00562b043615"));
    ck_assert(!strstr(log, "hunter2") && !strstr(log, "token") && !strstr(log, "SECRET"));
    free(log);

    /* ptc status: fetched phones ok, the others never; then one goes stale. */
    int rc;
    char line[512];
    char *out = run_status(&rc, 0);
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(line_of(out, "00:15:65:aa:a9:37", line, sizeof line), "201,211"));
    ck_assert(strstr(line, "127.0.0.5") && strstr(line, "66.86.0.15") && strstr(line, " ok"));
    ck_assert(strstr(line_of(out, "00:0b:82:8a:a8:72", line, sizeof line), " ok"));
    ck_assert(strstr(line_of(out, "00:04:f2:ab:cd:ef", line, sizeof line), "NEVER"));
    ck_assert(strstr(line_of(out, "00:56:2b:04:36:15", line, sizeof line), "NEVER"));
    ck_assert(strstr(out, "5 phones: 3 up to date, 2 never fetched, 0 stale"));
    ck_assert(!strstr(out, "00:15:65:AA:A9:37"));      /* one line per phone, not per line */
    free(out);

    /* `ptc run` regenerates the Yealink's file after the fetch. */
    char path[512];
    snprintf(path, sizeof path, "%s/yealink/001565aaa937.cfg", base);
    struct timespec later[2] = {{0, UTIME_OMIT}, {time(NULL) + 5, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, later, 0), 0);
    snprintf(path, sizeof path, "%s/snom/snomD785-000413ABCDEF.htm", base);
    ck_assert_int_eq(unlink(path), 0);
    out = run_status(&rc, 1);
    ck_assert_int_eq(rc, 3);
    ck_assert(strstr(line_of(out, "00:15:65:aa:a9:37", line, sizeof line), "STALE: yealink/001565aaa937.cfg"));
    ck_assert(!strstr(line, "y000000000028"));
    ck_assert(strstr(line_of(out, "00:04:13:ab:cd:ef", line, sizeof line), "STALE: snom/snomD785-000413ABCDEF.htm (gone)"));
    ck_assert(strstr(out, "5 phones: 1 up to date, 2 never fetched, 2 stale"));
    free(out);

    /* A new fetch makes it current again. */
    ck_assert_int_eq(status_of("127.0.0.5", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK), 200);
    ptc_serve_flush(srv);
    out = run_status(&rc, 0);
    ck_assert(strstr(line_of(out, "00:15:65:aa:a9:37", line, sizeof line), " ok"));
    free(out);
}
END_TEST

START_TEST(status_usage_and_errors)
{
    char *help[] = {"status", "--help", NULL};
    fflush(stdout);
    int saved = dup(1), devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    ck_assert_int_eq(ptc_cmd_status(2, help), 0);
    char *bad[] = {"status", "--bogus", NULL};
    ck_assert_int_eq(ptc_cmd_status(2, bad), 64);
    char nodb[400];
    snprintf(nodb, sizeof nodb, "%s/none.sqlite3", root);
    char *missing[] = {"status", "--db", nodb, NULL};
    ck_assert_int_eq(ptc_cmd_status(3, missing), 1);
    char *shelp[] = {"serve", "--help", NULL};
    ck_assert_int_eq(ptc_cmd_serve(2, shelp), 0);
    char *sbad[] = {"serve", "--mac-check=maybe", NULL};
    ck_assert_int_eq(ptc_cmd_serve(2, sbad), 64);
    char *notls[] = {"serve", "--tls-listen", "127.0.0.1:0", NULL};
    ck_assert_int_eq(ptc_cmd_serve(3, notls), 64);
    char *nobase[] = {"serve", "--root", nodb, "--listen", "127.0.0.1:0", NULL};
    ck_assert_int_eq(ptc_cmd_serve(5, nobase), 1);
    char *noallow[] = {"serve", "--root", root, "--listen", "127.0.0.1:0", "--allow", "", NULL};
    ck_assert_int_eq(ptc_cmd_serve(7, noallow), 1);
    char *badmiss[] = {"serve", "--miss-budget", "lots", NULL};
    ck_assert_int_eq(ptc_cmd_serve(3, badmiss), 64);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(devnull);
}
END_TEST

/* ---- HTTPS ---------------------------------------------------------------- */

/* A self-signed certificate for 127.0.0.1, made here with gnutls. */
static void make_cert(void)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
    ck_assert_int_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                                  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
    ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
    gnutls_x509_crt_set_version(crt, 3);
    unsigned char serial[4] = {1, 2, 3, 4};
    gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60);
    gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600);
    ck_assert_int_eq(gnutls_x509_crt_set_dn(crt, "CN=pbx", NULL), 0);
    unsigned char ip[4] = {127, 0, 0, 1};
    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_SET);
    gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
    gnutls_x509_crt_set_key(crt, key);
    ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
    unsigned char pem[8192];
    size_t n = sizeof pem;
    ck_assert_int_eq(gnutls_x509_crt_export(crt, GNUTLS_X509_FMT_PEM, pem, &n), 0);
    snprintf(cert_path, sizeof cert_path, "%s/server.crt", root);
    ck_assert_int_eq(ptc_write_file_atomic(cert_path, pem, n, 0644), 0);
    n = sizeof pem;
    ck_assert_int_eq(gnutls_x509_privkey_export(key, GNUTLS_X509_FMT_PEM, pem, &n), 0);
    snprintf(key_path, sizeof key_path, "%s/server.key", root);
    ck_assert_int_eq(ptc_write_file_atomic(key_path, pem, n, 0600), 0);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    ck_assert_int_eq(gnutls_certificate_allocate_credentials(&client_cred), 0);
    ck_assert_int_eq(gnutls_certificate_set_x509_trust_file(client_cred, cert_path, GNUTLS_X509_FMT_PEM), 1);
}

START_TEST(https_yealink)
{
    make_cert();
    ptc_serve_opts o = default_opts();
    tls_v[0] = "127.0.0.1:0";
    o.tls_listen = tls_v;
    o.ntls_listen = 1;
    o.cert_file = cert_path;
    o.key_file = key_path;
    start_opts(&o);
    ck_assert_int_gt(porttls, 0);
    static const char q[] = "GET /phoneprov/yealink/001565aaa937.cfg HTTP/1.1\r\nHost: pbx\r\n"
                            "User-Agent: " UA_YEALINK "\r\nConnection: close\r\n\r\n";
    resp r;
    exchange(NULL, "127.0.0.1", porttls, 1, q, sizeof q - 1, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strstr(r.body, "SECRETPASS201") != NULL);
    resp_free(&r);
    static const char q2[] = "GET /phoneprov/massdeployment.conf HTTP/1.1\r\nHost: pbx\r\nConnection: close\r\n\r\n";
    exchange(NULL, "127.0.0.1", porttls, 1, q2, sizeof q2 - 1, &r);
    ck_assert_int_eq(r.status, 404);
    resp_free(&r);
    /* Plain HTTP on the TLS port gets no file. */
    exchange(NULL, "127.0.0.1", porttls, 0, q, sizeof q - 1, &r);
    ck_assert(r.status != 200 && !strstr(ptc_buf_cstr(&r.raw), "SECRET"));
    resp_free(&r);
    gnutls_certificate_free_credentials(client_cred);
    /* A key that does not load: the server says so and does not start. */
    ptc_serve_stop(srv);
    srv = NULL;
    wfile("bad.key", "not a key\n");
    char bad[400];
    snprintf(bad, sizeof bad, "%s/bad.key", root);
    o.key_file = bad;
    ptc_diag d;
    FILE *out = tmpfile();
    ptc_diag_init(&d, out);
    ck_assert_int_eq(ptc_serve_start(&o, &srv, &d), -1);
    ck_assert_ptr_null(srv);
    fclose(out);
}
END_TEST

/* ---- robustness ----------------------------------------------------------- */

typedef struct worker {
    int n, ok;
    char src[16];
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        resp r;
        const char *p = i % 2 ? "/phoneprov/yealink/001565aaa937.cfg" : "/phoneprov/snom/snomD785.htm";
        const char *ua = i % 2 ? UA_YEALINK : UA_SNOM;
        request(w->src, "127.0.0.1", port4, "GET", p, ua, NULL, &r);
        if (r.status == 200 && (i % 2 ? strstr(r.body, "SECRETPASS201") : strstr(r.body, "setting_server")))
            w->ok++;
        resp_free(&r);
    }
    return NULL;
}

START_TEST(many_concurrent_clients)
{
    start_default();
    enum { NT = 16, PER = 40 };
    pthread_t t[NT];
    worker w[NT];
    for (int i = 0; i < NT; i++) {
        w[i].n = PER;
        w[i].ok = 0;
        snprintf(w[i].src, sizeof w[i].src, "127.0.%d.%d", 10 + i % 4, 1 + i);
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    ck_assert_int_eq(ok, NT * PER);
    ptc_serve_flush(srv);
    char *log = slurp(log_path);
    int lines = 0;
    for (const char *p = log; (p = strchr(p, '\n')); p++) lines++;
    ck_assert_int_eq(lines, NT * PER);
    free(log);
}
END_TEST

/* 1 if the server closed fd (EOF or reset) within ms milliseconds. */
static int closed_within(int fd, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, ms) <= 0) return 0;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

START_TEST(slow_clients_time_out)
{
    ptc_serve_opts o = default_opts();
    o.timeout = 1;
    start_opts(&o);
    int fd = connect_to(NULL, "127.0.0.1", port4);
    static const char part[] = "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nHost: p";
    ck_assert_int_eq(ptc_write_all(fd, part, sizeof part - 1), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_msg(closed_within(fd, 4000), "slow client not dropped");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
    close(fd);
    /* The server still answers. */
    ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/y000000000028.cfg", NULL), 200);
}
END_TEST

START_TEST(per_client_limit)
{
    ptc_serve_opts o = default_opts();
    o.max_per_ip = 2;
    start_opts(&o);
    int a = connect_to("127.0.0.8", "127.0.0.1", port4);
    int b = connect_to("127.0.0.8", "127.0.0.1", port4);
    usleep(200000);             /* let the server accept both */
    int c = connect_to("127.0.0.8", "127.0.0.1", port4);
    ck_assert_msg(closed_within(c, 3000), "third connection from one address was kept");
    close(c);
    /* Another address is not affected. */
    ck_assert_int_eq(status_of("127.0.0.9", "/phoneprov/yealink/y000000000028.cfg", NULL), 200);
    close(a);
    close(b);
    int st = 0;
    for (int i = 0; i < 40 && st != 200; i++) {
        usleep(50000);
        st = status_of("127.0.0.8", "/phoneprov/yealink/y000000000028.cfg", NULL);
    }
    ck_assert_int_eq(st, 200);
}
END_TEST

START_TEST(connection_limit)
{
    ptc_serve_opts o = default_opts();
    o.max_conns = 2;
    o.threads = 1;              /* MHD splits the limit between its threads */
    start_opts(&o);
    int a = connect_to("127.0.0.11", "127.0.0.1", port4);
    int b = connect_to("127.0.0.12", "127.0.0.1", port4);
    usleep(200000);
    /* Over the limit the server stops accepting: the third client waits in
     * the kernel's backlog, unanswered, until a slot frees. */
    int c = connect_to("127.0.0.13", "127.0.0.1", port4);
    static const char q[] = "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nHost: pbx\r\n"
                            "Connection: close\r\n\r\n";
    ck_assert_int_eq(ptc_write_all(c, q, sizeof q - 1), 0);
    struct pollfd pfd = {c, POLLIN, 0};
    ck_assert_int_eq(poll(&pfd, 1, 500), 0);
    close(a);
    ck_assert_int_eq(poll(&pfd, 1, 3000), 1);
    char buf[64] = "";
    ck_assert_int_gt(recv(c, buf, sizeof buf - 1, 0), 12);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    close(b);
    close(c);
}
END_TEST


/* ---- hardening: what a hostile LAN client can no longer do ---------------- */

/* Opens n sockets to port, from 127.0.0.(base + i % spread), sending nothing. */
static void open_idle(int *fds, int n, int port, int first, int spread)
{
    for (int i = 0; i < n; i++) {
        char src[16];
        snprintf(src, sizeof src, "127.0.0.%d", first + i % spread);
        fds[i] = connect_to(src, "127.0.0.1", port);
    }
}

/* How many of the n sockets the server closed within ms (all watched at once). */
static int count_closed(const int *fds, int n, int ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char closed[128] = {0};
    int nclosed = 0;
    for (;;) {
        for (int i = 0; i < n && i < 128; i++)
            if (!closed[i] && closed_within(fds[i], 0)) { closed[i] = 1; nclosed++; }
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (nclosed == n || el >= ms) return nclosed;
        usleep(20000);
    }
}

/* libmicrohttpd 0.9.75 with TURBO never timed out a TLS connection that
 * sent no ClientHello, and after the client left it stayed in CLOSE-WAIT
 * holding its slot: 40 such sockets kept HTTPS dead for good. */
START_TEST(tls_handshake_that_never_starts_is_closed)
{
    make_cert();
    ptc_serve_opts o = default_opts();
    tls_v[0] = "127.0.0.1:0";
    o.tls_listen = tls_v;
    o.ntls_listen = 1;
    o.cert_file = cert_path;
    o.key_file = key_path;
    o.max_conns = 40;
    o.timeout = 1;
    o.threads = 1;
    start_opts(&o);
    enum { N = 40 };
    int fds[N];
    open_idle(fds, N, porttls, 30, 2);
    /* Every one is closed by its head deadline (1 s), not left open. */
    ck_assert_int_eq(count_closed(fds, N, 4000), N);
    for (int i = 0; i < N; i++) close(fds[i]);
    static const char q[] = "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nHost: pbx\r\n"
                            "Connection: close\r\n\r\n";
    resp r;
    exchange(NULL, "127.0.0.1", porttls, 1, q, sizeof q - 1, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    /* And the sockets that gave up early left nothing behind either. */
    open_idle(fds, N, porttls, 30, 2);
    for (int i = 0; i < N; i++) close(fds[i]);
    usleep(300000);
    exchange(NULL, "127.0.0.1", porttls, 1, q, sizeof q - 1, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    gnutls_certificate_free_credentials(client_cred);
}
END_TEST

typedef struct trickler {
    int fds[80];
    int n;
    _Atomic int stop;
} trickler;

/* One byte of a request head every 200 ms on every socket, for at most 5 s. */
static void *trickle(void *arg)
{
    trickler *t = arg;
    static const char head[] = "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nHost: pbx\r\n";
    for (int k = 0; k < 25 && !t->stop; k++) {
        for (int i = 0; i < t->n; i++)
            if (send(t->fds[i], head + k % (sizeof head - 1), 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {}
        usleep(200000);
    }
    return NULL;
}

static int connect_quiet(const char *src, int port)
{
    struct sockaddr_in a = {0}, b = {0};
    a.sin_family = b.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    inet_pton(AF_INET, src, &b.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&b, sizeof b) != 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Addresses off the allowlist used to hold a slot each for as long as they
 * trickled: 80 of them against 60 slots shut every phone out. */
START_TEST(denied_tricklers_hold_no_slot)
{
    wfile("etc/rc.conf", "PHONEPROV_ALLOW=\"127.0.0.1\"\n");
    ptc_serve_opts o = default_opts();
    o.max_conns = 60;
    o.threads = 1;
    start_opts(&o);
    trickler t = {.n = 0};
    for (int i = 0; i < 80; i++) {
        char src[16];
        snprintf(src, sizeof src, "127.0.0.%d", 40 + i % 8);
        int fd = connect_quiet(src, port4);
        if (fd >= 0) t.fds[t.n++] = fd;
    }
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, trickle, &t), 0);
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        ok += status_of(NULL, "/phoneprov/yealink/y000000000028.cfg", NULL) == 200;
        usleep(100000);
    }
    t.stop = 1;
    pthread_join(th, NULL);
    for (int i = 0; i < t.n; i++) close(t.fds[i]);
    ck_assert_int_eq(ok, 20);
    ptc_serve_guard_stats gs;
    ptc_serve_stats(srv, &gs);
    ck_assert_uint_ge(gs.denied, 60);
}
END_TEST

/* An allowed client that trickles its head is cut at the deadline, though
 * it is never idle for a whole timeout. */
START_TEST(request_head_has_a_deadline)
{
    ptc_serve_opts o = default_opts();
    o.timeout = 1;
    start_opts(&o);
    trickler t = {.n = 1};
    t.fds[0] = connect_to(NULL, "127.0.0.1", port4);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, trickle, &t), 0);
    ck_assert_msg(closed_within(t.fds[0], 3500), "a trickling head was not cut");
    t.stop = 1;
    pthread_join(th, NULL);
    close(t.fds[0]);
    ptc_serve_guard_stats gs;
    ptc_serve_stats(srv, &gs);
    ck_assert_uint_eq(gs.head_timeouts, 1);
    /* A kept-alive connection gets a new deadline per request. */
    int fd = connect_to(NULL, "127.0.0.1", port4);
    static const char q[] = "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nHost: pbx\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ptc_write_all(fd, q, sizeof q - 1), 0);
        /* Read the whole response (headers and body may come apart). */
        char buf[512] = "";
        size_t got = 0;
        while (got < sizeof buf - 1 && !strstr(buf, "auto_provision.mode = 6\n")) {
            ssize_t k = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            ck_assert_int_gt(k, 0);
            got += (size_t)k;
            buf[got] = '\0';
        }
        ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%d: %s", i, buf);
        usleep(600000);
    }
    close(fd);
}
END_TEST

/* A pipe nobody reads: requests must go on, lines be dropped and counted,
 * and the server stop promptly. */
START_TEST(stalled_access_log_blocks_nothing)
{
    char fifo[400];
    snprintf(fifo, sizeof fifo, "%s/log.fifo", root);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    int reader = open(fifo, O_RDONLY | O_NONBLOCK);     /* opened, never read */
    ck_assert_int_ge(reader, 0);
    ptc_serve_opts o = default_opts();
    o.access_log = fifo;
    start_opts(&o);
    char ua[2048];
    memset(ua, 'u', sizeof ua - 1);
    ua[sizeof ua - 1] = '\0';
    int ok = 0;
    for (int i = 0; i < 400; i++)      /* about 900 KiB of log: far past the pipe */
        ok += status_of(NULL, "/phoneprov/yealink/y000000000028.cfg", ua) == 200;
    ck_assert_int_eq(ok, 400);
    ptc_serve_flush(srv);               /* bounded, even now */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ptc_serve_stop(srv);
    srv = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
    /* The pipe was filled with log lines, the rest dropped. */
    char buf[65536];
    ssize_t n = read(reader, buf, sizeof buf);
    ck_assert_int_gt(n, 60000);
    ck_assert(memmem(buf, (size_t)n, " GET /phoneprov/yealink/y000000000028.cfg 200 ", 46) != NULL);
    close(reader);
}
END_TEST

static long long sql_int(const char *db_path, const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* `yealink//x.cfg`, `yealink///x.cfg`... were a row each, each with the whole
 * User-Agent; a locked database kept them all in memory. */
START_TEST(audit_is_bounded_by_files_not_requests)
{
    start_default();
    /* Another process holds the audit database: the queue waits in memory. */
    sqlite3 *lock;
    ck_assert_int_eq(sqlite3_open(audit_path, &lock), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    static char ua[20001];
    memset(ua, 'A', sizeof ua - 1);
    memcpy(ua, UA_YEALINK " ", sizeof UA_YEALINK);
    for (int i = 0; i < 1000; i++) {
        char path[128];
        snprintf(path, sizeof path, "/phoneprov/yealink%.*s001565aaa937.cfg", 1 + i % 60,
                 "////////////////////////////////////////////////////////////");
        ck_assert_int_eq(status_of(NULL, path, ua), 200);
    }
    /* A thousand spellings of one file, 20 MB of User-Agents: one entry. */
    usleep(300000);             /* the background thread tried (and failed) to write */
    ck_assert_uint_eq(ptc_serve_audit_waiting(srv), 1);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(status_of(NULL, "/phoneprov/yealink/001565aaa999.cfg", UA_YEALINK), 404);
    sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(lock);
    ptc_serve_flush(srv);
    ck_assert_int_eq(sql_int(audit_path, "SELECT count(*) FROM phoneprov_fetch"), 1);
    ck_assert_int_eq(sql_int(audit_path, "SELECT count(*) FROM phoneprov_fetch WHERE path = "
                                         "'yealink/001565aaa937.cfg'"), 1);
    ck_assert_int_le(sql_int(audit_path, "SELECT max(length(user_agent)) FROM phoneprov_fetch"), 256);
    /* Misses are a sum, not a row each. */
    ck_assert_int_eq(sql_int(audit_path, "SELECT value FROM phoneprov_serve_stats WHERE name = 'misses'"), 40);
    struct stat st;
    ck_assert_int_eq(stat(audit_path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
}
END_TEST

/* A sweep of MAC addresses: 403 (exists, not yours) told which MACs exist,
 * and nothing slowed the guesses. */
START_TEST(mac_sweep_is_slowed_and_learns_nothing)
{
    ptc_serve_opts o = default_opts();
    o.miss_budget = 5;
    start_opts(&o);
    resp mine, none;
    get_as("127.0.0.21", "/phoneprov/yealink/001565aaa937.cfg", UA_YEALINK2, &mine);
    get_as("127.0.0.21", "/phoneprov/yealink/001565aaa938.cfg", UA_YEALINK2, &none);
    ck_assert_int_eq(mine.status, 404);
    ck_assert_int_eq(none.status, 404);
    ck_assert_str_eq(mine.body, none.body);
    ck_assert_str_eq(header(&mine, "Content-Length"), header(&none, "Content-Length"));
    resp_free(&mine);
    resp_free(&none);
    int st = 0, misses = 2;
    for (; misses < 20 && (st = status_of("127.0.0.21", "/phoneprov/yealink/001565aaa9ff.cfg", UA_YEALINK)) == 404;
         misses++) {}
    ck_assert_int_eq(misses, 5);                /* the budget: 5 misses */
    ck_assert(st == 429 || st == DENIED);
    /* Even an existing file now: the address waits for its budget. */
    ck_assert(status_of("127.0.0.21", "/phoneprov/yealink/y000000000028.cfg", NULL) != 200);
    /* Another address is not affected. */
    ck_assert_int_eq(status_of("127.0.0.22", "/phoneprov/yealink/y000000000028.cfg", NULL), 200);
    ptc_serve_guard_stats gs;
    ptc_serve_stats(srv, &gs);
    ck_assert_uint_ge(gs.throttled, 1);
    ptc_serve_flush(srv);
    int rc;
    char *out = run_status(&rc, 0);
    ck_assert_msg(strstr(out, "throttled"), "%s", out);
    free(out);
}
END_TEST

START_TEST(allowlist_fails_closed)
{
    /* A blank --allow is an error, not "everybody". */
    static const char *const blank[] = {"", " ", ",", " , "};
    for (size_t i = 0; i < 4; i++) {
        ptc_serve_opts o = default_opts();
        allow_v[0] = blank[i];
        o.allow = allow_v;
        o.nallow = 1;
        ptc_diag d;
        FILE *out = tmpfile();
        ptc_diag_init(&d, out);
        ck_assert_int_eq(ptc_serve_start(&o, &srv, &d), -1);
        char msg[512];
        rewind(out);
        size_t n = fread(msg, 1, sizeof msg - 1, out);
        msg[n] = '\0';
        fclose(out);
        ck_assert_msg(strstr(msg, "--allow is empty"), "%s", msg);
        srv = NULL;
    }
    /* A reload that finds PHONEPROV_ALLOW gone or blank, or rc.conf gone,
     * keeps the list it had. */
    wfile("etc/rc.conf", "PHONEPROV_BASE_DIR=/mnt/kd/phoneprov\nPHONEPROV_ALLOW=\"127.0.0.2\"\n");
    start_default();
    const char *p = "/phoneprov/yealink/y000000000028.cfg";
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), DENIED);
    wfile("etc/rc.conf", "PHONEPROV_BASE_DIR=/mnt/kd/phoneprov\n");
    ptc_serve_reload(srv);
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), DENIED);
    ck_assert_int_eq(status_of("127.0.0.2", p, NULL), 200);
    wfile("etc/rc.conf", "PHONEPROV_BASE_DIR=/mnt/kd/phoneprov\nPHONEPROV_ALLOW=\" \"\n");
    ptc_serve_reload(srv);
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), DENIED);
    char rc_path[400];
    snprintf(rc_path, sizeof rc_path, "%s/etc/rc.conf", root);
    unlink(rc_path);
    ck_assert_int_eq(ptc_serve_reload(srv), -1);
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), DENIED);
    /* Only an explicit setting opens it. */
    wfile("etc/rc.conf", "PHONEPROV_BASE_DIR=/mnt/kd/phoneprov\nPHONEPROV_ALLOW=\"*\"\n");
    ck_assert_int_eq(ptc_serve_reload(srv), 0);
    ck_assert_int_eq(status_of("127.0.0.3", p, NULL), 200);
}
END_TEST

START_TEST(host_header_and_server_names)
{
    static const char *const names[] = {"pbx", "10.0.0.1"};
    ptc_serve_opts o = default_opts();
    o.server_names = names;
    o.nserver_names = 2;
    start_opts(&o);
    static const char no_host11[] = "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nConnection: close\r\n\r\n";
    static const char no_host10[] = "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.0\r\n\r\n";
    resp r;
    exchange(NULL, "127.0.0.1", port4, 0, no_host11, sizeof no_host11 - 1, &r);
    ck_assert_int_eq(r.status, 400);
    resp_free(&r);
    exchange(NULL, "127.0.0.1", port4, 0, no_host10, sizeof no_host10 - 1, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    static const struct { const char *host; int status; } hosts[] = {
        {"pbx", 200}, {"PBX:8080", 200}, {"10.0.0.1:80", 200}, {"evil.example", 421},
        {"pbx.evil.example", 421}, {"pbxx", 421}, {"[::1]:8080", 421},
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        ptc_buf q = PTC_BUF_INIT;
        ptc_buf_printf(&q, "GET /phoneprov/yealink/y000000000028.cfg HTTP/1.1\r\nHost: %s\r\n"
                       "Connection: close\r\n\r\n", hosts[i].host);
        exchange(NULL, "127.0.0.1", port4, 0, q.data, q.len, &r);
        ck_assert_msg(r.status == hosts[i].status, "Host %s: %d", hosts[i].host, r.status);
        ck_assert(!strstr(ptc_buf_cstr(&r.raw), "auto_provision") || r.status == 200);
        resp_free(&r);
        ptc_buf_free(&q);
    }
}
END_TEST


/* While SQLite is busy, at most 65,536 phone-and-file entries wait; more
 * are dropped and counted, and the count reaches phoneprov_serve_stats. */
static void no_headers(struct MHD_Response *r, void *arg)
{
    (void)r;
    (void)arg;
}

/* The response cache holds at most its byte budget, whatever is asked of
 * it: past it a file is not even read (the caller streams it), and a kept
 * file that changed is never handed out again. */
START_TEST(response_cache_is_bounded_and_checked)
{
    char dir[400], name[64];
    snprintf(dir, sizeof dir, "%s/cache-bound", root);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(dfd, 0);
    static char big[PTC_SERVE_CACHE_FILE_MAX];
    memset(big, 'x', sizeof big);
    ptc_serve_cache *c = ptc_serve_cache_new();
    /* as many files as slots: more distinct slots fill than the budget holds */
    unsigned kept = 0, refused = 0, n = PTC_SERVE_CACHE_SLOTS;
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%04u.cfg", i);
        int fd = openat(dfd, name, O_RDWR | O_CREAT | O_TRUNC, 0644);
        ck_assert_int_eq(ptc_write_all(fd, big, sizeof big), 0);
        struct stat st;
        ck_assert_int_eq(fstat(fd, &st), 0);
        ptc_serve_cached *e = ptc_serve_cache_fill(c, name, fd, &st, "\"e\"", "lm", no_headers, NULL);
        if (e) kept++; else refused++;
        ptc_serve_cache_put(c, e);
        close(fd);
        ck_assert_uint_le(c->bytes, PTC_SERVE_CACHE_BYTES);
    }
    ck_assert_msg(refused > 0, "kept %u refused %u bytes %zu", kept, refused, c->bytes);
    ck_assert_uint_gt(kept, 0);
    unsigned live = 0;
    for (size_t i = 0; i < PTC_SERVE_CACHE_SLOTS; i++) live += c->slot[i] != NULL;
    ck_assert_uint_le(live, PTC_SERVE_CACHE_BYTES / PTC_SERVE_CACHE_FILE_MAX);
    /* a kept file: handed out while unchanged, never once written to */
    struct stat st;
    ptc_serve_cached *e = ptc_serve_cache_get(c, dfd, "f0000.cfg", &st);
    ck_assert_ptr_nonnull(e);
    ptc_serve_cache_put(c, e);
    int fd = openat(dfd, "f0000.cfg", O_WRONLY);
    ck_assert_int_eq(pwrite(fd, "y", 1, 0), 1);       /* same inode, same size */
    close(fd);
    ck_assert_ptr_null(ptc_serve_cache_get(c, dfd, "f0000.cfg", &st));
    ck_assert_ptr_null(ptc_serve_cache_get(c, dfd, "never.cfg", &st));
    ptc_serve_cache_free(c);
    close(dfd);
}
END_TEST

START_TEST(audit_queue_is_bounded)
{
    char path[400];
    snprintf(path, sizeof path, "%s/audit-bound.sqlite3", root);
    char why[256];
    ptc_serve_audit *a = ptc_serve_audit_open(path, why, sizeof why);
    ck_assert_msg(a != NULL, "%s", why);
    sqlite3 *lock;
    ck_assert_int_eq(sqlite3_open(path, &lock), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    enum { N = 65536 + 100 };
    for (unsigned i = 0; i < N; i++) {
        ptc_serve_fetch f;
        memset(&f, 0, sizeof f);
        snprintf(f.mac, sizeof f.mac, "001565%06x", i);
        f.path = "yealink/x.cfg";
        f.addr = "127.0.0.1";
        f.method = "GET";
        f.status = 200;
        ptc_serve_audit_record(a, &f);
    }
    ck_assert_uint_eq(ptc_serve_audit_queued(a), 65536);
    ck_assert_int_eq(ptc_serve_audit_flush(a, why, sizeof why), -1);     /* busy: kept */
    ck_assert_uint_eq(ptc_serve_audit_queued(a), 65536);
    sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(lock);
    ck_assert_int_eq(ptc_serve_audit_flush(a, why, sizeof why), 0);
    ck_assert_uint_eq(ptc_serve_audit_queued(a), 0);
    ptc_serve_audit_close(a);
    ck_assert_int_eq(sql_int(path, "SELECT count(*) FROM phoneprov_fetch"), 65536);
    ck_assert_int_eq(sql_int(path, "SELECT value FROM phoneprov_serve_stats WHERE name = 'audit_dropped'"), 100);
}
END_TEST

static Suite *serve_suite(void)
{
    Suite *s = suite_create("serve");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, allow_syntax_of_the_original_and_cidr);
    tcase_add_test(unit, ua_mac_and_firmware_of_real_phones);
    tcase_add_test(unit, path_rules);
    tcase_add_test(unit, log_escape_forges_no_lines);
    suite_add_tcase(s, unit);

    TCase *live = tcase_create("live");
    tcase_add_checked_fixture(live, setup, teardown);
    tcase_set_timeout(live, 20);
    tcase_add_test(live, yealink_boot);
    tcase_add_test(live, polycom_boot_and_log_put);
    tcase_add_test(live, snom_boot_upper_case_mac);
    tcase_add_test(live, grandstream_boot);
    tcase_add_test(live, mac_binding_enforce);
    tcase_add_test(live, mac_binding_modes);
    tcase_add_test(live, phone_table_change_is_picked_up);
    tcase_add_test(live, never_served);
    tcase_add_test(live, head_conditional_and_etag);
    tcase_add_test(live, keep_alive_pipelined);
    tcase_add_test(live, allowlist_from_several_addresses);
    tcase_add_test(live, allowlist_cli_env_and_ipv6);
    tcase_add_test(live, reload_allowlist);
    tcase_add_test(live, open_allowlist_warns_beyond_loopback);
    tcase_add_test(live, audit_and_status);
    tcase_add_test(live, status_usage_and_errors);
    tcase_add_test(live, https_yealink);
    tcase_add_test(live, many_concurrent_clients);
    tcase_add_test(live, slow_clients_time_out);
    tcase_add_test(live, per_client_limit);
    tcase_add_test(live, connection_limit);
    tcase_add_test(live, tls_handshake_that_never_starts_is_closed);
    tcase_add_test(live, denied_tricklers_hold_no_slot);
    tcase_add_test(live, request_head_has_a_deadline);
    tcase_add_test(live, stalled_access_log_blocks_nothing);
    tcase_add_test(live, audit_is_bounded_by_files_not_requests);
    tcase_add_test(live, mac_sweep_is_slowed_and_learns_nothing);
    tcase_add_test(live, allowlist_fails_closed);
    tcase_add_test(live, host_header_and_server_names);
    tcase_add_test(live, audit_queue_is_bounded);
    tcase_add_test(live, response_cache_is_bounded_and_checked);
    suite_add_tcase(s, live);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return ptc_test_run(serve_suite());
}
