/* zonelet error values: ZL_OK is 0, errors are negative.
 * DNS RCODEs are data carried in replies, never these values. */
#ifndef ZL_DNS_ERR_H
#define ZL_DNS_ERR_H

enum zl_err {
    ZL_OK = 0,
    ZL_ENOMEM = -1,     /* allocation failed */
    ZL_ESPACE = -2,     /* output buffer too small */
    ZL_EMALF = -3,      /* malformed wire data (truncated, bad length) */
    ZL_ELABEL = -4,     /* label longer than 63 octets or bad label type */
    ZL_ENAMELEN = -5,   /* name longer than 255 octets */
    ZL_ELOOP = -6,      /* compression loop or forward pointer */
    ZL_ESYNTAX = -7,    /* presentation-format syntax error */
    ZL_ETYPE = -8,      /* unknown RR type or class mnemonic */
    ZL_ERANGE = -9,     /* number out of range */
    ZL_EFORMAT = -10,   /* message structure error (OPT misplaced, counts) */
    ZL_EZONE = -11,     /* zone content violates a rule (validation) */
    ZL_EIO = -12,       /* file could not be read */
    ZL_ENOTFOUND = -13, /* no such name, zone or key */
    ZL_EINVAL = -14,    /* invalid argument */
    ZL_EDENIED = -15,   /* not permitted (key, ACL) */
    ZL_ECONFLICT = -16, /* the store moved on (git push rejected as non-fast-forward) */
    ZL_ETIMEOUT = -17,  /* an operation did not finish in time */
    ZL_EBADSIG = -18,   /* a signature or MAC does not verify */
    ZL_ECRYPTO = -19,   /* a cryptographic library call failed */
    ZL_EPROTO = -20,    /* a peer broke its protocol (HTTP, ACME, git) */
    ZL_ELAST = -21
};

/* Human-readable text for an error value; never NULL. */
const char *zl_strerror(int err);

#endif
