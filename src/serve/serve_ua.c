/* What a phone's User-Agent says about it: its MAC and its firmware.
 *
 * Phones write their MAC in several ways (docs/serve.md has the list):
 *   Yealink      Yealink SIP-T46S 66.86.0.15 00:15:65:4a:a9:37
 *   Aastra       Aastra6757i MAC:00-08-5D-23-74-29 V:3.3.1.4305-SIP
 *   Grandstream  Grandstream Model HW GXP2170 SW 1.0.9.135 DevId 000b828aa872
 *   Cisco        Cisco/SPA504G-7.5.5 (0018B9123456)(CCQ16...)
 *   Fanvil, Snom 12 hex digits standing alone
 * so we look for six hex pairs joined by one separator, or twelve hex
 * digits that are a word of their own (not part of a longer word, so a
 * serial number or a hash is not mistaken for a MAC). */
#include "ptc/serve.h"

#include <ctype.h>
#include <string.h>

static int is_word(char c)
{
    return isalnum((unsigned char)c) != 0;
}

static void put_lower(char *out, const char *hex, size_t n)
{
    for (size_t i = 0; i < n; i++) *out++ = (char)tolower((unsigned char)hex[i]);
}

/* Six pairs joined by sep at s (17 bytes); writes the MAC. */
static int pairs_at(const char *s, char sep, char mac[13])
{
    for (int g = 0; g < 6; g++) {
        const char *p = s + g * 3;
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])) return 0;
        if (g < 5 && p[2] != sep) return 0;
        put_lower(mac + g * 2, p, 2);
    }
    mac[12] = '\0';
    return 1;
}

int ptc_serve_ua_mac(const char *ua, char mac[13])
{
    if (!ua) return 0;
    size_t n = strlen(ua);
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)ua[i])) continue;
        if (i > 0 && is_word(ua[i - 1])) continue;
        /* 00:15:65:4a:a9:37 or 00-08-5D-23-74-29 */
        if (n - i >= 17 && (ua[i + 2] == ':' || ua[i + 2] == '-')) {
            char sep = ua[i + 2];
            if (pairs_at(ua + i, sep, mac) && !is_word(ua[i + 17]) && ua[i + 17] != sep)
                return 1;
        }
        /* 000b828aa872 as a word of its own */
        size_t j = i;
        while (j < n && isxdigit((unsigned char)ua[j])) j++;
        if (j - i == 12 && !is_word(ua[j])) {
            put_lower(mac, ua + i, 12);
            mac[12] = '\0';
            return 1;
        }
    }
    return 0;
}

int ptc_serve_ua_firmware(const char *ua, char *out, size_t n)
{
    if (n) out[0] = '\0';
    if (!ua || n == 0) return 0;
    for (const char *s = ua; *s; s++) {
        if (!isdigit((unsigned char)*s)) continue;
        if (s > ua && (is_word(s[-1]) || s[-1] == '.')) continue;
        const char *e = s;
        int dots = 0;
        while (isdigit((unsigned char)*e)) e++;
        while (e[0] == '.' && is_word(e[1])) {
            e++;
            while (is_word(*e)) e++;
            dots++;
        }
        if (dots >= 2) {
            size_t len = (size_t)(e - s);
            if (len >= n) len = n - 1;
            memcpy(out, s, len);
            out[len] = '\0';
            return 1;
        }
        s = e - 1;      /* skip the rest of this number (s++ moves past it) */
    }
    return 0;
}

int ptc_serve_mac_norm(const char *s, char mac[13])
{
    size_t k = 0;
    if (!s) return 0;
    for (; *s; s++) {
        if (*s == ':' || *s == '-' || *s == '.') continue;
        if (!isxdigit((unsigned char)*s) || k == 12) return 0;
        mac[k++] = (char)tolower((unsigned char)*s);
    }
    mac[k] = '\0';
    return k == 12;
}

uint64_t ptc_serve_mac_value(const char *hex12)
{
    uint64_t v = 0;
    for (int i = 0; i < 12; i++) {
        int c = tolower((unsigned char)hex12[i]);
        v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return v;
}
