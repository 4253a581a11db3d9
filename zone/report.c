#include <stdarg.h>
#include <stdio.h>

#include "zone/zone.h"

void zone_reportf(const zone_report_t *rep, const char *file, unsigned line,
                  const char *fmt, ...)
{
    if (!rep || !rep->fn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rep->fn(rep->ctx, file, line, msg);
}
