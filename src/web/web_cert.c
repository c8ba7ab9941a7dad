/* A self-signed certificate for ptc web's first start (GnuTLS): ECDSA
 * P-256, valid ten years, for localhost, 127.0.0.1, ::1 and this host's
 * name.  Both files are written 0600 beside the users file. */
#include "web_int.h"
#include "ptc/fsutil.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static int fill_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
    unsigned char serial[16];
    if (getrandom(serial, sizeof serial, 0) != (ssize_t)sizeof serial) return -1;
    serial[0] &= 0x7f;                  /* a positive number */
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    static const unsigned char lo4[4] = {127, 0, 0, 1}, lo6[16] = {[15] = 1};
    int rc = gnutls_x509_crt_set_version(crt, 3) | gnutls_x509_crt_set_key(crt, key) |
             gnutls_x509_crt_set_serial(crt, serial, sizeof serial) |
             gnutls_x509_crt_set_activation_time(crt, now - 3600) |
             gnutls_x509_crt_set_expiration_time(crt, now + 10L * 365 * 86400) |
             gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host, (unsigned)strlen(host)) |
             gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "ptc web", 7) |
             gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_APPEND) |
             gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host, (unsigned)strlen(host), GNUTLS_FSAN_APPEND) |
             gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo4, 4, GNUTLS_FSAN_APPEND) |
             gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo6, 16, GNUTLS_FSAN_APPEND) |
             gnutls_x509_crt_set_basic_constraints(crt, 0, -1) |
             gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) |
             gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    if (rc < 0) return -1;
    return gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ? -1 : 0;
}

int web_make_cert(const char *cert, const char *key, char *why, size_t whylen)
{
    gnutls_x509_privkey_t k = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t kp = {NULL, 0}, cp = {NULL, 0};
    int rc = -1;
    if (gnutls_x509_privkey_init(&k) < 0 || gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        fill_cert(crt, k) != 0 ||
        gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &kp) < 0 ||
        gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cp) < 0) {
        snprintf(why, whylen, "cannot make a self-signed certificate (GnuTLS)");
        goto out;
    }
    if (ptc_write_file_atomic(key, kp.data, kp.size, 0600) != 0 ||
        ptc_write_file_atomic(cert, cp.data, cp.size, 0600) != 0) {
        snprintf(why, whylen, "cannot write %s and %s", cert, key);
        goto out;
    }
    rc = 0;
out:
    if (kp.data) { explicit_bzero(kp.data, kp.size); gnutls_free(kp.data); }
    gnutls_free(cp.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(k);
    return rc;
}
