/* Server log lines on stderr, one write per line so that lines from
 * several threads never interleave. Never called per query unless
 * --log-queries asked for it. */
#ifndef ZL_UNIKERNEL_LOG_H
#define ZL_UNIKERNEL_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/name.h"
#include "zone/zone.h"

/* "zonelet: " + the formatted message + newline. */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line as is (no prefix), for `file:line: message` reports. */
void srv_log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One --log-queries line: client, protocol, query name, type, class
 * (query[0..len) is borrowed; malformed queries are logged as such). */
void srv_log_query(const struct sockaddr *client, int tcp, const uint8_t *query, size_t len);

/* Writes "ADDR:PORT" / "[ADDR]:PORT" of sa into buf. */
void srv_addr_text(const struct sockaddr *sa, char *buf, size_t cap);

/* "key NAME from ADDR" ("unsigned from ADDR" when key is NULL), for
 * log lines and commit messages naming who asked for a change. */
#define SRV_WHO_MAX (DNS_NAME_TEXT_MAX + 80)
struct srv_client;
void srv_log_who(const uint8_t *key, const struct srv_client *client, char *buf, size_t cap);

/* "zonelet: ZONE: " + the formatted message (origin in text form). */
void srv_log_zone(const uint8_t *origin, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The problems of one file as it loads, logged like `zonelet check`
 * prints them (`file:line: error: ...`, `... warning: ...`). A zone with
 * many occluded records would flood the log at every reload: the first
 * SRV_LOAD_WARN_MAX warnings are logged, the rest counted and summed up
 * by srv_load_report_end. Use srv_load_report as a zone_report_t's fn
 * with a srv_load_report_t as its ctx. */
#define SRV_LOAD_WARN_MAX 20
typedef struct srv_load_report {
    const char *path;      /* the file's name when the parser gives none */
    size_t warnings;
} srv_load_report_t;
void srv_load_report(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                     const char *msg);
void srv_load_report_end(const srv_load_report_t *lr);

#endif
