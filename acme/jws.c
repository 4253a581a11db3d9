#include "acme/jws.h"

#include <string.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void acme_b64u_put(acme_buf_t *out, const void *data, size_t len)
{
    const uint8_t *p = data;
    char q[4];
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t n = len - i >= 3 ? 3 : len - i;
        if (n > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (n > 2)
            v |= p[i + 2];
        q[0] = b64u[v >> 18];
        q[1] = b64u[v >> 12 & 63];
        q[2] = b64u[v >> 6 & 63];
        q[3] = b64u[v & 63];
        acme_buf_put(out, q, n + 1);
    }
}

static int b64u_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int acme_b64u_decode(const char *s, size_t len, acme_buf_t *out)
{
    if (len % 4 == 1)
        return ZL_ESYNTAX;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64u_val(s[i]);
        if (v < 0)
            return ZL_ESYNTAX;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            acme_buf_putc(out, (char)(acc >> bits & 0xff));
        }
    }
    if (acc & ((1u << bits) - 1))
        return ZL_ESYNTAX; /* non-canonical: leftover bits set */
    return out->err;
}

static int sha256(const void *p, size_t n, uint8_t out[32])
{
    return mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), p, n, out) ? ZL_ECRYPTO : ZL_OK;
}

static void b64u_digest(const uint8_t d[32], char out[ACME_B64_SHA256_LEN + 1])
{
    acme_buf_t b;
    acme_buf_init(&b, 64);
    acme_b64u_put(&b, d, 32);
    memcpy(out, b.p, ACME_B64_SHA256_LEN + 1);
    acme_buf_free(&b);
}

int acme_jwk_write(acme_buf_t *out, const acme_key_t *k)
{
    uint8_t x[32], y[32];
    int rc = acme_key_xy(k, x, y);
    if (rc)
        return rc;
    acme_buf_puts(out, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"");
    acme_b64u_put(out, x, 32);
    acme_buf_puts(out, "\",\"y\":\"");
    acme_b64u_put(out, y, 32);
    acme_buf_puts(out, "\"}");
    return out->err;
}

/* A base64url member of exactly n octets. */
static int member_octets(const acme_json_t *jwk, const char *name, uint8_t *dst, size_t n)
{
    const char *s = acme_json_get_str(jwk, name);
    if (!s)
        return ZL_ESYNTAX;
    acme_buf_t b;
    acme_buf_init(&b, 256);
    int rc = acme_b64u_decode(s, strlen(s), &b);
    if (rc == ZL_OK && b.len != n)
        rc = ZL_ESYNTAX;
    if (rc == ZL_OK)
        memcpy(dst, b.p, n);
    acme_buf_free(&b);
    return rc;
}

int acme_jwk_parse(acme_key_t *k, const acme_json_t *jwk)
{
    const char *kty = acme_json_get_str(jwk, "kty"), *crv = acme_json_get_str(jwk, "crv");
    if (!kty)
        return ZL_ESYNTAX;
    if (strcmp(kty, "EC") || !crv || strcmp(crv, "P-256"))
        return ZL_ETYPE;
    uint8_t x[32], y[32];
    int rc = member_octets(jwk, "x", x, 32);
    if (!rc)
        rc = member_octets(jwk, "y", y, 32);
    return rc ? rc : acme_key_from_xy(k, x, y);
}

int acme_jwk_thumbprint(const acme_json_t *jwk, char out[ACME_B64_SHA256_LEN + 1])
{
    /* RFC 7638 §3.2: the required members, in lexicographic order. */
    static const char *const ec[] = { "crv", "kty", "x", "y", NULL };
    static const char *const rsa[] = { "e", "kty", "n", NULL };
    static const char *const oct[] = { "k", "kty", NULL };
    const char *kty = acme_json_get_str(jwk, "kty");
    const char *const *names = !kty ? NULL : !strcmp(kty, "EC") ? ec : !strcmp(kty, "RSA") ? rsa
                             : !strcmp(kty, "oct") ? oct : NULL;
    if (!kty)
        return ZL_ESYNTAX;
    if (!names)
        return ZL_ETYPE;
    acme_buf_t b;
    acme_buf_init(&b, 0);
    acme_buf_putc(&b, '{');
    int rc = ZL_OK;
    for (size_t i = 0; names[i]; i++) {
        const acme_json_t *v = acme_json_get(jwk, names[i]);
        if (!v || v->type != ACME_JSON_STRING) {
            rc = ZL_ESYNTAX;
            break;
        }
        acme_buf_puts(&b, i ? ",\"" : "\"");
        acme_buf_puts(&b, names[i]);
        acme_buf_puts(&b, "\":");
        acme_json_put_str(&b, v->str, v->len);
    }
    acme_buf_putc(&b, '}');
    uint8_t d[32];
    if (!rc)
        rc = b.err ? b.err : sha256(b.p, b.len, d);
    if (!rc)
        b64u_digest(d, out);
    acme_buf_free(&b);
    return rc;
}

int acme_key_thumbprint(const acme_key_t *k, char out[ACME_B64_SHA256_LEN + 1])
{
    acme_buf_t b;
    acme_buf_init(&b, 0);
    uint8_t d[32];
    int rc = acme_jwk_write(&b, k);
    if (!rc)
        rc = sha256(b.p, b.len, d);
    if (!rc)
        b64u_digest(d, out);
    acme_buf_free(&b);
    return rc;
}

/* ES256 over SHA-256(input): r||s, 32 octets each (RFC 7518 §3.4). */
static int es256_sign(const acme_key_t *k, acme_rng_t *rng, const char *in, size_t n, uint8_t sig[64])
{
    uint8_t h[32];
    int rc = sha256(in, n, h);
    if (rc)
        return rc;
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, h, sizeof(h), MBEDTLS_MD_SHA256,
                                   acme_rng_fill, rng) ||
        mbedtls_mpi_write_binary(&r, sig, 32) || mbedtls_mpi_write_binary(&s, sig + 32, 32))
        rc = ZL_ECRYPTO;
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return rc;
}

int acme_jws_sign(acme_buf_t *out, const acme_key_t *k, acme_rng_t *rng, const char *url,
                  const char *nonce, const char *kid, const void *payload, size_t len)
{
    if (!k->priv || !url)
        return ZL_EINVAL;
    acme_buf_t hdr, in;
    acme_buf_init(&hdr, 0);
    acme_buf_init(&in, 0);
    acme_buf_puts(&hdr, "{\"alg\":\"ES256\",");
    int rc = ZL_OK;
    if (kid) {
        acme_buf_puts(&hdr, "\"kid\":");
        acme_json_put_str(&hdr, kid, strlen(kid));
    } else {
        acme_buf_puts(&hdr, "\"jwk\":");
        rc = acme_jwk_write(&hdr, k);
    }
    if (nonce) {
        acme_buf_puts(&hdr, ",\"nonce\":");
        acme_json_put_str(&hdr, nonce, strlen(nonce));
    }
    acme_buf_puts(&hdr, ",\"url\":");
    acme_json_put_str(&hdr, url, strlen(url));
    acme_buf_putc(&hdr, '}');
    /* RFC 7515 §5.1: the signing input is protected "." payload, encoded. */
    acme_b64u_put(&in, hdr.p, hdr.len);
    size_t plen = in.len;
    acme_buf_putc(&in, '.');
    acme_b64u_put(&in, payload, len);
    uint8_t sig[64];
    if (!rc)
        rc = hdr.err ? hdr.err : in.err ? in.err : es256_sign(k, rng, in.p, in.len, sig);
    if (!rc) {
        acme_buf_puts(out, "{\"protected\":\"");
        acme_buf_put(out, in.p, plen);
        acme_buf_puts(out, "\",\"payload\":\"");
        acme_buf_put(out, in.p + plen + 1, in.len - plen - 1);
        acme_buf_puts(out, "\",\"signature\":\"");
        acme_b64u_put(out, sig, sizeof(sig));
        acme_buf_puts(out, "\"}");
        rc = out->err;
    }
    acme_buf_free(&hdr);
    acme_buf_free(&in);
    return rc;
}

static int es256_verify(const acme_key_t *pub, const acme_buf_t *in, const uint8_t sig[64])
{
    uint8_t h[32];
    int rc = sha256(in->p, in->len, h);
    if (rc)
        return rc;
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pub->pk);
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_mpi_read_binary(&r, sig, 32) || mbedtls_mpi_read_binary(&s, sig + 32, 32))
        rc = ZL_ECRYPTO;
    else if (mbedtls_ecdsa_verify((mbedtls_ecp_group *)&ec->grp, h, sizeof(h), &ec->Q, &r, &s))
        rc = ZL_EBADSIG;
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return rc;
}

int acme_jws_verify(const char *jws, size_t len, const acme_key_t *pub, acme_buf_t *hdr,
                    acme_buf_t *payload)
{
    if (mbedtls_pk_get_type(&pub->pk) != MBEDTLS_PK_ECKEY)
        return ZL_EINVAL;
    acme_json_doc_t doc, hdoc;
    acme_buf_t ph, sig, in;
    acme_buf_init(&ph, 0);
    acme_buf_init(&sig, 128);
    acme_buf_init(&in, 0);
    int rc = acme_json_parse(&doc, jws, len);
    hdoc.root = NULL;
    dns_arena_init(&hdoc.arena, NULL, 0, 0);
    const char *p64 = rc ? NULL : acme_json_get_str(doc.root, "protected");
    const char *b64 = rc ? NULL : acme_json_get_str(doc.root, "payload");
    const char *s64 = rc ? NULL : acme_json_get_str(doc.root, "signature");
    if (!rc && (!p64 || !b64 || !s64))
        rc = ZL_ESYNTAX;
    if (!rc && strlen(s64) != 86)
        rc = ZL_EBADSIG; /* 64 octets in base64url */
    if (!rc)
        rc = acme_b64u_decode(p64, strlen(p64), &ph);
    if (!rc)
        rc = acme_b64u_decode(s64, strlen(s64), &sig);
    if (!rc && sig.len != 64)
        rc = ZL_EBADSIG;
    if (!rc) {
        acme_json_free(&hdoc);
        rc = acme_json_parse(&hdoc, ph.p ? ph.p : "", ph.len);
    }
    if (!rc && (!hdoc.root || hdoc.root->type != ACME_JSON_OBJECT))
        rc = ZL_ESYNTAX;
    if (!rc && (!acme_json_str_eq(acme_json_get(hdoc.root, "alg"), "ES256") ||
                acme_json_get(hdoc.root, "crit")))
        rc = ZL_ETYPE;
    if (!rc) {
        acme_buf_printf(&in, "%s.%s", p64, b64);
        rc = in.err ? in.err : es256_verify(pub, &in, (const uint8_t *)sig.p);
    }
    if (!rc && hdr)
        acme_buf_put(hdr, ph.p, ph.len);
    if (!rc && payload)
        rc = acme_b64u_decode(b64, strlen(b64), payload);
    acme_json_free(&doc);
    acme_json_free(&hdoc);
    acme_buf_free(&ph);
    acme_buf_free(&sig);
    acme_buf_free(&in);
    return rc;
}

int acme_dns01_txt(const char *token, const char *thumbprint, char out[ACME_B64_SHA256_LEN + 1])
{
    size_t n = strlen(token);
    if (n == 0 || n > 256)
        return ZL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (b64u_val(token[i]) < 0)
            return ZL_EINVAL;
    acme_buf_t ka;
    acme_buf_init(&ka, 0);
    acme_buf_printf(&ka, "%s.%s", token, thumbprint);
    uint8_t d[32];
    int rc = ka.err ? ka.err : sha256(ka.p, ka.len, d);
    if (!rc)
        b64u_digest(d, out);
    acme_buf_free(&ka);
    return rc;
}
