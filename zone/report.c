#include <stdarg.h>
#include <stdio.h>

#include "zone/zone.h"

void zone_reportf(const zone_report_t *rep, zone_severity_t sev, const char *file,
                  unsigned line, const char *fmt, ...)
{
    if (!rep || !rep->fn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rep->fn(rep->ctx, sev, file, line, msg);
}
