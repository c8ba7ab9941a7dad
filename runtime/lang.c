/* Name tables for contexts, slots and [general] keys. */
#include "ptc/lang.h"

#include <stdio.h>
#include <string.h>

const char *const ptc_ctx_names[PTC_CTX_COUNT] = {
#define X(id, name) name,
    PTC_CONTEXTS(X)
#undef X
};

const char *const ptc_slot_names[PTC_SLOT_COUNT] = {
#define X(id) #id,
    PTC_SLOTS(X)
#undef X
};

const char *const ptc_key_names[PTC_KEY_COUNT] = {
#define X(id, name) name,
    PTC_KEYS(X)
#undef X
};

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) return i;
    return -1;
}

int ptc_ctx_lookup(const char *name, size_t len)
{
    return lookup(ptc_ctx_names, PTC_CTX_COUNT, name, len);
}

int ptc_key_lookup(const char *name, size_t len)
{
    return lookup(ptc_key_names, PTC_KEY_COUNT, name, len);
}

/* Spelling -> slot.  Unindexed names mean line 1; USERNAME is ACCOUNT. */
static const struct { const char *name; int slot; } vars[] = {
    {"TEMPLATE", PTC_SLOT_TEMPLATE}, {"MODEL", PTC_SLOT_MODEL},
    {"VENDOR", PTC_SLOT_VENDOR}, {"MAC_ADDR", PTC_SLOT_MAC_ADDR},
    {"MAC", PTC_SLOT_MAC}, {"MAC4", PTC_SLOT_MAC4}, {"MAC6", PTC_SLOT_MAC6},
    {"SIP_SERVER_IPV4", PTC_SLOT_SIP_SERVER_IPV4},
    {"EXT", PTC_SLOT_EXT1}, {"CID_NAME", PTC_SLOT_CID_NAME1},
    {"CID_NUM", PTC_SLOT_CID_NUM1}, {"PASSWORD", PTC_SLOT_PASSWORD1},
    {"ACCOUNT", PTC_SLOT_ACCOUNT1}, {"USERNAME", PTC_SLOT_ACCOUNT1},
#define LINE(n) \
    {"EXT" #n, PTC_SLOT_EXT##n}, {"CID_NAME" #n, PTC_SLOT_CID_NAME##n}, \
    {"CID_NUM" #n, PTC_SLOT_CID_NUM##n}, {"PASSWORD" #n, PTC_SLOT_PASSWORD##n}, \
    {"ACCOUNT" #n, PTC_SLOT_ACCOUNT##n}, {"USERNAME" #n, PTC_SLOT_ACCOUNT##n},
    LINE(1) LINE(2) LINE(3) LINE(4) LINE(5) LINE(6)
#undef LINE
};

const char *const ptc_var_spellings[] = {
    "TEMPLATE", "MODEL", "VENDOR", "MAC_ADDR", "MAC", "MAC4", "MAC6",
    "SIP_SERVER_IPV4", "EXT", "CID_NAME", "CID_NUM", "PASSWORD", "ACCOUNT",
    "USERNAME",
#define LINE(n) "EXT" #n, "CID_NAME" #n, "CID_NUM" #n, "PASSWORD" #n, "ACCOUNT" #n, "USERNAME" #n,
    LINE(1) LINE(2) LINE(3) LINE(4) LINE(5) LINE(6)
#undef LINE
    NULL
};

int ptc_slot_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return vars[i].slot;
    return -1;
}

const char *const ptc_filter_names[PTC_FILTER_COUNT] = {
    "",
#define X(id, name) name,
    PTC_FILTERS(X)
#undef X
};

const char *const ptc_filter_spellings[] = {
#define X(id, name) name,
    PTC_FILTERS(X)
#undef X
    NULL
};

int ptc_filter_lookup(const char *name, size_t len)
{
    int f = lookup(ptc_filter_names, PTC_FILTER_COUNT, name, len);
    return f > 0 ? f : -1;
}

int ptc_filter_chain_valid(uint32_t chain)
{
    int ended = 0;
    for (int i = 0; i < 8; i++) {
        unsigned f = chain >> (i * PTC_FILTER_BITS) & 0xf;
        if (i >= PTC_FILTER_CHAIN && f) return 0;
        if (f == 0) { ended = 1; continue; }
        if (ended || f >= PTC_FILTER_COUNT) return 0;
    }
    return 1;
}

void ptc_filter_chain_text(uint32_t chain, char *out, size_t n)
{
    size_t k = 0;
    if (n) out[0] = '\0';
    for (int i = 0; i < PTC_FILTER_CHAIN; i++) {
        unsigned f = chain >> (i * PTC_FILTER_BITS) & 0xf;
        if (!f || f >= PTC_FILTER_COUNT) break;
        int w = snprintf(out + k, n > k ? n - k : 0, "%s%s", k ? ":" : "", ptc_filter_names[f]);
        if (w < 0 || (size_t)w >= n - k) break;
        k += (size_t)w;
    }
}
