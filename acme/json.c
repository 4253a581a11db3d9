#include "acme/json.h"

#include <string.h>

typedef struct json_parser {
    const uint8_t *s;
    size_t len, pos;
    int depth;
    int err;
    acme_json_doc_t *doc;
} json_parser_t;

static acme_json_t *parse_value(json_parser_t *p);

static void *fail(json_parser_t *p, int err)
{
    if (!p->err) {
        p->err = err;
        p->doc->err_off = p->pos;
    }
    return NULL;
}

/* RFC 8259 §2: only space, tab, LF and CR are whitespace. */
static void skip_ws(json_parser_t *p)
{
    while (p->pos < p->len) {
        uint8_t c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static acme_json_t *node(json_parser_t *p, acme_json_type_t type)
{
    acme_json_t *v = dns_arena_alloc(&p->doc->arena, sizeof(*v));
    if (!v)
        return fail(p, ZL_ENOMEM);
    memset(v, 0, sizeof(*v));
    v->type = type;
    return v;
}

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629 §4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return need + 1;
}

static int hex4(const uint8_t *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | cp >> 12);
        d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One \u escape (or a surrogate pair of them) at p->pos, just after the
 * backslash-u; the code point goes to *cp. */
static int unicode_escape(json_parser_t *p, unsigned *cp)
{
    if (p->len - p->pos < 4 || hex4(p->s + p->pos, cp))
        return -1;
    p->pos += 4;
    if (*cp >= 0xdc00 && *cp <= 0xdfff)
        return -1; /* a low surrogate first */
    if (*cp < 0xd800 || *cp > 0xdbff)
        return 0;
    unsigned low;
    if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
        hex4(p->s + p->pos + 2, &low) || low < 0xdc00 || low > 0xdfff)
        return -1;
    p->pos += 6;
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
    return 0;
}

/* A string at p->pos (on the opening quote), decoded into the arena. The
 * decoded form is never longer than the source, so the raw span sizes it. */
static char *parse_string(json_parser_t *p, size_t *out_len, bool *has_nul)
{
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) {
        p->pos = p->len;
        return fail(p, ZL_ESYNTAX);
    }
    char *d = dns_arena_alloc(&p->doc->arena, end - start + 1);
    if (!d)
        return fail(p, ZL_ENOMEM);
    size_t n = 0;
    *has_nul = false;
    while (p->pos < end) {
        uint8_t c = p->s[p->pos];
        if (c < 0x20)
            return fail(p, ZL_ESYNTAX); /* §7: control characters must be escaped */
        if (c >= 0x80) {
            size_t k = utf8_seq(p->s + p->pos, end - p->pos);
            if (!k)
                return fail(p, ZL_ESYNTAX);
            memcpy(d + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
            continue;
        }
        p->pos++;
        if (c != '\\') {
            d[n++] = (char)c;
            continue;
        }
        c = p->s[p->pos++];
        unsigned cp;
        switch (c) {
        case '"': case '\\': case '/': d[n++] = (char)c; break;
        case 'b': d[n++] = '\b'; break;
        case 'f': d[n++] = '\f'; break;
        case 'n': d[n++] = '\n'; break;
        case 'r': d[n++] = '\r'; break;
        case 't': d[n++] = '\t'; break;
        case 'u':
            if (unicode_escape(p, &cp) || p->pos > end)
                return fail(p, ZL_ESYNTAX);
            if (cp == 0)
                *has_nul = true;
            n += put_utf8(d + n, cp);
            break;
        default:
            p->pos--;
            return fail(p, ZL_ESYNTAX);
        }
    }
    p->pos = end + 1;
    d[n] = '\0';
    dns_arena_shrink(&p->doc->arena, d, n + 1);
    *out_len = n;
    return d;
}

static size_t digits(json_parser_t *p)
{
    size_t n = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++, n++;
    return n;
}

/* §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static acme_json_t *parse_number(json_parser_t *p)
{
    size_t start = p->pos;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0')
        p->pos++;
    else if (!digits(p))
        return fail(p, ZL_ESYNTAX);
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (!digits(p))
            return fail(p, ZL_ESYNTAX);
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (!digits(p))
            return fail(p, ZL_ESYNTAX);
    }
    acme_json_t *v = node(p, ACME_JSON_NUMBER);
    char *t = v ? dns_arena_alloc(&p->doc->arena, p->pos - start + 1) : NULL;
    if (!t)
        return fail(p, ZL_ENOMEM);
    memcpy(t, p->s + start, p->pos - start);
    t[p->pos - start] = '\0';
    v->str = t;
    v->len = p->pos - start;
    return v;
}

static acme_json_t *parse_literal(json_parser_t *p)
{
    static const struct { const char *text; acme_json_type_t type; } lit[] = {
        { "true", ACME_JSON_TRUE }, { "false", ACME_JSON_FALSE }, { "null", ACME_JSON_NULL },
    };
    for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
        size_t n = strlen(lit[i].text);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, lit[i].text, n) == 0) {
            p->pos += n;
            return node(p, lit[i].type);
        }
    }
    return fail(p, ZL_ESYNTAX);
}

/* Elements of an array or members of an object, after the opening
 * bracket, up to and including the closing one. */
static acme_json_t *parse_container(json_parser_t *p, acme_json_type_t type)
{
    const uint8_t close = type == ACME_JSON_ARRAY ? ']' : '}';
    acme_json_t *v = node(p, type);
    if (!v)
        return NULL;
    if (++p->depth > ACME_JSON_MAX_DEPTH)
        return fail(p, ZL_ERANGE);
    p->pos++;
    skip_ws(p);
    acme_json_t **tail = &v->child;
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return v;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (type == ACME_JSON_OBJECT) {
            bool nul;
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, ZL_ESYNTAX);
            size_t at = p->pos;
            if (!(key = parse_string(p, &key_len, &nul)))
                return NULL;
            if (v->len >= ACME_JSON_MAX_MEMBERS)
                return fail(p, ZL_ERANGE);
            for (const acme_json_t *m = v->child; m; m = m->next)
                if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0) {
                    p->pos = at;
                    return fail(p, ZL_ESYNTAX); /* §4: names SHOULD be unique */
                }
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, ZL_ESYNTAX);
            p->pos++;
        }
        acme_json_t *e = parse_value(p);
        if (!e)
            return NULL;
        e->key = key;
        e->key_len = key_len;
        *tail = e;
        tail = &e->next;
        v->len++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            skip_ws(p);
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            p->depth--;
            return v;
        }
        return fail(p, ZL_ESYNTAX);
    }
}

static acme_json_t *parse_value(json_parser_t *p)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, ZL_ESYNTAX);
    uint8_t c = p->s[p->pos];
    if (c == '{')
        return parse_container(p, ACME_JSON_OBJECT);
    if (c == '[')
        return parse_container(p, ACME_JSON_ARRAY);
    if (c == '"') {
        acme_json_t *v = node(p, ACME_JSON_STRING);
        if (v && !(v->str = parse_string(p, &v->len, &v->has_nul)))
            return NULL;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p);
    return parse_literal(p);
}

int acme_json_parse(acme_json_doc_t *doc, const char *text, size_t len)
{
    doc->root = NULL;
    doc->err_off = 0;
    dns_arena_init(&doc->arena, NULL, 0, 0);
    if (len > ACME_JSON_MAX_SIZE)
        return ZL_ESPACE;
    json_parser_t p = { .s = (const uint8_t *)text, .len = len, .doc = doc };
    acme_json_t *v = parse_value(&p);
    if (v) {
        skip_ws(&p);
        if (p.pos != p.len)
            fail(&p, ZL_ESYNTAX);
    }
    if (p.err)
        return p.err;
    doc->root = v;
    return ZL_OK;
}

void acme_json_free(acme_json_doc_t *doc)
{
    dns_arena_free(&doc->arena);
    doc->root = NULL;
}

const acme_json_t *acme_json_get(const acme_json_t *v, const char *key)
{
    if (!v || v->type != ACME_JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (const acme_json_t *m = v->child; m; m = m->next)
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return m;
    return NULL;
}

const acme_json_t *acme_json_at(const acme_json_t *v, size_t i)
{
    if (!v || v->type != ACME_JSON_ARRAY)
        return NULL;
    const acme_json_t *e = v->child;
    while (e && i--)
        e = e->next;
    return e;
}

/* One reference token of a JSON Pointer, unescaped into tok. */
static int pointer_token(const char **pp, char *tok, size_t cap, size_t *n)
{
    const char *s = *pp;
    *n = 0;
    while (*s && *s != '/') {
        char c = *s++;
        if (c == '~') {
            if (*s != '0' && *s != '1')
                return -1;
            c = *s++ == '0' ? '~' : '/';
        }
        if (*n + 1 >= cap)
            return -1;
        tok[(*n)++] = c;
    }
    tok[*n] = '\0';
    *pp = s;
    return 0;
}

const acme_json_t *acme_json_path(const acme_json_t *v, const char *pointer)
{
    char tok[256];
    size_t n;
    while (v && *pointer) {
        if (*pointer++ != '/' || pointer_token(&pointer, tok, sizeof(tok), &n))
            return NULL;
        if (v->type == ACME_JSON_OBJECT) {
            const acme_json_t *m = v->child;
            while (m && !(m->key_len == n && memcmp(m->key, tok, n) == 0))
                m = m->next;
            v = m;
        } else if (v->type == ACME_JSON_ARRAY) {
            /* RFC 6901 §4: an index is 0 or digits without a leading 0. */
            size_t i = 0;
            if (n == 0 || (n > 1 && tok[0] == '0') || n > 9)
                return NULL;
            for (size_t k = 0; k < n; k++) {
                if (tok[k] < '0' || tok[k] > '9')
                    return NULL;
                i = i * 10 + (size_t)(tok[k] - '0');
            }
            v = acme_json_at(v, i);
        } else
            return NULL;
    }
    return v;
}

const char *acme_json_str(const acme_json_t *v)
{
    return v && v->type == ACME_JSON_STRING && !v->has_nul ? v->str : NULL;
}

const char *acme_json_get_str(const acme_json_t *v, const char *key)
{
    return acme_json_str(acme_json_get(v, key));
}

bool acme_json_str_eq(const acme_json_t *v, const char *s)
{
    const char *t = acme_json_str(v);
    return t && strcmp(t, s) == 0;
}

bool acme_json_is_true(const acme_json_t *v)
{
    return v && v->type == ACME_JSON_TRUE;
}

int acme_json_int(const acme_json_t *v, int64_t *out)
{
    if (!v || v->type != ACME_JSON_NUMBER)
        return ZL_EINVAL;
    const char *s = v->str;
    bool neg = *s == '-';
    s += neg;
    uint64_t x = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return ZL_ERANGE; /* fraction or exponent */
        unsigned d = (unsigned)(*s - '0');
        if (x > (lim - d) / 10)
            return ZL_ERANGE;
        x = x * 10 + d;
    }
    *out = neg ? (int64_t)(0 - x) : (int64_t)x;
    return ZL_OK;
}

void acme_json_put_str(acme_buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    acme_buf_putc(b, '"');
    size_t run = 0; /* bytes copied as they are, in one put */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        acme_buf_put(b, s + run, i - run);
        run = i + 1;
        char esc[7] = { '\\', 0 };
        switch (c) {
        case '"': case '\\': esc[1] = (char)c; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        acme_buf_puts(b, esc);
    }
    acme_buf_put(b, s + run, len - run);
    acme_buf_putc(b, '"');
}

void acme_json_write(acme_buf_t *b, const acme_json_t *v)
{
    switch (v->type) {
    case ACME_JSON_NULL: acme_buf_puts(b, "null"); return;
    case ACME_JSON_FALSE: acme_buf_puts(b, "false"); return;
    case ACME_JSON_TRUE: acme_buf_puts(b, "true"); return;
    case ACME_JSON_NUMBER: acme_buf_put(b, v->str, v->len); return;
    case ACME_JSON_STRING: acme_json_put_str(b, v->str, v->len); return;
    case ACME_JSON_ARRAY:
    case ACME_JSON_OBJECT:
        acme_buf_putc(b, v->type == ACME_JSON_ARRAY ? '[' : '{');
        for (const acme_json_t *e = v->child; e; e = e->next) {
            if (e != v->child)
                acme_buf_putc(b, ',');
            if (v->type == ACME_JSON_OBJECT) {
                acme_json_put_str(b, e->key, e->key_len);
                acme_buf_putc(b, ':');
            }
            acme_json_write(b, e);
        }
        acme_buf_putc(b, v->type == ACME_JSON_ARRAY ? ']' : '}');
    }
}
