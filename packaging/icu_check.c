/* What riskmap's Qt asks of ICU, printed so that two ICU data libraries can be compared (packaging/icu_trim.py):
 * Chinese and English collation (pinyin order), line and word breaks of Chinese text (the CJK dictionary),
 * the Chinese code pages, case mapping and NFKC. Every call prints its ICU status too, so a missing item of
 * the data shows as a different line (U_MISSING_RESOURCE_ERROR, U_USING_DEFAULT_WARNING …).
 * Built with -DICU_V=<major>: ICU's C functions carry the version in their names (ucol_open_73). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define F(name) CAT(name, ICU_V)

typedef uint16_t UChar;
typedef int UErrorCode;
typedef void UCollator;
typedef void UBreakIterator;
typedef void UConverter;
typedef void UNormalizer2;

extern UCollator *F(ucol_open)(const char *loc, UErrorCode *status);
extern int F(ucol_strcoll)(const UCollator *c, const UChar *a, int32_t la, const UChar *b, int32_t lb);
extern void F(ucol_close)(UCollator *c);
extern UBreakIterator *F(ubrk_open)(int type, const char *loc, const UChar *text, int32_t len, UErrorCode *status);
extern int32_t F(ubrk_next)(UBreakIterator *bi);
extern void F(ubrk_close)(UBreakIterator *bi);
extern UConverter *F(ucnv_open)(const char *name, UErrorCode *status);
extern int32_t F(ucnv_fromUChars)(UConverter *cnv, char *dest, int32_t cap, const UChar *src, int32_t len, UErrorCode *status);
extern void F(ucnv_close)(UConverter *cnv);
extern int32_t F(u_strToUpper)(UChar *dest, int32_t cap, const UChar *src, int32_t len, const char *loc, UErrorCode *status);
extern const UNormalizer2 *F(unorm2_getNFKCInstance)(UErrorCode *status);
extern int32_t F(unorm2_normalize)(const UNormalizer2 *n, const UChar *src, int32_t len, UChar *dest, int32_t cap, UErrorCode *status);
extern const char *F(u_errorName)(UErrorCode code);

/* UTF-8 → UTF-16 (the BMP is enough here) */
static int32_t u16(const char *s, UChar *out) {
    int32_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) { out[n++] = *p++; }
        else if ((*p & 0xE0) == 0xC0) { out[n++] = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F); p += 2; }
        else { out[n++] = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); p += 3; }
    }
    return n;
}

static const char *NAMES[] = {"会宁县", "平阴县", "安定区", "城关区", "堃", "喆", "玥", "兰州市", "北京市", "Zhang", "apple", "阿", "重庆市", "长沙市", "厦门市"};
#define N_NAMES (int)(sizeof NAMES / sizeof NAMES[0])

static void collate(const char *loc) {
    UErrorCode st = 0;
    UCollator *c = F(ucol_open)(loc, &st);
    printf("collator %s: %s\n", loc, F(u_errorName)(st));
    if (!c) return;
    int order[N_NAMES];
    for (int i = 0; i < N_NAMES; i++) order[i] = i;
    for (int i = 1; i < N_NAMES; i++)  /* insertion sort with the collator */
        for (int j = i; j > 0; j--) {
            UChar a[64], b[64];
            int32_t la = u16(NAMES[order[j - 1]], a), lb = u16(NAMES[order[j]], b);
            if (F(ucol_strcoll)(c, a, la, b, lb) <= 0) break;
            int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
    for (int i = 0; i < N_NAMES; i++) printf(" %s", NAMES[order[i]]);
    printf("\n");
    F(ucol_close)(c);
}

static void breaks(int type, const char *loc, const char *text) {
    UChar u[256];
    int32_t n = u16(text, u);
    UErrorCode st = 0;
    UBreakIterator *bi = F(ubrk_open)(type, loc, u, n, &st);
    printf("breaks %d %s: %s:", type, loc, F(u_errorName)(st));
    if (bi) {
        for (int32_t p = F(ubrk_next)(bi); p >= 0; p = F(ubrk_next)(bi)) printf(" %d", p);
        F(ubrk_close)(bi);
    }
    printf("\n");
}

static void convert(const char *name, const char *text) {
    UChar u[256];
    char out[512];
    int32_t n = u16(text, u);
    UErrorCode st = 0;
    UConverter *cnv = F(ucnv_open)(name, &st);
    printf("converter %s: %s:", name, F(u_errorName)(st));
    if (cnv) {
        int32_t m = F(ucnv_fromUChars)(cnv, out, sizeof out, u, n, &st);
        for (int32_t i = 0; i < m; i++) printf("%02x", (unsigned char)out[i]);
        printf(" %s", F(u_errorName)(st));
        F(ucnv_close)(cnv);
    }
    printf("\n");
}

int main(void) {
    const char *text = "会宁县安全风险一张图：企业与区域安全风险等级分布（重大·较大·一般·低），示例数据 EPSG:4544。";
    collate("zh"); collate("zh_CN"); collate("en"); collate("root"); collate("");
    breaks(2, "zh", text); breaks(2, "zh_CN", text); breaks(2, "en", text);  /* UBRK_LINE */
    breaks(1, "zh", text); breaks(1, "zh_CN", text);                          /* UBRK_WORD: the CJK dictionary */
    breaks(0, "zh", text); breaks(3, "zh", text);                             /* characters, sentences */
    convert("GB18030", text); convert("GBK", text); convert("windows-936", text); convert("Big5", "會寧縣");
    convert("UTF-8", text); convert("ISO-8859-1", "abc");
    UChar u[256], v[256];
    UErrorCode st = 0;
    int32_t n = u16("ｅｐｓｇ：４５４４ ①②", u);
    int32_t m = F(u_strToUpper)(v, 256, u, n, "en", &st);
    printf("upper: %s:", F(u_errorName)(st));
    for (int32_t i = 0; i < m; i++) printf(" %04x", v[i]);
    printf("\n");
    st = 0;
    const UNormalizer2 *nf = F(unorm2_getNFKCInstance)(&st);
    m = nf ? F(unorm2_normalize)(nf, u, n, v, 256, &st) : 0;
    printf("nfkc: %s:", F(u_errorName)(st));
    for (int32_t i = 0; i < m; i++) printf(" %04x", v[i]);
    printf("\n");
    return 0;
}
