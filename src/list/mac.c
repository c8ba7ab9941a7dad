/* The MAC address grammar (include/ptc/mac.h). */
#include "ptc/mac.h"

#include <ctype.h>
#include <string.h>

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* Groups of width digits joined by sep, at s: their digits into hex. */
static int groups(const char *s, size_t n, size_t width, char sep, char hex[13])
{
    size_t ngroups = 12 / width, k = 0;
    if (n != ngroups * (width + 1) - 1) return -1;
    for (size_t g = 0; g < ngroups; g++) {
        const char *p = s + g * (width + 1);
        if (!all_hex(p, width) || (g + 1 < ngroups && p[width] != sep)) return -1;
        memcpy(hex + k, p, width);
        k += width;
    }
    hex[12] = '\0';
    return 0;
}

int ptc_mac_parse(const char *s, size_t n, int forms, char hex[13])
{
    if (n == 12 && all_hex(s, 12)) {
        memcpy(hex, s, 12);
        hex[12] = '\0';
        return 0;
    }
    if (n == 17 && (s[2] == ':' || s[2] == '-')) return groups(s, n, 2, s[2], hex);
    if (n == 14 && (forms & PTC_MAC_DOTTED)) return groups(s, n, 4, '.', hex);
    return -1;
}

static void lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

int ptc_mac_norm(const char *s, char mac[13])
{
    if (!s || ptc_mac_parse(s, strlen(s), PTC_MAC_DOTTED, mac) != 0) return 0;
    lower(mac);
    return 1;
}

uint64_t ptc_mac_value(const char *hex12)
{
    uint64_t v = 0;
    for (int i = 0; i < 12; i++) {
        int c = tolower((unsigned char)hex12[i]);
        v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return v;
}

static int is_word(char c)
{
    return isalnum((unsigned char)c) != 0;
}

/* At a word start: six pairs (not followed by more of the same), or a run
 * of exactly twelve digits. */
static int mac_at(const char *t, size_t left, char mac[13])
{
    if (left >= 17 && (t[2] == ':' || t[2] == '-') && !is_word(t[17]) && t[17] != t[2] &&
        ptc_mac_parse(t, 17, PTC_MAC_LIST, mac) == 0)
        return 1;
    size_t j = 0;
    while (j < left && isxdigit((unsigned char)t[j])) j++;
    return j == 12 && !is_word(t[j]) && ptc_mac_parse(t, 12, PTC_MAC_LIST, mac) == 0;
}

int ptc_mac_find(const char *text, char mac[13])
{
    if (!text) return 0;
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)text[i]) || (i > 0 && is_word(text[i - 1]))) continue;
        if (mac_at(text + i, n - i, mac)) {
            lower(mac);
            return 1;
        }
    }
    return 0;
}
