/* mbedtls: the library's own self tests for hashes, ciphers, DRBGs, bignum,
 * ECP and RSA, an RFC 4231 HMAC-SHA256 vector through the md layer, and an
 * ECDSA P-256 sign/verify seeded from the runtime's entropy source
 * (mbedtls_hardware_poll -> plat_random). */
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/md.h>
#include <mbedtls/md5.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509.h>

#include "check.h"

static const struct {
    const char *name;
    int (*fn)(int);
} self_tests[] = {
    {"md5", mbedtls_md5_self_test},       {"sha1", mbedtls_sha1_self_test},
    {"sha256", mbedtls_sha256_self_test}, {"sha512", mbedtls_sha512_self_test},
    {"aes", mbedtls_aes_self_test},       {"gcm", mbedtls_gcm_self_test},
    {"ctr_drbg", mbedtls_ctr_drbg_self_test},
    {"hmac_drbg", mbedtls_hmac_drbg_self_test},
    {"entropy", mbedtls_entropy_self_test}, {"mpi", mbedtls_mpi_self_test},
    {"ecp", mbedtls_ecp_self_test},       {"rsa", mbedtls_rsa_self_test},
    {"x509", mbedtls_x509_self_test},
};

static void hmac_rfc4231(void)
{
    static const unsigned char want[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    const char *data = "what do ya want for nothing?";
    unsigned char out[32];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

    CHECK(md != NULL);
    CHECK(mbedtls_md_hmac(md, (const unsigned char *)"Jefe", 4,
                          (const unsigned char *)data, strlen(data), out) == 0);
    CHECK(!memcmp(out, want, sizeof want));
}

static void ecdsa_p256(void)
{
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ecdsa_context key;
    unsigned char hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
    size_t siglen;

    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ecdsa_init(&key);
    CHECK(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                                (const unsigned char *)"zonelet", 7) == 0);
    CHECK(mbedtls_ecdsa_genkey(&key, MBEDTLS_ECP_DP_SECP256R1,
                               mbedtls_ctr_drbg_random, &drbg) == 0);
    CHECK(mbedtls_sha256_ret((const unsigned char *)"zone data", 9, hash, 0) == 0);
    CHECK(mbedtls_ecdsa_write_signature(&key, MBEDTLS_MD_SHA256, hash, sizeof hash,
                                        sig, &siglen, mbedtls_ctr_drbg_random,
                                        &drbg) == 0);
    CHECK(mbedtls_ecdsa_read_signature(&key, hash, sizeof hash, sig, siglen) == 0);
    hash[0] ^= 1;
    CHECK(mbedtls_ecdsa_read_signature(&key, hash, sizeof hash, sig, siglen) != 0);
    mbedtls_ecdsa_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
}

int main(void)
{
    for (size_t i = 0; i < sizeof self_tests / sizeof self_tests[0]; i++) {
        int r = self_tests[i].fn(0);
        printf("mbedtls_%s_self_test: %s\n", self_tests[i].name, r ? "failed" : "passed");
        CHECK(r == 0);
    }
    hmac_rfc4231();
    ecdsa_p256();
    printf("SUCCESS\n");
    return 0;
}
