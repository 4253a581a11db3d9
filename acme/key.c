#include "acme/key.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>

int acme_rng_init(acme_rng_t *r)
{
    static const char pers[] = "zonelet-acme";
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                              (const unsigned char *)pers, sizeof(pers) - 1))
        return ZL_ECRYPTO;
    return ZL_OK;
}

void acme_rng_free(acme_rng_t *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

int acme_rng_fill(void *rng, unsigned char *out, size_t n)
{
    return mbedtls_ctr_drbg_random(&((acme_rng_t *)rng)->drbg, out, n);
}

void acme_key_init(acme_key_t *k)
{
    mbedtls_pk_init(&k->pk);
    k->priv = false;
}

void acme_key_free(acme_key_t *k)
{
    mbedtls_pk_free(&k->pk);
    acme_key_init(k);
}

static int key_setup(acme_key_t *k)
{
    if (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)))
        return ZL_ECRYPTO;
    return mbedtls_ecp_group_load(&mbedtls_pk_ec(k->pk)->grp, MBEDTLS_ECP_DP_SECP256R1)
               ? ZL_ECRYPTO : ZL_OK;
}

int acme_key_generate(acme_key_t *k, acme_rng_t *rng)
{
    int rc = key_setup(k);
    if (rc)
        return rc;
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    if (mbedtls_ecp_gen_keypair(&ec->grp, &ec->d, &ec->Q, acme_rng_fill, rng))
        return ZL_ECRYPTO;
    k->priv = true;
    return ZL_OK;
}

int acme_key_parse(acme_key_t *k, const char *pem, size_t len)
{
    /* mbedTLS reads PEM only from a NUL-terminated buffer whose length
     * counts the NUL. */
    unsigned char *copy = calloc(1, len + 1);
    if (!copy)
        return ZL_ENOMEM;
    memcpy(copy, pem, len);
    int rc = mbedtls_pk_parse_key(&k->pk, copy, len + 1, NULL, 0);
    if (rc) {
        mbedtls_pk_free(&k->pk);
        mbedtls_pk_init(&k->pk);
        rc = mbedtls_pk_parse_key(&k->pk, copy, len, NULL, 0); /* DER */
    }
    mbedtls_platform_zeroize(copy, len + 1);
    free(copy);
    if (rc)
        return ZL_ESYNTAX;
    if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(k->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        acme_key_free(k);
        return ZL_ETYPE;
    }
    k->priv = true;
    return ZL_OK;
}

int acme_key_from_xy(acme_key_t *k, const uint8_t x[32], const uint8_t y[32])
{
    int rc = key_setup(k);
    if (rc)
        return rc;
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    uint8_t pt[65];
    pt[0] = 0x04; /* SEC 1 §2.3.3: uncompressed */
    memcpy(pt + 1, x, 32);
    memcpy(pt + 33, y, 32);
    if (mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, pt, sizeof(pt)) ||
        mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q)) {
        acme_key_free(k);
        return ZL_EINVAL;
    }
    return ZL_OK;
}

int acme_key_xy(const acme_key_t *k, uint8_t x[32], uint8_t y[32])
{
    if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY)
        return ZL_EINVAL;
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    if (mbedtls_mpi_write_binary(&ec->Q.X, x, 32) || mbedtls_mpi_write_binary(&ec->Q.Y, y, 32))
        return ZL_ECRYPTO;
    return ZL_OK;
}

int acme_key_write_pem(const acme_key_t *k, acme_buf_t *out)
{
    if (!k->priv)
        return ZL_EINVAL;
    unsigned char pem[512];
    /* mbedtls_pk_write_key_pem takes a non-const context but only reads it. */
    if (mbedtls_pk_write_key_pem((mbedtls_pk_context *)&k->pk, pem, sizeof(pem)))
        return ZL_ECRYPTO;
    acme_buf_puts(out, (const char *)pem);
    mbedtls_platform_zeroize(pem, sizeof(pem));
    return out->err;
}

bool acme_key_equal(const acme_key_t *a, const acme_key_t *b)
{
    uint8_t ax[32], ay[32], bx[32], by[32];
    return acme_key_xy(a, ax, ay) == ZL_OK && acme_key_xy(b, bx, by) == ZL_OK &&
           memcmp(ax, bx, 32) == 0 && memcmp(ay, by, 32) == 0;
}
