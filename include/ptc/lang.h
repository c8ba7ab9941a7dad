/* The template language's fixed vocabulary: contexts, variable slots and
 * [general] keys.  Each list is an X-macro so enums and name tables cannot
 * drift apart.
 *
 * Ownership: static tables only; nothing to own or free.
 */
#ifndef PTC_LANG_H
#define PTC_LANG_H

#include <stddef.h>
#include <stdint.h>

/* Contexts, in the order the original tool processes them. */
#define PTC_CONTEXTS(X)        \
    X(GENERAL,   "general")    \
    X(DIALPLAN1, "dialplan")   \
    X(DIALPLAN2, "dialplan2")  \
    X(DIALPLAN3, "dialplan3")  \
    X(DIALPLAN4, "dialplan4")  \
    X(DIALPLAN5, "dialplan5")  \
    X(DIALPLAN6, "dialplan6")  \
    X(SIP,       "sip")        \
    X(PJSIP,     "pjsip")      \
    X(PHONEPROV, "phoneprov")

typedef enum {
#define X(id, name) PTC_CTX_##id,
    PTC_CONTEXTS(X)
#undef X
    PTC_CTX_COUNT
} ptc_ctx;

/* [dialplan] ... [dialplan6]: the contexts written into extension files. */
static inline int ptc_ctx_is_dialplan(int ctx)
{
    return ctx >= PTC_CTX_DIALPLAN1 && ctx <= PTC_CTX_DIALPLAN6;
}

/* Variable slots: what the VM reads for a phone.  Aliases (EXT, USERNAME...)
 * resolve to these at compile time. */
#define PTC_SLOTS(X) \
    X(TEMPLATE) X(MODEL) X(VENDOR) X(MAC_ADDR) X(MAC) X(MAC4) X(MAC6) \
    X(SIP_SERVER_IPV4) \
    X(EXT1) X(EXT2) X(EXT3) X(EXT4) X(EXT5) X(EXT6) \
    X(CID_NAME1) X(CID_NAME2) X(CID_NAME3) X(CID_NAME4) X(CID_NAME5) X(CID_NAME6) \
    X(CID_NUM1) X(CID_NUM2) X(CID_NUM3) X(CID_NUM4) X(CID_NUM5) X(CID_NUM6) \
    X(PASSWORD1) X(PASSWORD2) X(PASSWORD3) X(PASSWORD4) X(PASSWORD5) X(PASSWORD6) \
    X(ACCOUNT1) X(ACCOUNT2) X(ACCOUNT3) X(ACCOUNT4) X(ACCOUNT5) X(ACCOUNT6)

typedef enum {
#define X(id) PTC_SLOT_##id,
    PTC_SLOTS(X)
#undef X
    PTC_SLOT_COUNT
} ptc_slot;

#define PTC_MAX_LINES 6

/* [general] keys.  EARLY keys are evaluated before the phone's MAC case,
 * model and vendor are known (see docs/template-language.md). */
#define PTC_KEYS(X) \
    X(MACADDRESS_CASE,     "macaddress_case")     \
    X(MODEL,               "model")               \
    X(VENDOR,              "vendor")              \
    X(AUTO_ACCOUNT_PREFIX, "auto_account_prefix") \
    X(AUTO_ACCOUNT_SUFFIX, "auto_account_suffix") \
    X(AUTO_ACCOUNT_CASE,   "auto_account_case")   \
    X(PROV_PATH,           "prov_path")           \
    X(PROV_FILE,           "prov_file")           \
    X(DIALPLAN_PATH,       "dialplan_path")       \
    X(DIALPLAN1_FILE,      "dialplan_file")       \
    X(DIALPLAN2_FILE,      "dialplan2_file")      \
    X(DIALPLAN3_FILE,      "dialplan3_file")      \
    X(DIALPLAN4_FILE,      "dialplan4_file")      \
    X(DIALPLAN5_FILE,      "dialplan5_file")      \
    X(DIALPLAN6_FILE,      "dialplan6_file")      \
    X(DIALPLAN1_CONTEXT,   "dialplan_context")    \
    X(DIALPLAN2_CONTEXT,   "dialplan2_context")   \
    X(DIALPLAN3_CONTEXT,   "dialplan3_context")   \
    X(DIALPLAN4_CONTEXT,   "dialplan4_context")   \
    X(DIALPLAN5_CONTEXT,   "dialplan5_context")   \
    X(DIALPLAN6_CONTEXT,   "dialplan6_context")   \
    X(SIP_PATH,            "sip_path")            \
    X(SIP_FILE,            "sip_file")            \
    X(PJSIP_PATH,          "pjsip_path")          \
    X(PJSIP_FILE,          "pjsip_file")          \
    X(SQL_ENABLE,          "sql_enable")          \
    X(SIP_DRIVER,          "sip_driver")          \
    X(ESCAPE,              "escape")              \
    X(NOTIFY_RELOAD,       "notify_reload")       \
    X(NOTIFY_REBOOT,       "notify_reboot")

typedef enum {
#define X(id, name) PTC_KEY_##id,
    PTC_KEYS(X)
#undef X
    PTC_KEY_COUNT
} ptc_key;

/* Filters, written after a variable's name: @CID_NAME:xml@, @MAC:upper@,
 * chains left to right (@CID_NAME:upper:xml@).  RAW is no change, and opts
 * a variable out of the template's default (escape=xml in [general]).  A
 * chain is packed into 32 bits, PTC_FILTER_BITS per filter, first filter in
 * the low bits, 0 ending it: resolved at compile time, so the VM compares
 * no names. */
#define PTC_FILTERS(X) \
    X(RAW,   "raw")   \
    X(XML,   "xml")   \
    X(URL,   "url")   \
    X(UPPER, "upper") \
    X(LOWER, "lower")

typedef enum {
    PTC_FILTER_NONE = 0,
#define X(id, name) PTC_FILTER_##id,
    PTC_FILTERS(X)
#undef X
    PTC_FILTER_COUNT
} ptc_filter;

#define PTC_FILTER_BITS  4
#define PTC_FILTER_CHAIN 7      /* filters in one chain at most */

extern const char *const ptc_filter_names[PTC_FILTER_COUNT];   /* [0] is "" */
extern const char *const ptc_filter_spellings[];    /* the names, NULL-terminated */
/* Filter by exact name, or -1. */
int ptc_filter_lookup(const char *name, size_t len);
/* 1 if chain is well formed: known filters, none after the first 0. */
int ptc_filter_chain_valid(uint32_t chain);
/* The chain as written after the name ("upper:xml"), into out. */
void ptc_filter_chain_text(uint32_t chain, char *out, size_t n);

extern const char *const ptc_ctx_names[PTC_CTX_COUNT];
extern const char *const ptc_slot_names[PTC_SLOT_COUNT];
extern const char *const ptc_key_names[PTC_KEY_COUNT];

/* Context by exact name, or -1. */
int ptc_ctx_lookup(const char *name, size_t len);
/* Slot for a variable name as written between @...@ (EXT, USERNAME3, ...),
 * or -1 when the name is not a merge variable. */
int ptc_slot_lookup(const char *name, size_t len);
/* [general] key by exact name, or -1. */
int ptc_key_lookup(const char *name, size_t len);

/* Every name a template may write between @...@, NULL-terminated (for
 * did-you-mean suggestions). */
extern const char *const ptc_var_spellings[];

#endif
