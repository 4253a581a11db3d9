#include "dns/err.h"

const char *zl_strerror(int err)
{
    static const char *const msg[] = {
        [0] = "success",
        [-ZL_ENOMEM] = "out of memory",
        [-ZL_ESPACE] = "no space in buffer",
        [-ZL_EMALF] = "malformed data",
        [-ZL_ELABEL] = "bad label",
        [-ZL_ENAMELEN] = "name too long",
        [-ZL_ELOOP] = "compression loop or forward pointer",
        [-ZL_ESYNTAX] = "syntax error",
        [-ZL_ETYPE] = "unknown type or class",
        [-ZL_ERANGE] = "value out of range",
        [-ZL_EFORMAT] = "bad message format",
        [-ZL_EZONE] = "zone content error",
        [-ZL_EIO] = "I/O error",
        [-ZL_ENOTFOUND] = "not found",
        [-ZL_EINVAL] = "invalid argument",
        [-ZL_EDENIED] = "permission denied",
        [-ZL_ECONFLICT] = "conflict: the store moved on",
        [-ZL_ETIMEOUT] = "timed out",
        [-ZL_EBADSIG] = "bad signature",
        [-ZL_ECRYPTO] = "cryptographic failure",
        [-ZL_EPROTO] = "protocol error",
    };
    if (err > 0 || err <= ZL_ELAST)
        return "unknown error";
    return msg[-err];
}
