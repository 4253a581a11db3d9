#include "acme/csr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#define OID_LEN(oid) (sizeof(oid) - 1)

bool acme_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 253)
        return false;
    const char *s = name;
    if (s[0] == '*' && s[1] == '.')
        s += 2;
    for (;;) {
        size_t k = 0;
        while (s[k] == '-' || (s[k] >= '0' && s[k] <= '9') || ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z'))
            k++;
        if (k == 0 || k > 63 || s[0] == '-' || s[k - 1] == '-')
            return false;
        if (s[k] == '\0')
            return true;
        if (s[k] != '.')
            return false;
        s += k + 1;
    }
}

/* GeneralNames of dNSNames (RFC 5280 §4.2.1.6), written backwards from
 * *p as the mbedTLS writers do. The length, or a negative mbedTLS error. */
static int write_san(unsigned char **p, unsigned char *start, const char *const *names, size_t n)
{
    int len = 0, r;
    for (size_t i = n; i-- > 0;) {
        size_t k = strlen(names[i]);
        int one = 0;
        if ((r = mbedtls_asn1_write_raw_buffer(p, start, (const unsigned char *)names[i], k)) < 0)
            return r;
        one += r;
        if ((r = mbedtls_asn1_write_len(p, start, k)) < 0)
            return r;
        one += r;
        if ((r = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) < 0)
            return r;
        len += one + r;
    }
    if ((r = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0)
        return r;
    len += r;
    if ((r = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
        return r;
    return len + r;
}

int acme_csr_make(acme_buf_t *der, const acme_key_t *k, acme_rng_t *rng, const char *const *names,
                  size_t n)
{
    if (n == 0 || n > ACME_MAX_NAMES || !k->priv)
        return ZL_EINVAL;
    size_t room = 1024;
    for (size_t i = 0; i < n; i++) {
        if (!acme_name_ok(names[i]))
            return ZL_EINVAL;
        room += strlen(names[i]) * 2 + 8; /* in the SAN, and the CN */
    }
    unsigned char *buf = malloc(room), *san = malloc(room);
    char *subject = malloc(strlen(names[0]) + 4);
    if (!buf || !san || !subject) {
        free(buf), free(san), free(subject);
        return ZL_ENOMEM;
    }
    strcpy(subject, "CN=");
    strcat(subject, names[0]);
    mbedtls_x509write_csr csr;
    mbedtls_x509write_csr_init(&csr);
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
    /* The writer takes a non-const key but only signs with it. */
    mbedtls_x509write_csr_set_key(&csr, (mbedtls_pk_context *)&k->pk);
    unsigned char *p = san + room;
    int rc = ZL_ECRYPTO, len = write_san(&p, san, names, n);
    if (len > 0 && !mbedtls_x509write_csr_set_subject_name(&csr, subject) &&
        !mbedtls_x509write_csr_set_extension(&csr, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                             OID_LEN(MBEDTLS_OID_SUBJECT_ALT_NAME), p, (size_t)len)) {
        int dl = mbedtls_x509write_csr_der(&csr, buf, room, acme_rng_fill, rng);
        if (dl > 0) {
            acme_buf_put(der, buf + room - (size_t)dl, (size_t)dl);
            rc = der->err;
        }
    }
    mbedtls_x509write_csr_free(&csr);
    free(buf), free(san), free(subject);
    return rc;
}

/* ---- reading a CSR ---- */

typedef struct name_list {
    char *v[ACME_MAX_NAMES];
    size_t n;
    int err;
} name_list_t;

static void names_add(name_list_t *l, const unsigned char *s, size_t len)
{
    if (l->err)
        return;
    char *t = malloc(len + 1);
    if (!t) {
        l->err = ZL_ENOMEM;
        return;
    }
    memcpy(t, s, len);
    t[len] = '\0';
    if (strlen(t) != len || !acme_name_ok(t)) {
        l->err = ZL_ESYNTAX;
        free(t);
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i], t) == 0) {
            free(t);
            return;
        }
    if (l->n == ACME_MAX_NAMES) {
        l->err = ZL_ERANGE;
        free(t);
        return;
    }
    l->v[l->n++] = t;
}

/* GeneralNames: every dNSName, refusing other forms. */
static void san_names(name_list_t *l, unsigned char *p, const unsigned char *end)
{
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
        p + len != end) {
        l->err = ZL_ESYNTAX;
        return;
    }
    while (p < end && !l->err) {
        unsigned char tag = *p++;
        if (mbedtls_asn1_get_len(&p, end, &len)) {
            l->err = ZL_ESYNTAX;
            return;
        }
        if (tag != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2))
            l->err = ZL_ETYPE;
        else
            names_add(l, p, len);
        p += len;
    }
}

/* CertificationRequestInfo (RFC 2986 §4.1): skip version, subject and
 * key; in the attributes, the extensionRequest (RFC 2985 §5.4.2); in its
 * extensions, subjectAltName. */
static void csr_san(name_list_t *l, unsigned char *p, const unsigned char *end)
{
    size_t len;
    const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
    if (mbedtls_asn1_get_tag(&p, end, &len, seq))
        goto bad;
    end = p + len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_INTEGER))
        goto bad;
    p += len;
    for (int i = 0; i < 2; i++) {
        if (mbedtls_asn1_get_tag(&p, end, &len, seq))
            goto bad;
        p += len;
    }
    if (p == end)
        return; /* no attributes */
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_CONTEXT_SPECIFIC))
        goto bad;
    const unsigned char *aend = p + len;
    while (p < aend) {
        if (mbedtls_asn1_get_tag(&p, aend, &len, seq))
            goto bad;
        const unsigned char *next = p + len;
        mbedtls_asn1_buf oid = { .tag = MBEDTLS_ASN1_OID };
        if (mbedtls_asn1_get_tag(&p, next, &oid.len, MBEDTLS_ASN1_OID))
            goto bad;
        oid.p = p;
        p += oid.len;
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_PKCS9_CSR_EXT_REQ, &oid) == 0) {
            if (mbedtls_asn1_get_tag(&p, next, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET) ||
                mbedtls_asn1_get_tag(&p, next, &len, seq))
                goto bad;
            const unsigned char *eend = p + len;
            while (p < eend && !l->err) {
                if (mbedtls_asn1_get_tag(&p, eend, &len, seq))
                    goto bad;
                const unsigned char *xend = p + len;
                mbedtls_asn1_buf xoid = { .tag = MBEDTLS_ASN1_OID };
                int crit;
                if (mbedtls_asn1_get_tag(&p, xend, &xoid.len, MBEDTLS_ASN1_OID))
                    goto bad;
                xoid.p = p;
                p += xoid.len;
                if (p < xend && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, xend, &crit))
                    goto bad;
                if (mbedtls_asn1_get_tag(&p, xend, &len, MBEDTLS_ASN1_OCTET_STRING) || p + len != xend)
                    goto bad;
                if (MBEDTLS_OID_CMP(MBEDTLS_OID_SUBJECT_ALT_NAME, &xoid) == 0)
                    san_names(l, p, xend);
                p = (unsigned char *)xend;
            }
        }
        p = (unsigned char *)next;
    }
    return;
bad:
    if (!l->err)
        l->err = ZL_ESYNTAX;
}

static int csr_verify(mbedtls_x509_csr *csr)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(csr->sig_md);
    unsigned char h[MBEDTLS_MD_MAX_SIZE];
    if (!md || mbedtls_md(md, csr->cri.p, csr->cri.len, h))
        return ZL_EBADSIG;
    if (mbedtls_pk_verify_ext(csr->sig_pk, csr->sig_opts, &csr->pk, csr->sig_md, h,
                              mbedtls_md_get_size(md), csr->sig.p, csr->sig.len))
        return ZL_EBADSIG;
    return ZL_OK;
}

int acme_csr_names(const uint8_t *der, size_t len, char ***names, size_t *n)
{
    mbedtls_x509_csr csr;
    mbedtls_x509_csr_init(&csr);
    name_list_t l = { .n = 0 };
    if (mbedtls_x509_csr_parse_der(&csr, der, len))
        l.err = ZL_ESYNTAX;
    if (!l.err)
        l.err = csr_verify(&csr);
    for (const mbedtls_x509_name *a = &csr.subject; !l.err && a && a->oid.p; a = a->next)
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &a->oid) == 0)
            names_add(&l, a->val.p, a->val.len);
    if (!l.err)
        csr_san(&l, csr.cri.p, csr.cri.p + csr.cri.len);
    mbedtls_x509_csr_free(&csr);
    if (!l.err && l.n == 0)
        l.err = ZL_ENOTFOUND;
    size_t size = sizeof(char *) * l.n;
    for (size_t i = 0; i < l.n; i++)
        size += strlen(l.v[i]) + 1;
    char **out = l.err ? NULL : malloc(size);
    if (!l.err && !out)
        l.err = ZL_ENOMEM;
    char *s = out ? (char *)(out + l.n) : NULL;
    for (size_t i = 0; i < l.n; i++) {
        if (out) {
            out[i] = strcpy(s, l.v[i]);
            s += strlen(s) + 1;
        }
        free(l.v[i]);
    }
    if (l.err)
        return l.err;
    *names = out;
    *n = l.n;
    return ZL_OK;
}

/* ---- PEM ---- */

int acme_pem_write(acme_buf_t *out, const char *label, const uint8_t *der, size_t len)
{
    acme_buf_printf(out, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < len; i += 48) {
        unsigned char line[65];
        size_t olen;
        size_t k = len - i < 48 ? len - i : 48;
        if (mbedtls_base64_encode(line, sizeof(line), &olen, der + i, k))
            return out->err ? out->err : ZL_ESPACE;
        acme_buf_put(out, line, olen);
        acme_buf_putc(out, '\n');
    }
    acme_buf_printf(out, "-----END %s-----\n", label);
    return out->err;
}

int acme_chain_write_pem(acme_buf_t *out, const acme_chain_t *c, size_t from)
{
    for (size_t i = from; i < c->n; i++)
        acme_pem_write(out, "CERTIFICATE", c->cert[i].p, c->cert[i].len);
    return out->err;
}

void acme_chain_free(acme_chain_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->cert[i].p);
    c->n = 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One certificate block at pem[*pos..len): its base64 body, decoded. */
static int pem_block(acme_chain_t *c, const char *pem, size_t len, size_t *pos)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    size_t i = *pos;
    if (len - i < sizeof(begin) - 1 || memcmp(pem + i, begin, sizeof(begin) - 1))
        return ZL_ESYNTAX;
    i += sizeof(begin) - 1;
    acme_buf_t b64;
    acme_buf_init(&b64, len);
    while (i < len && pem[i] != '-') {
        if (!is_space(pem[i]))
            acme_buf_putc(&b64, pem[i]);
        i++;
    }
    int rc = ZL_ESYNTAX;
    if (len - i >= sizeof(end) - 1 && memcmp(pem + i, end, sizeof(end) - 1) == 0 && b64.len) {
        size_t dlen = 0;
        uint8_t *der = malloc(b64.len);
        rc = ZL_ENOMEM;
        if (der) {
            mbedtls_x509_crt crt;
            mbedtls_x509_crt_init(&crt);
            rc = mbedtls_base64_decode(der, b64.len, &dlen, (const unsigned char *)b64.p, b64.len) ||
                 mbedtls_x509_crt_parse_der(&crt, der, dlen) ? ZL_ESYNTAX : ZL_OK;
            mbedtls_x509_crt_free(&crt);
            if (rc == ZL_OK && c->n == ACME_CHAIN_MAX)
                rc = ZL_ESPACE;
            if (rc == ZL_OK) {
                c->cert[c->n].p = der;
                c->cert[c->n++].len = dlen;
            } else
                free(der);
        }
        *pos = i + sizeof(end) - 1;
    }
    acme_buf_free(&b64);
    return rc;
}

int acme_chain_parse_pem(acme_chain_t *c, const char *pem, size_t len)
{
    c->n = 0;
    size_t i = 0;
    for (;;) {
        while (i < len && is_space(pem[i]))
            i++;
        if (i == len)
            return c->n ? ZL_OK : ZL_ENOTFOUND;
        int rc = pem_block(c, pem, len, &i);
        if (rc)
            return rc;
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int64_t x509_time(const mbedtls_x509_time *t)
{
    return days_from_civil(t->year, t->mon, t->day) * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

int acme_cert_validity(const uint8_t *der, size_t len, int64_t *not_before, int64_t *not_after)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int rc = mbedtls_x509_crt_parse_der(&crt, der, len) ? ZL_ESYNTAX : ZL_OK;
    if (!rc) {
        *not_before = x509_time(&crt.valid_from);
        *not_after = x509_time(&crt.valid_to);
    }
    mbedtls_x509_crt_free(&crt);
    return rc;
}

/* ---- certificates against requests ---- */

/* The SubjectPublicKeyInfo DER of pk into buf; its length, 0 on error
 * (mbedTLS writes it at the end of the buffer). */
static size_t spki(mbedtls_pk_context *pk, unsigned char *buf, size_t cap, const unsigned char **out)
{
    int n = mbedtls_pk_write_pubkey_der(pk, buf, cap);
    if (n <= 0)
        return 0;
    *out = buf + cap - (size_t)n;
    return (size_t)n;
}

/* True when the certificate's dNSNames are exactly names[0..n) (as sets,
 * case-insensitively). */
static bool san_equal(const mbedtls_x509_crt *crt, char *const *names, size_t n)
{
    bool seen[ACME_MAX_NAMES] = {false};
    size_t count = 0;
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
        if (s->buf.tag != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2))
            continue;
        size_t k = 0;
        while (k < n && !(strlen(names[k]) == s->buf.len &&
                          strncasecmp(names[k], (const char *)s->buf.p, s->buf.len) == 0))
            k++;
        if (k == n)
            return false;   /* a name the request does not ask for */
        if (!seen[k]) {
            seen[k] = true;
            count++;
        }
    }
    return count == n;
}

bool acme_cert_matches_csr(const uint8_t *cert, size_t clen, const uint8_t *csr, size_t len)
{
    char **names = NULL;
    size_t n = 0;
    if (acme_csr_names(csr, len, &names, &n) != ZL_OK)
        return false;
    mbedtls_x509_crt crt;
    mbedtls_x509_csr req;
    mbedtls_x509_crt_init(&crt);
    mbedtls_x509_csr_init(&req);
    bool ok = mbedtls_x509_crt_parse_der(&crt, cert, clen) == 0 &&
              mbedtls_x509_csr_parse_der(&req, csr, len) == 0;
    unsigned char a[200], b[200];
    const unsigned char *pa = NULL, *pb = NULL;
    size_t la = ok ? spki(&crt.pk, a, sizeof a, &pa) : 0;
    size_t lb = ok ? spki(&req.pk, b, sizeof b, &pb) : 0;
    ok = ok && la && la == lb && memcmp(pa, pb, la) == 0 && san_equal(&crt, names, n);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_csr_free(&req);
    free(names);
    return ok;
}

bool acme_cert_issued_by(const uint8_t *child, size_t clen, const uint8_t *parent, size_t plen)
{
    mbedtls_x509_crt c, p;
    mbedtls_x509_crt_init(&c);
    mbedtls_x509_crt_init(&p);
    bool ok = mbedtls_x509_crt_parse_der(&c, child, clen) == 0 &&
              mbedtls_x509_crt_parse_der(&p, parent, plen) == 0 &&
              c.issuer_raw.len == p.subject_raw.len &&
              memcmp(c.issuer_raw.p, p.subject_raw.p, c.issuer_raw.len) == 0;
    mbedtls_x509_crt_free(&c);
    mbedtls_x509_crt_free(&p);
    return ok;
}

bool acme_csr_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    char **na = NULL, **nb = NULL;
    size_t n = 0, m = 0;
    bool ok = acme_csr_names(a, alen, &na, &n) == ZL_OK && acme_csr_names(b, blen, &nb, &m) == ZL_OK &&
              n == m;
    for (size_t i = 0; ok && i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < m && !found; k++)
            found = strcasecmp(na[i], nb[k]) == 0;
        ok = found;   /* no duplicates in either list: equal sizes make it a set equality */
    }
    mbedtls_x509_csr x, y;
    mbedtls_x509_csr_init(&x);
    mbedtls_x509_csr_init(&y);
    unsigned char ba[200], bb[200];
    const unsigned char *pa = NULL, *pb = NULL;
    ok = ok && mbedtls_x509_csr_parse_der(&x, a, alen) == 0 && mbedtls_x509_csr_parse_der(&y, b, blen) == 0;
    size_t la = ok ? spki(&x.pk, ba, sizeof ba, &pa) : 0;
    size_t lb = ok ? spki(&y.pk, bb, sizeof bb, &pb) : 0;
    ok = ok && la && la == lb && memcmp(pa, pb, la) == 0;
    mbedtls_x509_csr_free(&x);
    mbedtls_x509_csr_free(&y);
    free(na);
    free(nb);
    return ok;
}
