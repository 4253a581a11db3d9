#include "unikernel/log.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "unikernel/process.h"

static void log_write(const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s", prefix);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* One write() per line: stderr lines from several threads stay whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void srv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write("zonelet: ", fmt, ap);
    va_end(ap);
}

void srv_log_raw(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write("", fmt, ap);
    va_end(ap);
}

void srv_log_query(const struct sockaddr *client, int tcp, const uint8_t *query, size_t len)
{
    char from[64], name[DNS_NAME_TEXT_MAX];
    uint8_t qname[DNS_NAME_MAX];
    dns_wire_t w;
    srv_addr_text(client, from, sizeof from);
    dns_wire_init_ro(&w, query, len);
    dns_wire_skip(&w, 4);
    uint16_t qdcount = dns_wire_u16(&w);
    dns_wire_skip(&w, 6);
    if (qdcount == 0 || dns_name_parse(&w, qname) < 0 || !dns_wire_ok(&w) ||
        dns_name_to_text(qname, name, sizeof name) < 0) {
        srv_log("query from %s over %s: malformed (%zu bytes)", from, tcp ? "tcp" : "udp", len);
        return;
    }
    char type[16], cls[16];
    uint16_t qtype = dns_wire_u16(&w), qclass = dns_wire_u16(&w);
    if (dns_type_to_text(qtype, type, sizeof type) < 0)
        snprintf(type, sizeof type, "TYPE%u", qtype);
    if (dns_class_to_text(qclass, cls, sizeof cls) < 0)
        snprintf(cls, sizeof cls, "CLASS%u", qclass);
    srv_log("query from %s over %s: %s %s %s", from, tcp ? "tcp" : "udp", name, cls, type);
}

void srv_log_who(const uint8_t *key, const struct srv_client *client, char *buf, size_t cap)
{
    char addr[INET6_ADDRSTRLEN] = "?", name[DNS_NAME_TEXT_MAX];
    if (client && client->family == 4)
        inet_ntop(AF_INET, client->addr, addr, sizeof addr);
    else if (client && client->family == 6)
        inet_ntop(AF_INET6, client->addr, addr, sizeof addr);
    if (key && dns_name_to_text(key, name, sizeof name) > 0)
        snprintf(buf, cap, "key %s from %s", name, addr);
    else
        snprintf(buf, cap, "unsigned from %s", addr);
}

void srv_log_zone(const uint8_t *origin, const char *fmt, ...)
{
    char zone[DNS_NAME_TEXT_MAX], prefix[DNS_NAME_TEXT_MAX + 16];
    if (dns_name_to_text(origin, zone, sizeof zone) < 0)
        strcpy(zone, "?");
    size_t n = strlen(zone);
    if (n > 1 && zone[n - 1] == '.')
        zone[n - 1] = '\0';
    snprintf(prefix, sizeof prefix, "zonelet: %s: ", zone);
    va_list ap;
    va_start(ap, fmt);
    log_write(prefix, fmt, ap);
    va_end(ap);
}

void srv_addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
        snprintf(buf, cap, "[%s]:%u", host, ntohs(a6->sin6_port));
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
        snprintf(buf, cap, "%s:%u", host, ntohs(a4->sin_port));
    } else {
        snprintf(buf, cap, "?");
    }
}

void srv_load_report(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                     const char *msg)
{
    srv_load_report_t *lr = ctx;
    const char *path = file ? file : lr->path;
    const char *what = sev == ZONE_WARNING ? "warning" : "error";
    if (sev == ZONE_WARNING && lr->warnings++ >= SRV_LOAD_WARN_MAX)
        return;
    if (line)
        srv_log_raw("%s:%u: %s: %s", path, line, what, msg);
    else
        srv_log_raw("%s: %s: %s", path, what, msg);
}

void srv_load_report_end(const srv_load_report_t *lr)
{
    if (lr->warnings > SRV_LOAD_WARN_MAX)
        srv_log_raw("%s: %zu more warnings (zonelet check %s lists them all)", lr->path,
                    lr->warnings - SRV_LOAD_WARN_MAX, lr->path);
}
