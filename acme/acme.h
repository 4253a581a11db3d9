/* An ACME client (RFC 8555) that obtains certificates with DNS-01.
 *
 * What it does, in order: reads the directory (§7.1.1); takes nonces from
 * newNonce (HEAD, §7.2) and from every response; finds or creates the
 * account (§7.3, ES256 key, "jwk" in newAccount, "kid" afterwards);
 * places an order for a list of DNS names (§7.4); for each pending
 * authorization picks the dns-01 challenge (§8.4) and has the caller
 * publish base64url(SHA-256(token "." thumbprint)) as TXT at
 * "_acme-challenge.<name>"; answers the challenges; polls the
 * authorizations, then the order, honouring Retry-After (§7.5.1) within a
 * bound and a total deadline; has the caller remove the TXT records;
 * finalizes with the caller's CSR (§7.4); downloads the chain (§7.4.2).
 * A badNonce error (§6.5) is retried with the nonce that came with it, a
 * bounded number of times; every other problem document (RFC 7807) ends
 * the operation with an error whose message carries the problem's type
 * and detail.
 *
 * The client blocks (HTTP, polling sleeps): run it on a thread of its
 * own, never a query worker. A client is used by one thread at a time.
 * The account key never reaches the log callback.
 */
#ifndef ZL_ACME_ACME_H
#define ZL_ACME_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/buf.h"
#include "acme/csr.h"
#include "dns/err.h"

/* What the client asks of its caller. Each function is called on the
 * client's thread. */
typedef struct acme_cb {
    void *ctx; /* passed back to each function */
    /* Publishes value (43 base64url characters) as one more TXT record
     * at name ("_acme-challenge.www.example.com": no trailing dot) and
     * returns once the authoritative servers serve it. It must not remove
     * other TXT values at name: two authorizations (example.com and
     * *.example.com) share one name. ZL_OK, or a ZL_* error that abandons
     * the order. Required. */
    int (*set_txt)(void *ctx, const char *name, const char *value);
    /* Removes the record set_txt added. Called for each successful
     * set_txt once its authorization is settled, also when the order
     * fails. An error is logged and otherwise ignored. Required. */
    int (*clear_txt)(void *ctx, const char *name, const char *value);
    /* One line about a step (or a failure). order_url is the order's URL
     * once there is one, else NULL. Both strings are borrowed for the
     * call. May be NULL. */
    void (*log)(void *ctx, const char *order_url, const char *msg);
    /* Waits ms milliseconds between two polls (the unikernel yields to
     * its other threads here). Returns ZL_OK to go on, or an error that
     * abandons the order (the appliance is stopping). May be NULL: the
     * thread sleeps. */
    int (*sleep)(void *ctx, int64_t ms);
} acme_cb_t;

typedef struct acme_opts {
    const char *directory;   /* https URL of the directory (copied) */
    const char *ca_file;     /* CA certificates for the server (PEM; read once) */
    const char *email;       /* account contact, "mailto:" added (copied); may be NULL */
    const char *key_pem;     /* account private key (PEM or DER, P-256), borrowed
                              * for the call; NULL: a new key is generated */
    size_t key_len;
    int connect_ms;          /* HTTP timeouts, see acme_http_opts_t (0: its defaults) */
    int read_ms;
    int request_ms;
    int poll_ms;             /* first wait when polling without Retry-After, doubled
                              * each time up to poll_max_ms (0: 250) */
    int poll_max_ms;         /* longest single wait, Retry-After included (0: 30000) */
    int deadline_ms;         /* one order, from newOrder to the chain (0: 10 minutes) */
    int nonce_retries;       /* badNonce retries per request (0: 20) */
} acme_opts_t;

typedef struct acme_client acme_client_t;

/* A client for the server at o->directory (nothing is sent yet). o and
 * cb are borrowed for the call (cb's functions and ctx are kept). *out is
 * owned by the caller (acme_client_free). Errors: ZL_EINVAL (no
 * directory, not an https URL, a bad email, set_txt or clear_txt
 * missing), ZL_ESYNTAX or ZL_ETYPE (key_pem is not a P-256 key), ZL_EIO
 * (the CA file), ZL_ECRYPTO, ZL_ENOMEM; err[0..errlen) gets a message. */
int acme_client_new(acme_client_t **out, const acme_opts_t *o, const acme_cb_t *cb, char *err,
                    size_t errlen);

/* Closes connections, wipes and frees the key, frees c (NULL is fine). */
void acme_client_free(acme_client_t *c);

/* True when acme_client_new generated the account key (the caller should
 * store it: acme_client_key_pem). */
bool acme_client_key_generated(const acme_client_t *c);

/* Appends the account private key as PEM to out (the caller's to store,
 * never to log). Errors: out's error, ZL_ECRYPTO. */
int acme_client_key_pem(const acme_client_t *c, acme_buf_t *out);

enum acme_account_mode {
    ACME_ACCOUNT_AUTO,   /* a given key: find, then create if none; a new key: create */
    ACME_ACCOUNT_CREATE, /* newAccount (returns the existing account for a known key) */
    ACME_ACCOUNT_FIND    /* newAccount with onlyReturnExisting */
};

/* Reads the directory if not done yet and finds or creates the account
 * (mode). Errors: ZL_ENOTFOUND (ACME_ACCOUNT_FIND and no account for the
 * key), ZL_EDENIED (the account is deactivated or revoked, or the server
 * wants external account binding), ZL_EPROTO (a problem document or a
 * response that breaks RFC 8555), and the errors of acme_http_request;
 * acme_client_error says more. */
int acme_client_account(acme_client_t *c, enum acme_account_mode mode);

/* The account URL ("kid") once there is an account, else NULL. Borrowed. */
const char *acme_client_account_url(const acme_client_t *c);

/* Obtains a certificate for names[0..n) (borrowed; each acme_name_ok, at
 * most ACME_MAX_NAMES) with the DER CSR csr[0..csr_len) (borrowed; it
 * should ask for the same names), and reads the chain into *chain
 * (caller's storage; on success the caller frees it with
 * acme_chain_free). Finds or creates the account first if
 * acme_client_account was not called. Errors: ZL_EINVAL (names or CSR),
 * ZL_ETIMEOUT (the deadline passed), ZL_EPROTO (a problem document, an
 * invalid authorization or order, or a response that breaks RFC 8555),
 * an error set_txt returned, and the errors of acme_client_account;
 * acme_client_error says more. */
int acme_client_order(acme_client_t *c, const char *const *names, size_t n, const uint8_t *csr,
                      size_t csr_len, acme_chain_t *chain);

/* The URL of the last order placed, or NULL. Borrowed. */
const char *acme_client_order_url(const acme_client_t *c);

/* One line about the last failure ("" after a success). Borrowed. */
const char *acme_client_error(const acme_client_t *c);

/* Counters since the client was made, for logs and figures. */
typedef struct acme_stats {
    unsigned requests;    /* HTTP requests sent */
    unsigned connections; /* TCP connections opened */
    unsigned bad_nonces;  /* badNonce errors retried */
    unsigned polls;       /* waits while polling */
} acme_stats_t;

/* Copies c's counters into *s. */
void acme_client_stats(const acme_client_t *c, acme_stats_t *s);

#endif
