/*  lot_fail - how the load generator says what failed  */
#include "lot_fail.h"

#include <stdarg.h>
#include <stdio.h>

int
lot_fail (unsigned agency, const char *format, ...)
{
    fputs ("loadgen: FAIL: ", stderr);
    if (agency)
        fprintf (stderr, "agency %u: ", agency);
    va_list args;
    va_start (args, format);
    vfprintf (stderr, format, args);
    va_end (args);
    fputc ('\n', stderr);
    return -1;
}
