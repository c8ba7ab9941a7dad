/* What a phone's User-Agent says about it: its firmware here, its MAC
 * through ptc_mac_find (include/ptc/mac.h).
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
