/*  lot_log - log lines in the course format  */
#include "lot_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static atomic_int s_level = LOT_LOG_INFO;
static __thread bool s_held;

static const struct {
    const char *name;
    lot_log_level_t level;
} s_levels [] = {
    { "DEBUG", LOT_LOG_DEBUG },
    { "INFO", LOT_LOG_INFO },
    { "WARNING", LOT_LOG_WARNING },
    { "ERROR", LOT_LOG_ERROR },
    { "CRITICAL", LOT_LOG_CRITICAL },
};

int
lot_log_level_parse (const char *name, lot_log_level_t *level)
{
    for (size_t i = 0; i < sizeof s_levels / sizeof s_levels [0]; i++)
        if (strcasecmp (name, s_levels [i].name) == 0) {
            *level = s_levels [i].level;
            return 0;
        }
    return -1;
}

const char *
lot_log_level_name (lot_log_level_t level)
{
    for (size_t i = 0; i < sizeof s_levels / sizeof s_levels [0]; i++)
        if (s_levels [i].level == level)
            return s_levels [i].name;
    return "INFO";
}

void
lot_log_set_level (lot_log_level_t level)
{
    atomic_store (&s_level, level);
}

bool
lot_log_enabled (lot_log_level_t level)
{
    return (int) level >= atomic_load (&s_level);
}

void
lot_log (lot_log_level_t level, const char *format, ...)
{
    if (!lot_log_enabled (level))
        return;
    char line [4096];
    //  The time zone conversion costs more than the rest of a line: each
    //  thread converts once a second
    static __thread time_t stamped = -1;
    static __thread char stamp [32];
    static __thread size_t stamp_size;
    time_t now = time (NULL);
    if (now != stamped) {
        struct tm tm;
        localtime_r (&now, &tm);
        stamp_size = strftime (stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S ", &tm);
        stamped = now;
    }
    memcpy (line, stamp, stamp_size);
    size_t size = stamp_size;
    size += snprintf (line + size, sizeof line - size, "%-8s ",
                      lot_log_level_name (level));
    va_list args;
    va_start (args, format);
    int body = vsnprintf (line + size, sizeof line - size - 1, format, args);
    va_end (args);
    if (body < 0)
        body = 0;
    size += (size_t) body;
    if (size > sizeof line - 2)
        size = sizeof line - 2;     //  Truncated, but still one whole line
    line [size++] = '\n';
    fwrite (line, 1, size, stdout);
    if (!s_held)
        fflush (stdout);
}

void
lot_log_hold (void)
{
    s_held = true;
}

void
lot_log_release (void)
{
    s_held = false;
    fflush (stdout);
}

void
lot_log_printable (const char *text, size_t size, char *out, size_t capacity)
{
    size_t kept = size < capacity - 1 ? size : capacity - 1;
    for (size_t i = 0; i < kept; i++) {
        char c = text [i];
        out [i] = (unsigned char) c < 0x20 || c == 0x7F || c == '|' ? '?' : c;
    }
    out [kept] = 0;
}
